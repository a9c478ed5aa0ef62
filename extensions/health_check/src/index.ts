import type * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  authenticateRequest, createHttpServer, defineExtension, enforceWriteTimeout, originPattern, parseDuration, resolveServerAuthenticator, listenHost, splitHostPort, STATUS_SERVICE,
  type ComponentStatusEntry, type Host, type ServerAuthenticator, type StatusSource,
} from '@tapio/core';
import { configProblems, configSchema, createDefaultConfig, type HealthCheckConfig } from './config';

export { configSchema, createDefaultConfig };
export type { HealthCheckConfig };

export interface HealthReport {
  status: 'Server available' | 'Server not available';
  phase: ReturnType<StatusSource['phase']> | 'unknown';
  upSince: string;
  uptime: string;
  /** Components in an error state, by id, with their error. */
  failed: Record<string, { status: string; error?: string; since: string }>;
  components: Record<string, ComponentStatusEntry>;
}

/** Where each running health_check instance listens (`health_check` → `127.0.0.1:13133`); for tests and tooling. */
export const listeningAddresses = new Map<string, string>();

/** The health verdict: healthy only when every pipeline runs and no component failed. */
export function healthReport(status: StatusSource | undefined, startedAt: Date, includeRecoverable: boolean): { healthy: boolean; body: HealthReport } {
  const components = status?.components() ?? {};
  const failed: HealthReport['failed'] = {};
  for (const [id, c] of Object.entries(components)) {
    if (c.status === 'permanent_error' || c.status === 'recoverable_error') failed[id] = { status: c.status, error: c.error, since: c.since };
  }
  const blocking = Object.values(failed).some((f) => f.status === 'permanent_error' || includeRecoverable);
  const healthy = !!status && status.ready() && !blocking;
  const uptimeS = Math.round((Date.now() - startedAt.getTime()) / 1000);
  return {
    healthy,
    body: {
      status: healthy ? 'Server available' : 'Server not available',
      phase: status?.phase() ?? 'unknown',
      upSince: startedAt.toISOString(),
      uptime: `${uptimeS}s`,
      failed,
      components,
    },
  };
}

/**
 * As Go's http.ServeMux, which the Collector registers `path` with: a path ending in '/' answers
 * everything under it (the default '/' answers every path, so a probe at /healthz works), any
 * other answers only itself.
 */
export function pathMatches(configured: string, requested: string): boolean {
  return configured.endsWith('/') ? requested.startsWith(configured) : requested === configured;
}

export default defineExtension<HealthCheckConfig>({
  type: 'health_check',
  stability: 'beta',
  configSchema,
  createDefaultConfig,
  validate: configProblems,
  create(ctx, config) {
    let server: http.Server | undefined;
    let stopTls = (): void => undefined;
    let status: StatusSource | undefined;
    let authenticator: ServerAuthenticator | undefined;
    const startedAt = new Date();
    const origins = (config.cors?.allowed_origins ?? []).map(originPattern);
    const writeTimeoutMs = config.write_timeout ? parseDuration(config.write_timeout) : 0;

    const answer = (req: http.IncomingMessage, res: http.ServerResponse): void => {
      const url = new URL(req.url ?? '/', 'http://x');
      if (!pathMatches(config.path, url.pathname)) { res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n'); return; }
      if (req.method !== 'GET' && req.method !== 'HEAD') { res.writeHead(405, { allow: 'GET, HEAD' }).end(); return; }
      const { healthy, body } = healthReport(status, startedAt, config.include_recoverable);
      const custom = healthy ? config.response_body?.healthy : config.response_body?.unhealthy;
      const text = custom ?? JSON.stringify(body);
      const type = custom !== undefined ? 'text/plain; charset=utf-8' : 'application/json';
      res.writeHead(healthy ? 200 : 503, { 'content-type': type, 'cache-control': 'no-store', 'content-length': Buffer.byteLength(text) });
      res.end(req.method === 'HEAD' ? undefined : text);
    };

    const handle = (req: http.IncomingMessage, res: http.ServerResponse): void => {
      enforceWriteTimeout(req, res, writeTimeoutMs);
      const extra = config.response_headers;
      if (extra) for (const name of Object.keys(extra)) res.setHeader(name, extra[name]!);
      const origin = req.headers.origin;
      if (origin !== undefined && origins.some((re) => re.test(origin))) {
        res.setHeader('Access-Control-Allow-Origin', origin);
        res.setHeader('Vary', 'Origin');
        if (req.method === 'OPTIONS') {
          res.setHeader('Access-Control-Allow-Methods', 'GET, HEAD');
          const requested = req.headers['access-control-request-headers'];
          const allowed = (config.cors?.allowed_headers ?? []).map((h) => h.toLowerCase());
          if (requested) res.setHeader('Access-Control-Allow-Headers', allowed.includes('*') ? requested : allowed.join(', '));
          if (config.cors?.max_age !== undefined) res.setHeader('Access-Control-Max-Age', String(config.cors.max_age));
          res.writeHead(204).end();
          return;
        }
      }
      if (!authenticator) { answer(req, res); return; }
      authenticateRequest(authenticator, req.headers, () => answer(req, res), (reason) => {
        res.writeHead(401, { 'content-type': 'text/plain; charset=utf-8' }).end(`${reason}\n`);
      });
    };

    return {
      async start(host: Host) {
        status = host.getService<StatusSource>(STATUS_SERVICE);
        if (!status) ctx.logger.warn('no collector status service; health_check will answer 503');
        if (config.auth) authenticator = resolveServerAuthenticator(host, config.auth, 'auth');
        const { host: bindHost, port } = splitHostPort(config.endpoint);
        const created = createHttpServer(config, handle, ctx.logger);
        const s = created.server;
        await new Promise<void>((resolve, reject) => {
          s.once('error', (err) => reject(new Error(`health_check cannot listen on ${config.endpoint}: ${err.message}`)));
          s.listen(port, listenHost(bindHost), () => resolve());
        });
        server = s;
        stopTls = created.stop;
        const a = s.address() as AddressInfo;
        const address = `${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port}`;
        listeningAddresses.set(ctx.id, address);
        ctx.logger.info({ address, path: config.path, tls: !!config.tls }, 'health_check listening');
      },
      async shutdown() {
        const s = server;
        server = undefined;
        stopTls();
        listeningAddresses.delete(ctx.id);
        if (!s) return;
        await new Promise<void>((resolve) => { s.close(() => resolve()); s.closeAllConnections(); });
      },
    };
  },
});
