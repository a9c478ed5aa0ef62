import type { StorageClient } from '@tapio/core';
import { FileReader, type ReaderCheckpoint, type ReaderSettings } from './reader';

/** Storage keys: one per tracked file, so a checkpoint write is one small value. */
const KEY_PREFIX = 'file/';

/** Per-file checkpoints (fingerprint + delivered offset) in a storage extension's client. */
export class Checkpoints {
  constructor(private readonly client: StorageClient, private readonly warn: (message: string) => void) {}

  async save(r: FileReader): Promise<void> {
    try {
      await this.client.set(KEY_PREFIX + r.fileId, Buffer.from(JSON.stringify(r.checkpoint())));
    } catch (err) {
      this.warn(`filelog: checkpoint write failed (offsets not saved): ${(err as Error).message}`);
    }
  }

  async delete(r: FileReader): Promise<void> {
    try {
      await this.client.delete(KEY_PREFIX + r.fileId);
    } catch (err) {
      this.warn(`filelog: checkpoint delete failed: ${(err as Error).message}`);
    }
  }

  /** Readers for every saved file, without handles: the first poll matches them by fingerprint. */
  async load(settings: ReaderSettings): Promise<FileReader[]> {
    const out: FileReader[] = [];
    for (const k of await this.client.keys(KEY_PREFIX)) {
      const raw = await this.client.get(k);
      if (!raw) continue;
      let c: ReaderCheckpoint;
      try { c = JSON.parse(Buffer.from(raw).toString('utf8')) as ReaderCheckpoint; } catch {
        this.warn(`filelog: checkpoint ${k} is not readable; ignoring it`);
        continue;
      }
      const fp = Buffer.from(typeof c.fp === 'string' ? c.fp : '', 'base64');
      if (fp.length === 0 || typeof c.offset !== 'number' || typeof c.fileId !== 'string') continue;
      out.push(new FileReader(c.fileId, fp, String(c.path), c.offset, settings, c.skipping === true));
    }
    return out;
  }

  close(): Promise<void> { return this.client.close(); }
}
