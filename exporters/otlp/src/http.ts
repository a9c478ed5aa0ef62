import * as http from 'node:http';
import * as https from 'node:https';
import { createSendingExporter, tlsOptionsSource, parseDuration, PermanentError, resolveClientAuthenticator, RetryableError, type ClientAuthenticator, type ClientTlsOptions, type ComponentContext, type Exporter } from '@tapio/core';
import { otlpProfile, protoToJson, SIGNAL_INFO, type OtlpSignal } from '@tapio/receiver-otlp';
import { agentOptions, HttpsExporterAgent } from './agent';
import { createCompressor, type Compressor } from './compression';
import type { OtlpHttpExporterConfig } from './config';
import { CookieJar } from './cookies';
import { HTTP_OR_HTTPS, proxyFromEnvironment } from './proxy-env';
import { proxyAuthorization, proxyServerName } from './tunnel';
import { notePartialSuccess, oneSignalPerBatch, preparedRequests, readPartialSuccess, type SignalRequest } from './signals';

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
  // proxy_url, else HTTP(S)_PROXY / NO_PROXY as Go reads them. An http:// endpoint through a
  // proxy: requests go to the proxy in absolute-form (https ones tunnel, see agent.ts)
  const configured = cfg.proxy_url ? new URL(cfg.proxy_url) : undefined;
  const proxies = {} as Record<OtlpSignal, URL | undefined>;
  const proxyFor = (target: URL | { protocol: string; hostname: string; port: string }) => configured ?? proxyFromEnvironment(target, process.env, HTTP_OR_HTTPS);
  for (const signal of Object.keys(urls) as OtlpSignal[]) proxies[signal] = proxyFor(urls[signal]);
  const tunnelFor = (hostname: string, port: string) => proxyFor({ protocol: 'https:', hostname, port });
  const jar = cfg.cookies?.enabled ? new CookieJar() : undefined;
  let options: http.AgentOptions | undefined;
  let tlsNow: (() => ClientTlsOptions) | undefined;
  let plainAgent: http.Agent | undefined;
  let tlsAgent: HttpsExporterAgent | undefined;
  /** http targets through an https:// proxy: TLS to the proxy, then absolute-form requests. */
  let proxyTlsAgent: https.Agent | undefined;
  let auth: ClientAuthenticator | undefined;
  let compressor: Compressor | undefined;
  const contentType = cfg.encoding === 'json' ? 'application/json' : 'application/x-protobuf';

  async function post(req: SignalRequest): Promise<void> {
    req.retain();
    try {
      await postBody(req);
    } finally {
      req.release(); // the request ended: the socket is done with the body
    }
  }

  async function postBody(req: SignalRequest): Promise<void> {
    let body: Buffer = req.body;
    if (cfg.encoding === 'json') body = Buffer.from(JSON.stringify(protoToJson(SIGNAL_INFO[req.signal].request, body)));
    let headers: Record<string, string | number> = { ...cfg.headers, ...auth?.requestHeaders(), 'Content-Type': contentType };
    if (compressor) { body = await compressor.compress(body); headers['Content-Encoding'] = compressor.encoding; }
    headers['Content-Length'] = body.length;
    // Node's agent still asks for keep-alive when maxSockets is finite, whatever its keepAlive says
    if (cfg.disable_keep_alives) headers.Connection = 'close';
    // `timeout` bounds the whole attempt (redirects included), as Go's http.Client.Timeout
    const deadline = timeoutMs > 0 ? Date.now() + timeoutMs : 0;
    const t0 = otlpProfile.enabled ? process.hrtime.bigint() : 0n;
    let url = urls[req.signal];
    let answer: Answer;
    for (let redirects = 0; ; redirects++) {
      const viaProxy = url === urls[req.signal] ? proxies[req.signal] : proxyFor(url);
      answer = await exchange(url, viaProxy, headers, body, deadline);
      // 307 / 308 keep the method and body (Go's client follows them, up to 10)
      if ((answer.status !== 307 && answer.status !== 308) || !answer.location || redirects === MAX_REDIRECTS) break;
      const next = new URL(answer.location, url);
      if (next.protocol !== 'http:' && next.protocol !== 'https:') break;
      // as Go: credentials do not follow a redirect to another host
      if (next.host !== url.host) headers = withoutCredentials(headers);
      url = next;
    }
    if (otlpProfile.enabled) otlpProfile.sendNs += Number(process.hrtime.bigint() - t0);
    const { status, retryAfter, response } = answer;
    if (status >= 200 && status < 300) {
      readPartialSuccessAnswer(req.signal, answer);
      return;
    }
    const text = describe(response);
    const message = `OTLP/HTTP export to ${url.href} failed: HTTP ${status}${text ? ` ${text}` : ''}`;
    if (RETRYABLE.has(status)) throw new RetryableError(message, { retryAfterMs: parseRetryAfter(retryAfter) });
    throw new PermanentError(message);
  }

  /** One request and its whole answer. */
  function exchange(url: URL, viaProxy: URL | undefined, headers: Record<string, string | number>, body: Buffer, deadline: number): Promise<Answer> {
    const secure = url.protocol === 'https:';
    const agent = agentFor(secure);
    const cookie = jar?.header(url.host);
    const sent = cookie ? { ...headers, Cookie: cookie } : headers;
    // through a proxy (http targets): the request goes to the proxy with the absolute URL as its
    // path (https targets tunnel inside the agent); over TLS when the proxy is https://
    const absoluteForm = viaProxy && !secure;
    const tlsToProxy = absoluteForm && viaProxy.protocol === 'https:';
    const [to, extra] = absoluteForm
      ? [new URL(viaProxy.origin), { path: url.href, headers: { ...sent, Host: url.host, ...proxyAuthorization(viaProxy) }, ...(tlsToProxy ? { servername: proxyServerName(viaProxy) } : {}) }]
      : [url, { headers: sent }];
    const via = tlsToProxy ? (proxyTlsAgent ??= new https.Agent({ ...options, ...tlsNow!() })) : agent;
    return new Promise<Answer>((resolve, reject) => {
      const r = (secure || tlsToProxy ? https : http).request(to, { ...extra, method: 'POST', agent: via }, (res) => {
        jar?.store(url.host, res.headers['set-cookie']);
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => { size += c.length; if (size <= 4 * 1024 * 1024) chunks.push(c); });
        res.on('end', () => {
          clearTimeout(timer);
          resolve({ status: res.statusCode ?? 0, retryAfter: res.headers['retry-after'], location: res.headers.location, contentType: res.headers['content-type'], response: Buffer.concat(chunks) });
        });
        res.on('error', reject);
      });
      const timer = deadline ? setTimeout(() => r.destroy(new Error(`timed out after ${timeoutMs} ms`)), Math.max(0, deadline - Date.now())) : undefined;
      r.on('error', (err) => { clearTimeout(timer); reject(new RetryableError(`OTLP/HTTP export to ${url.href} failed: ${err.message}`)); });
      r.end(body);
    });
  }

  /**
   * A 2xx answer's partial success, read as its Content-Type says (protobuf or JSON); any other
   * body (a proxy's "OK") is ignored, as the Collector does. The data was accepted either way:
   * an unreadable body is logged, never a reason to count delivered data as dropped.
   */
  function readPartialSuccessAnswer(signal: OtlpSignal, answer: Answer): void {
    if (!answer.response.length) return;
    const type = String(answer.contentType ?? '').split(';')[0]!.trim().toLowerCase();
    try {
      if (type === 'application/json') {
        const ps = safeJson(answer.response)?.partialSuccess as Record<string, unknown> | undefined;
        if (ps) notePartialSuccess(ctx, Number(ps[SIGNAL_INFO[signal].rejectedField] ?? 0), String(ps.errorMessage ?? ''));
      } else if (type === 'application/x-protobuf') {
        const { rejected, message } = readPartialSuccess(answer.response);
        notePartialSuccess(ctx, rejected, message);
      }
    } catch (err) {
      ctx.logger.warn({ err: (err as Error).message }, 'the backend accepted the export but its answer could not be read');
    }
  }

  /** One agent per scheme, made when first needed: each signal's URL (and a redirect's) is http or https on its own. */
  function agentFor(secure: boolean): http.Agent {
    if (!options) throw new RetryableError('exporter not started');
    if (secure) return tlsAgent ??= new HttpsExporterAgent(options, tlsNow!, tunnelFor);
    return plainAgent ??= new http.Agent(options);
  }

  return oneSignalPerBatch(createSendingExporter(ctx, {
    timeoutMs: 0, // the request timeout is the per-attempt timeout
    retry: cfg.retry_on_failure,
    queue: cfg.sending_queue,
    batcher: cfg.batcher,
    async start(host) {
      auth = resolveClientAuthenticator(host, cfg.auth, 'auth');
      compressor = await createCompressor(cfg.compression, cfg.compression_params?.level);
      options = agentOptions(cfg);
      tlsNow = tlsOptionsSource(cfg.tls, (err) => ctx.logger.warn({ err: err.message }, 'TLS files could not be read again; keeping the previous ones'));
      // make the agents of the schemes in use now: a TLS file that cannot be read fails the start
      for (const scheme of new Set(Object.values(urls).map((u) => u.protocol))) agentFor(scheme === 'https:');
    },
    async shutdown() {
      plainAgent?.destroy(); tlsAgent?.destroy(); proxyTlsAgent?.destroy();
      plainAgent = tlsAgent = proxyTlsAgent = undefined;
      options = undefined;
    },
    prepare: (batch) => preparedRequests(batch, (r) => {
      if (!options) throw new RetryableError('exporter not started');
      return post(r);
    }),
  }));
}

interface Answer { status: number; retryAfter?: string; location?: string; contentType?: string; response: Buffer }

const MAX_REDIRECTS = 10;

/** Headers without the ones Go's client drops on a redirect to another host. */
function withoutCredentials(headers: Record<string, string | number>): Record<string, string | number> {
  const out: Record<string, string | number> = {};
  for (const [k, v] of Object.entries(headers)) if (!CREDENTIAL_HEADERS.has(k.toLowerCase())) out[k] = v;
  return out;
}

const CREDENTIAL_HEADERS = new Set(['authorization', 'www-authenticate', 'cookie', 'cookie2']);

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
