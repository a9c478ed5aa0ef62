import * as http from 'node:http';
import * as https from 'node:https';

export interface ClientOptions {
  endpoint: string;
  token?: string;
  /** Accept a self-signed server certificate (https endpoints). */
  insecure?: boolean;
}

/** An error the API answered with (4xx/5xx), carrying its message. */
export class ApiError extends Error {
  constructor(readonly status: number, message: string) { super(message); this.name = 'ApiError'; }
}

/** A small REST + SSE client for the Tapio API (what tapio-cli and the tests use). */
export class ApiClient {
  private readonly base: URL;

  constructor(private readonly o: ClientOptions) {
    const withScheme = /^https?:\/\//.test(o.endpoint) ? o.endpoint : `http://${o.endpoint}`;
    this.base = new URL(withScheme);
  }

  private request(pathAndQuery: string, accept = 'application/json'): http.ClientRequest {
    const url = new URL(pathAndQuery, this.base);
    const mod = url.protocol === 'https:' ? https : http;
    const headers: Record<string, string> = { accept };
    if (this.o.token) headers.authorization = `Bearer ${this.o.token}`;
    return mod.get(url, { headers, rejectUnauthorized: !this.o.insecure });
  }

  get<T = any>(pathAndQuery: string): Promise<T> {
    return new Promise((resolve, reject) => {
      const req = this.request(pathAndQuery);
      req.on('response', (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => { text += c; });
        res.on('end', () => {
          let body: any;
          try { body = JSON.parse(text); } catch { return reject(new ApiError(res.statusCode ?? 0, `the API answered ${res.statusCode} with non-JSON: ${text.slice(0, 200)}`)); }
          if ((res.statusCode ?? 500) >= 400) return reject(new ApiError(res.statusCode ?? 0, body?.error ?? `HTTP ${res.statusCode}`));
          resolve(body as T);
        });
      });
      req.on('error', (err) => reject(new ApiError(0, `cannot reach the Tapio API at ${this.base.origin}: ${err.message}`)));
    });
  }

  /**
   * Follows an SSE stream, calling onMessage per message, until the signal aborts (resolves) or
   * the server ends the stream (rejects, so the caller can tell).
   */
  stream(pathAndQuery: string, onMessage: (event: string, data: any) => void, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      const req = this.request(pathAndQuery, 'text/event-stream');
      signal?.addEventListener('abort', () => { req.destroy(); resolve(); }, { once: true });
      req.on('response', (res) => {
        if ((res.statusCode ?? 500) >= 400) {
          let text = '';
          res.on('data', (c) => { text += c; });
          res.on('end', () => { let msg = text; try { msg = JSON.parse(text).error; } catch { /* keep text */ } reject(new ApiError(res.statusCode ?? 0, msg)); });
          return;
        }
        let buf = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          buf += chunk;
          let i: number;
          while ((i = buf.indexOf('\n\n')) >= 0) {
            const block = buf.slice(0, i);
            buf = buf.slice(i + 2);
            let event = 'message';
            let data = '';
            for (const line of block.split('\n')) {
              if (line.startsWith('event: ')) event = line.slice(7);
              else if (line.startsWith('data: ')) data += line.slice(6);
            }
            if (data) onMessage(event, JSON.parse(data));
          }
        });
        res.on('end', () => { if (!signal?.aborted) reject(new ApiError(0, 'the server closed the stream')); });
      });
      req.on('error', (err) => { if (!signal?.aborted) reject(new ApiError(0, `cannot reach the Tapio API at ${this.base.origin}: ${err.message}`)); });
    });
  }
}
