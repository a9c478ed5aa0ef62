/**
 * A decode worker (see decode-pool.ts): checks and indexes trace requests off the main thread.
 * The request's bytes arrive and go back as transferred ArrayBuffers, so nothing is copied.
 */
import { parentPort } from 'node:worker_threads';
import { indexTraces } from './codec/decode';
import { MalformedError } from './codec/reader';

export interface DecodeJob { id: number; bytes: ArrayBuffer; length: number }
export type DecodeReply =
  | { id: number; bytes: ArrayBuffer; spans: Float64Array; rejected: number; errorMessage: string }
  | { id: number; bytes: ArrayBuffer; malformed: string };

parentPort!.on('message', (job: DecodeJob) => {
  const buf = Buffer.from(job.bytes, 0, job.length);
  let reply: DecodeReply;
  try {
    const index = indexTraces(buf);
    reply = { id: job.id, bytes: job.bytes, spans: index.spans, rejected: index.rejected, errorMessage: index.errorMessage };
    parentPort!.postMessage(reply, [job.bytes, index.spans.buffer as ArrayBuffer]);
  } catch (err) {
    if (!(err instanceof MalformedError || err instanceof RangeError)) throw err; // a bug: the pool fails the request and replaces this worker
    reply = { id: job.id, bytes: job.bytes, malformed: err.message };
    parentPort!.postMessage(reply, [job.bytes]);
  }
});
