import * as fs from 'node:fs';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { DecodeWorkerError } from '../decode-pool';
import { spansWholeArrayBuffer } from '../owned-buffer';
import { InflateError } from './error';
import type { InflateJob, InflateReply } from './inflate-worker';
import { decodeHere } from './sync-decode';

const WORKER_SCRIPT = path.join(__dirname, 'inflate-worker.js');
/**
 * Bodies from this size (compressed) are decoded in the worker. Smaller ones decode on the main
 * thread: the round trip to the worker would cost more than the decode. A small body can still
 * inflate to the limit, but then it is highly compressible data, which decodes fast.
 */
export const OFFLOAD_MIN_BYTES = 8 * 1024;

/** `raw` is undefined when its bytes were moved to the worker (gone if the worker dies). */
interface Pending { raw: Buffer | undefined; encoding: string; limit: number; resolve(b: Buffer): void; reject(e: Error): void }

/**
 * zstd and snappy are decoded by WASM / JavaScript, synchronously: a 16 MiB body held the event
 * loop (every other client's requests, the batch timers, the exports) for ~60 ms. Here they are
 * decoded in one worker thread, started on first use and unref'd. When the worker cannot run
 * (no script next to a bundle), bodies are decoded on the main thread. The body is moved to the
 * worker when the caller owns its whole ArrayBuffer, else copied; if the worker dies, copied jobs
 * are decoded on the main thread and moved ones fail with a (retryable) DecodeWorkerError.
 */
class InflateOffload {
  private worker: Worker | undefined;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private readonly available = fs.existsSync(WORKER_SCRIPT);

  /** `owned`: the caller gives `raw` up (it may be detached afterwards). */
  decode(raw: Buffer, encoding: string, limit: number, owned = false): Promise<Buffer> {
    if (!this.available || raw.length < OFFLOAD_MIN_BYTES) return decodeHere(raw, encoding, limit);
    return new Promise((resolve, reject) => {
      const id = this.nextId++;
      const movable = owned && spansWholeArrayBuffer(raw);
      // otherwise a copy of the body's bytes: the buffer may be shared (a socket read, Node's pool)
      const bytes = movable ? (raw.buffer as ArrayBuffer) : new Uint8Array(raw).buffer;
      this.pending.set(id, { raw: movable ? undefined : raw, encoding, limit, resolve, reject });
      this.ensureWorker().postMessage({ id, raw: bytes, encoding, limit } satisfies InflateJob, [bytes]);
    });
  }

  /** The worker thread, for tests. */
  get thread(): Worker | undefined { return this.worker; }

  private ensureWorker(): Worker {
    if (this.worker) return this.worker;
    const w = new Worker(WORKER_SCRIPT);
    w.unref();
    w.on('message', (reply: InflateReply) => {
      const p = this.pending.get(reply.id);
      if (!p) return;
      this.pending.delete(reply.id);
      if ('out' in reply) p.resolve(Buffer.from(reply.out, 0, reply.length));
      else p.reject(new InflateError(reply.tooLarge, reply.message));
    });
    const lost = (): void => {
      if (this.worker !== w) return;
      this.worker = undefined;
      // what it had not answered is decoded here if we still have the bytes; the next job starts a new worker
      const jobs = [...this.pending.values()];
      this.pending.clear();
      for (const j of jobs) {
        if (j.raw) decodeHere(j.raw, j.encoding, j.limit).then(j.resolve, j.reject);
        else j.reject(new DecodeWorkerError('the decompression worker failed'));
      }
    };
    w.on('error', lost);
    w.on('exit', lost);
    this.worker = w;
    return w;
  }
}

export const inflateOffload = new InflateOffload();
