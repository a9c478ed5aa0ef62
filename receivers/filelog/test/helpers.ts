import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Consumer, StorageClient, StorageExtension, StorageOp } from '@tapio/core';
import { SinkConsumer, testContext, testHost, validConfig } from '@tapio/core/testing';
import factory, { FilelogReceiver, type FilelogConfig } from '../src/index';

/** TEST DOUBLE of the file_storage extension's client: a Map, optionally mirrored to a JSON file. */
export class TestStorageClient implements StorageClient {
  readonly data = new Map<string, Buffer>();
  constructor(private readonly file?: string) {
    if (file && fs.existsSync(file)) {
      const obj = JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, string>;
      for (const [k, v] of Object.entries(obj)) this.data.set(k, Buffer.from(v, 'base64'));
    }
  }
  private persist(): void {
    if (!this.file) return;
    const obj: Record<string, string> = {};
    for (const [k, v] of this.data) obj[k] = v.toString('base64');
    // Write-then-rename: the file is always either the old or the new state (crash-safe).
    const tmp = this.file + '.tmp';
    fs.writeFileSync(tmp, JSON.stringify(obj));
    fs.renameSync(tmp, this.file);
  }
  async get(key: string): Promise<Buffer | undefined> { return this.data.get(key); }
  async set(key: string, value: Buffer | Uint8Array): Promise<void> { this.data.set(key, Buffer.from(value)); this.persist(); }
  async delete(key: string): Promise<void> { this.data.delete(key); this.persist(); }
  async batch(ops: StorageOp[]): Promise<void> {
    for (const op of ops) if (op.type === 'set') this.data.set(op.key, Buffer.from(op.value)); else this.data.delete(op.key);
    this.persist();
  }
  async keys(prefix = ''): Promise<string[]> { return [...this.data.keys()].filter((k) => k.startsWith(prefix)).sort(); }
  async close(): Promise<void> { /* nothing to release */ }
}

/** TEST DOUBLE of a StorageExtension handing out one shared TestStorageClient. */
export class TestStorageExtension implements StorageExtension {
  constructor(readonly client: TestStorageClient = new TestStorageClient()) {}
  async start(): Promise<void> {}
  async shutdown(): Promise<void> {}
  async getClient(): Promise<StorageClient> { return this.client; }
}

export function tempDir(prefix = 'filelog-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export interface Running {
  receiver: FilelogReceiver;
  sink: SinkConsumer;
  stop(): Promise<void>;
}

/** Starts a receiver with fast polling on a config override; the caller stops it. */
export async function run(overrides: Partial<FilelogConfig> & Record<string, unknown>, opts: { storage?: TestStorageExtension; sink?: SinkConsumer; next?: Consumer } = {}): Promise<Running> {
  const sink = opts.sink ?? new SinkConsumer();
  const cfg = validConfig<FilelogConfig>(factory, { poll_interval: '20ms', start_at: 'beginning', force_flush_period: '100ms', ...overrides, ...(opts.storage ? { storage: 'file_storage' } : {}) });
  const receiver = new FilelogReceiver(testContext('filelog', 'receiver'), cfg, opts.next ?? sink);
  await receiver.start(testHost(opts.storage ? { file_storage: opts.storage } : {}));
  return { receiver, sink, stop: () => receiver.shutdown() };
}

export function bodies(sink: SinkConsumer): string[] {
  return sink.events.map((e) => String(e.log?.body));
}

/** Resolves once `check` is true, polling every 10 ms; rejects with `what` after the timeout. */
export async function until(check: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const t0 = Date.now();
  while (!check()) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
