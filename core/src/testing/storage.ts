import * as fs from 'node:fs';
import type { StorageClient, StorageExtension, StorageOp } from '../storage';

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
