/**
 * The decompression worker (see offload.ts): decodes zstd and snappy bodies off the main thread.
 * The compressed bytes arrive as a transferred copy; the output goes back transferred.
 */
import { parentPort } from 'node:worker_threads';
import { spansWholeArrayBuffer } from '../owned-buffer';
import { InflateError } from './error';
import { decodeSync } from './sync-decode';
import { loadZstd } from './zstd';

export interface InflateJob { id: number; raw: ArrayBuffer; encoding: string; limit: number }
export type InflateReply =
  | { id: number; out: ArrayBuffer; length: number }
  | { id: number; tooLarge: boolean; message: string };

const zstd = loadZstd();

parentPort!.on('message', (job: InflateJob) => {
  zstd.then((codec) => {
    try {
      const out = decodeSync(Buffer.from(job.raw), job.encoding, job.limit, codec);
      // the output owns its ArrayBuffer unless it is small enough to sit in Node's pool: copy those
      const own = spansWholeArrayBuffer(out) ? out : Buffer.from(out);
      parentPort!.postMessage({ id: job.id, out: own.buffer as ArrayBuffer, length: own.length } satisfies InflateReply, [own.buffer as ArrayBuffer]);
    } catch (err) {
      if (!(err instanceof InflateError)) throw err; // a bug: the main thread decodes the job itself
      parentPort!.postMessage({ id: job.id, tooLarge: err.tooLarge, message: err.message } satisfies InflateReply);
    }
  }, (err: Error) => { throw err; });
});
