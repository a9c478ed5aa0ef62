import * as http from 'node:http';
import * as https from 'node:https';
import type { KubeConfig } from '@kubernetes/client-node' with { 'resolution-mode': 'import' };

/**
 * client-node 1.x is an ES module; a dynamic import loads it from this CommonJS package on every
 * Node 20 (require(esm) only exists from 20.19).
 */
async function newKubeConfig(): Promise<KubeConfig> {
  const mod = await import('@kubernetes/client-node');
  return new mod.KubeConfig();
}

export interface ClientSettings {
  /** `kubeConfig` (file/KUBECONFIG/default, falling back to in-cluster) or `serviceAccount` (in-cluster only). */
  auth_type: 'kubeConfig' | 'serviceAccount';
  kubeconfig?: string;
  context?: string;
}

/** An error answer from the API server, with its HTTP code and the Status reason when there is one. */
export class ApiError extends Error {
  constructor(readonly code: number, message: string, readonly reason?: string) { super(message); this.name = 'ApiError'; }
}

/**
 * Requests against the API server. Authentication, TLS and token refresh come from client-node's
 * KubeConfig (`applyToHTTPSOptions` per request, so exec plugins and rotated service-account tokens
 * are picked up); the transport is plain node:http(s) so list and watch can stream, be aborted and
 * report status codes exactly as the protocol needs.
 */
export class KubeApi {
  constructor(readonly kc: KubeConfig) {}

  static async fromSettings(s: ClientSettings): Promise<KubeApi> {
    const kc = await newKubeConfig();
    if (s.auth_type === 'serviceAccount') kc.loadFromCluster();
    else if (s.kubeconfig) kc.loadFromFile(s.kubeconfig);
    else kc.loadFromDefault();
    if (s.context) kc.setCurrentContext(s.context);
    if (!kc.getCurrentCluster()) throw new Error('no Kubernetes cluster configured (kubeconfig has no current cluster)');
    return new KubeApi(kc);
  }

  static async fromKubeconfigText(text: string): Promise<KubeApi> {
    const kc = await newKubeConfig();
    kc.loadFromString(text);
    return new KubeApi(kc);
  }

  get server(): string { return this.kc.getCurrentCluster()!.server; }

  /** Opens a request; resolves with the response once headers arrive. */
  async open(method: string, path: string, query: Record<string, string | undefined>, body?: unknown, signal?: AbortSignal): Promise<http.IncomingMessage> {
    const url = new URL(this.server.replace(/\/$/, '') + path);
    for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== '') url.searchParams.set(k, v);
    const opts: https.RequestOptions = { method, headers: { accept: 'application/json' } };
    await this.kc.applyToHTTPSOptions(opts);
    const isHttps = url.protocol === 'https:';
    // client-node builds an https agent; a plain-HTTP server (tests, kubectl proxy) must not get it.
    if (!isHttps) delete opts.agent;
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    if (payload) (opts.headers as Record<string, string>)['content-type'] = 'application/json';
    return new Promise((resolve, reject) => {
      const req = (isHttps ? https : http).request(url, { ...opts, signal }, resolve);
      req.on('error', reject);
      req.end(payload);
    });
  }

  /** A JSON request; non-2xx answers reject with ApiError carrying the Status message. */
  async json<T>(method: string, path: string, query: Record<string, string | undefined> = {}, body?: unknown, signal?: AbortSignal): Promise<T> {
    const res = await this.open(method, path, query, body, signal);
    const text = await readAll(res);
    if ((res.statusCode ?? 0) >= 300) throw statusError(res.statusCode ?? 0, text);
    return JSON.parse(text) as T;
  }
}

export function statusError(code: number, text: string): ApiError {
  let message = text.slice(0, 300);
  let reason: string | undefined;
  try { const s = JSON.parse(text) as { message?: string; reason?: string }; message = s.message ?? message; reason = s.reason; } catch { /* not a Status */ }
  return new ApiError(code, `HTTP ${code}: ${message}`, reason);
}

export function readAll(res: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    res.on('data', (c: Buffer) => chunks.push(c));
    res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    res.on('error', reject);
  });
}
