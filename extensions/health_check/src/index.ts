import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { defineExtension, splitHostPort, STATUS_SERVICE, type ComponentStatusEntry, type Host, type StatusSource } from '@tapio/core';

export interface HealthCheckConfig {
  /** host:port to listen on. */
  endpoint: string;
  /** URL path that answers; anything else is 404. */
  path: string;
  /** Also answer 503 while a component reports a recoverable error (e.g. memory_limiter refusing data). */
  include_recoverable: boolean;
}

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

export default defineExtension<HealthCheckConfig>({
  type: 'health_check',
  stability: 'beta',
  configSchema: {
    type: 'object',
    additionalProperties: false,
    properties: {
      endpoint: { type: 'string', minLength: 1, default: 'localhost:13133' },
      path: { type: 'string', pattern: '^/', default: '/' },
      include_recoverable: { type: 'boolean', default: false },
    },
  },
  createDefaultConfig: () => ({ endpoint: 'localhost:13133', path: '/', include_recoverable: false }),
  create(ctx, config) {
    let server: http.Server | undefined;
    let status: StatusSource | undefined;
    const startedAt = new Date();

    const handle = (req: http.IncomingMessage, res: http.ServerResponse): void => {
      const url = new URL(req.url ?? '/', 'http://x');
      if (url.pathname !== config.path) { res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n'); return; }
      if (req.method !== 'GET' && req.method !== 'HEAD') { res.writeHead(405, { allow: 'GET, HEAD' }).end(); return; }
      const { healthy, body } = healthReport(status, startedAt, config.include_recoverable);
      const text = JSON.stringify(body);
      res.writeHead(healthy ? 200 : 503, { 'content-type': 'application/json', 'cache-control': 'no-store', 'content-length': Buffer.byteLength(text) });
      res.end(req.method === 'HEAD' ? undefined : text);
    };

    return {
      async start(host: Host) {
        status = host.getService<StatusSource>(STATUS_SERVICE);
        if (!status) ctx.logger.warn('no collector status service; health_check will answer 503');
        const { host: bindHost, port } = splitHostPort(config.endpoint);
        const s = http.createServer(handle);
        await new Promise<void>((resolve, reject) => {
          s.once('error', (err) => reject(new Error(`health_check cannot listen on ${config.endpoint}: ${err.message}`)));
          s.listen(port, bindHost, () => resolve());
        });
        server = s;
        const a = s.address() as AddressInfo;
        const address = `${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port}`;
        listeningAddresses.set(ctx.id, address);
        ctx.logger.info({ address, path: config.path }, 'health_check listening');
      },
      async shutdown() {
        const s = server;
        server = undefined;
        listeningAddresses.delete(ctx.id);
        if (!s) return;
        await new Promise<void>((resolve) => { s.close(() => resolve()); s.closeAllConnections(); });
      },
    };
  },
});
