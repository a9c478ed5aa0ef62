import * as http from 'node:http';
import * as https from 'node:https';
import { createSendingExporter, tlsOptionsSource, parseDuration, PermanentError, resolveClientAuthenticator, RetryableError, type Batch, type ClientAuthenticator, type ComponentContext, type Exporter } from '@tapio/core';
import { otlpProfile, protoToJson, SIGNAL_INFO, type OtlpSignal } from '@tapio/receiver-otlp';
import { agentOptions, HttpsExporterAgent } from './agent';
import { createCompressor, type Compressor } from './compression';
import type { OtlpHttpExporterConfig } from './config';
import { CookieJar } from './cookies';
import { proxyFromEnvironment } from './proxy-env';
import { proxyAuthorization } from './tunnel';
import { encodeBatch, notePartialSuccess, readPartialSuccess, type SignalRequest } from './signals';

/** HTTP statuses OTLP says to retry (with Retry-After when given); every other failure is permanent. */
const RETRYABLE = new Set([429, 502, 503, 504]);

export function createHttpExporter(ctx: ComponentContext, cfg: OtlpHttpExporterConfig): Exporter {
  const timeoutMs = parseDuration(cfg.timeout);
  const base = cfg.endpoint.replace(/\/+$/, '');
  const urls: Record<OtlpSignal, URL> = {
    traces: new URL(cfg.traces_endpoint ?? base + SIGNAL_INFO.traces.httpPath),
    metrics: new URL(cfg.metrics_endpoint ?? base + SIGNAL_INFO.metrics.httpPath),
    logs: new URL(cfg.logs_endpoint ?? base + SIGNAL_INFO.logs.httpPath),
  };
  // each signal's URL decides http or https for itself: one agent per scheme in use
  const schemes = new Set(Object.values(urls).map((u) => u.protocol));
  // proxy_url, else HTTP(S)_PROXY / NO_PROXY as Go reads them. An http:// endpoint through a
  // proxy: requests go to the proxy in absolute-form (https ones tunnel, see agent.ts)
  const configured = cfg.proxy_url ? new URL(cfg.proxy_url) : undefined;
  const proxies = {} as Record<OtlpSignal, URL | undefined>;
  for (const signal of Object.keys(urls) as OtlpSignal[]) proxies[signal] = configured ?? proxyFromEnvironment(urls[signal]);
  const tunnelFor = (hostname: string, port: string) => configured ?? proxyFromEnvironment({ protocol: 'https:', hostname, port });
  const jar = cfg.cookies?.enabled ? new CookieJar() : undefined;
  let plainAgent: http.Agent | undefined;
  let tlsAgent: HttpsExporterAgent | undefined;
  let auth: ClientAuthenticator | undefined;
  let compressor: Compressor | undefined;
  const contentType = cfg.encoding === 'json' ? 'application/json' : 'application/x-protobuf';

  async function post(req: SignalRequest): Promise<void> {
    try {
      await postBody(req);
    } finally {
      req.release(); // the request ended: the socket is done with the body
    }
  }

  async function postBody(req: SignalRequest): Promise<void> {
    let body: Buffer = req.body;
    if (cfg.encoding === 'json') body = Buffer.from(JSON.stringify(protoToJson(SIGNAL_INFO[req.signal].request, body)));
    const headers: Record<string, string | number> = { ...cfg.headers, ...auth?.requestHeaders(), 'Content-Type': contentType };
    if (compressor) { body = await compressor.compress(body); headers['Content-Encoding'] = compressor.encoding; }
    headers['Content-Length'] = body.length;
    // Node's agent still asks for keep-alive when maxSockets is finite, whatever its keepAlive says
    if (cfg.disable_keep_alives) headers.Connection = 'close';
    const url = urls[req.signal];
    const secure = url.protocol === 'https:';
    const agent = secure ? tlsAgent : plainAgent;
    const cookie = jar?.header(url.host);
    if (cookie) headers.Cookie = cookie;
    // through a proxy: the request goes to the proxy with the absolute URL as its path
    const viaProxy = secure ? undefined : proxies[req.signal];
    const [to, extra] = viaProxy
      ? [new URL(viaProxy.origin), { path: url.href, headers: { ...headers, Host: url.host, ...proxyAuthorization(viaProxy) } }]
      : [url, { headers }];
    const t0 = otlpProfile.enabled ? process.hrtime.bigint() : 0n;
    const { status, retryAfter, response } = await new Promise<{ status: number; retryAfter?: string; response: Buffer }>((resolve, reject) => {
      const r = (secure ? https : http).request(to, { ...extra, method: 'POST', agent, timeout: timeoutMs || undefined }, (res) => {
        jar?.store(url.host, res.headers['set-cookie']);
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => { size += c.length; if (size <= 4 * 1024 * 1024) chunks.push(c); });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, retryAfter: res.headers['retry-after'], response: Buffer.concat(chunks) }));
        res.on('error', reject);
      });
      r.on('timeout', () => r.destroy(new Error(`timed out after ${timeoutMs} ms`)));
      r.on('error', (err) => reject(new RetryableError(`OTLP/HTTP export to ${url.href} failed: ${err.message}`)));
      r.end(body);
    });
    if (otlpProfile.enabled) otlpProfile.sendNs += Number(process.hrtime.bigint() - t0);
    if (status >= 200 && status < 300) {
      const isJson = cfg.encoding === 'json';
      if (isJson) {
        const ps = safeJson(response)?.partialSuccess as Record<string, unknown> | undefined;
        if (ps) notePartialSuccess(ctx, Number(ps[SIGNAL_INFO[req.signal].rejectedField] ?? 0), String(ps.errorMessage ?? ''));
      } else {
        const { rejected, message } = readPartialSuccess(response);
        notePartialSuccess(ctx, rejected, message);
      }
      return;
    }
    const text = describe(response);
    const message = `OTLP/HTTP export to ${url.href} failed: HTTP ${status}${text ? ` ${text}` : ''}`;
    if (RETRYABLE.has(status)) throw new RetryableError(message, { retryAfterMs: parseRetryAfter(retryAfter) });
    throw new PermanentError(message);
  }

  return createSendingExporter(ctx, {
    timeoutMs: 0, // the request timeout is the per-attempt timeout
    retry: cfg.retry_on_failure,
    queue: cfg.sending_queue,
    batcher: cfg.batcher,
    async start(host) {
      auth = resolveClientAuthenticator(host, cfg.auth, 'auth');
      compressor = await createCompressor(cfg.compression, cfg.compression_params?.level);
      const options = agentOptions(cfg);
      if (schemes.has('https:')) tlsAgent = new HttpsExporterAgent(options, tlsOptionsSource(cfg.tls, (err) => ctx.logger.warn({ err: err.message }, 'TLS files could not be read again; keeping the previous ones')), tunnelFor);
      if (schemes.has('http:')) plainAgent = new http.Agent(options);
    },
    async shutdown() {
      plainAgent?.destroy(); tlsAgent?.destroy();
      plainAgent = tlsAgent = undefined;
    },
    async send(batch: Batch) {
      if (!plainAgent && !tlsAgent) throw new RetryableError('exporter not started');
      await Promise.all(encodeBatch(batch.events).map(post));
      if (otlpProfile.enabled) otlpProfile.exported += batch.events.length;
    },
  });
}

function safeJson(b: Buffer): Record<string, unknown> | undefined {
  try { return JSON.parse(b.toString('utf8')) as Record<string, unknown>; } catch { return undefined; }
}

/** A short readable reason from an error body (google.rpc.Status JSON, or text). */
function describe(b: Buffer): string {
  if (!b.length) return '';
  const j = safeJson(b);
  if (j && typeof j.message === 'string') return j.message;
  const s = b.toString('utf8', 0, Math.min(b.length, 200));
  return /^[\x20-\x7e\s]*$/.test(s) ? s : '';
}

/** Retry-After: seconds or an HTTP date. */
export function parseRetryAfter(h: string | undefined): number | undefined {
  if (!h) return undefined;
  if (/^\d+$/.test(h)) return Number(h) * 1000;
  const at = Date.parse(h);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}
