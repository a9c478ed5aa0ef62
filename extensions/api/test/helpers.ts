import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { testContext, validConfig } from '@tapio/core/testing';
import factory, { ApiExtension, type ApiConfig } from '../src/index';

export const TOKEN = 'test-token-0123456789abcdef';

export function tmpDir(prefix = 'tapio-api-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** A started extension on loopback ports 0 with a store under a fresh temp dir. */
export async function startApi(overrides: Record<string, unknown> = {}, dir = tmpDir()): Promise<{ ext: ApiExtension; base: string; grpc: string; dir: string }> {
  const cfg = validConfig<ApiConfig>(factory, {
    http: { endpoint: '127.0.0.1:0' }, grpc: { endpoint: '127.0.0.1:0' },
    storage: { path: path.join(dir, 'tapio.db') },
    ...overrides,
  });
  const ext = new ApiExtension(testContext('tapio_api', 'extension'), cfg);
  await ext.start();
  return { ext, base: ext.httpAddress()!, grpc: ext.grpcAddress()!, dir };
}

export interface JsonResponse { status: number; body: any; headers: http.IncomingHttpHeaders }

export function getJson(url: string, token?: string): Promise<JsonResponse> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { headers: token ? { authorization: `Bearer ${token}` } : {} }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c) => { text += c; });
      res.on('end', () => {
        try { resolve({ status: res.statusCode ?? 0, body: JSON.parse(text), headers: res.headers }); } catch (err) { reject(new Error(`not JSON (${res.statusCode}): ${text.slice(0, 200)}`)); }
      });
    });
    req.on('error', reject);
  });
}

/** An SSE client that collects parsed `data:` messages. `pause()` stops reading the socket. */
export class SseClient {
  readonly messages: { event: string; id: string; data: any }[] = [];
  status = 0;
  private res: http.IncomingMessage | undefined;
  private req!: http.ClientRequest;
  private buf = '';
  readonly ready: Promise<void>;

  constructor(url: string, token?: string, paused = false, headers: Record<string, string> = {}) {
    this.ready = new Promise((resolve, reject) => {
      this.req = http.get(url, { headers: { accept: 'text/event-stream', ...headers, ...(token ? { authorization: `Bearer ${token}` } : {}) } }, (res) => {
        this.res = res;
        this.status = res.statusCode ?? 0;
        if (paused) { res.pause(); resolve(); return; }
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => this.feed(chunk));
        resolve();
      });
      this.req.on('error', (err) => { if (!this.res) reject(err); });
    });
  }

  private feed(chunk: string): void {
    this.buf += chunk;
    let i: number;
    while ((i = this.buf.indexOf('\n\n')) >= 0) {
      const block = this.buf.slice(0, i);
      this.buf = this.buf.slice(i + 2);
      let event = 'message', id = '', data = '';
      for (const line of block.split('\n')) {
        if (line.startsWith('event: ')) event = line.slice(7);
        else if (line.startsWith('id: ')) id = line.slice(4);
        else if (line.startsWith('data: ')) data += line.slice(6);
      }
      if (data) this.messages.push({ event, id, data: JSON.parse(data) });
    }
  }

  async waitFor(n: number, timeoutMs = 10_000): Promise<void> {
    const until = Date.now() + timeoutMs;
    while (this.messages.length < n) {
      if (Date.now() > until) throw new Error(`timed out waiting for ${n} SSE messages (have ${this.messages.length})`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  close(): void { this.req.destroy(); }
}
