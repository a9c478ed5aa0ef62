import * as fs from 'node:fs';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { Logger } from '@tapio/core';
import { buildTraces, type DecodeResult } from './codec/decode';
import { MalformedError } from './codec/reader';
import type { DecodeJob, DecodeReply } from './decode-worker';
import { spansWholeArrayBuffer } from './owned-buffer';
import { otlpProfile } from './profile';

const WORKER_SCRIPT = path.join(__dirname, 'decode-worker.js');

/** A request could not be decoded because its worker failed or the pool closed: retryable. */
export class DecodeWorkerError extends Error {}

interface Pending {
  resolve(r: DecodeResult): void;
  reject(err: Error): void;
  source: string;
  observed: number;
}

interface Slot {
  worker: Worker;
  pending: Map<number, Pending>;
  /** answered at least one request (a worker that fails before is counted as failing at start) */
  served: boolean;
}

/** Workers that fail before serving anything, in a row, before the pool gives up. */
const MAX_FAILED_STARTS = 3;

/**
 * Worker threads that check trace requests (`decode_workers`). Checking every field of every
 * span is about a third of the main thread's time at 150k spans/s; here it runs on another core
 * and the main thread only builds the lazy span events from the worker's index (buildTraces).
 * Logs and metrics are decoded on the main thread.
 *
 * A request's bytes are moved to the worker and back (transferred, not copied) when the caller
 * owns the whole buffer, and copied once otherwise.
 */
export class DecodePool {
  private readonly slots: Slot[] = [];
  private nextId = 1;
  private closed = false;
  private failedStarts = 0;
  private broken = false;

  /** The worker threads now serving (a failed one is replaced in place). */
  get workers(): readonly Worker[] { return this.slots.map((s) => s.worker); }

  /** False once workers kept failing at start: the receiver then decodes on the main thread. */
  get usable(): boolean { return !this.broken; }

  /** undefined when the worker script is missing (a bundled distribution): decode on the main thread. */
  static create(size: number, logger: Logger): DecodePool | undefined {
    if (size <= 0) return undefined;
    if (!fs.existsSync(WORKER_SCRIPT)) {
      logger.warn({ script: WORKER_SCRIPT }, 'decode_workers ignored: the decode worker script is not next to the receiver (bundled distribution?); decoding on the main thread');
      return undefined;
    }
    return new DecodePool(size, logger);
  }

  private constructor(size: number, private readonly logger: Logger) {
    for (let i = 0; i < size; i++) this.slots.push(this.spawn());
  }

  private spawn(): Slot {
    const slot: Slot = { worker: new Worker(WORKER_SCRIPT), pending: new Map(), served: false };
    slot.worker.unref();
    slot.worker.on('message', (reply: DecodeReply) => this.settle(slot, reply));
    slot.worker.on('error', (err) => this.replace(slot, err));
    slot.worker.on('exit', (code) => { if (!this.closed) this.replace(slot, new Error(`decode worker exited with code ${code}`)); });
    return slot;
  }

  /** A worker failed: its requests fail (the client retries) and a new worker takes its place. */
  private replace(slot: Slot, err: Error): void {
    const i = this.slots.indexOf(slot);
    if (i < 0) return;
    this.logger.error({ err: err.message }, 'OTLP decode worker failed; replacing it');
    for (const p of slot.pending.values()) p.reject(new DecodeWorkerError(`decode worker failed: ${err.message}`));
    slot.pending.clear();
    void slot.worker.terminate();
    this.failedStarts = slot.served ? 0 : this.failedStarts + 1;
    if (this.failedStarts >= MAX_FAILED_STARTS && !this.broken) {
      this.broken = true;
      this.logger.error({ failures: this.failedStarts }, 'OTLP decode workers keep failing before serving a request; decoding on the main thread from now on');
    }
    this.slots[i] = this.closed || this.broken ? slot : this.spawn();
  }

  /**
   * Checks `body` in a worker and builds its events here. `owned`: the caller gives the buffer
   * away (nothing else reads it afterwards), so it can be moved instead of copied.
   */
  decodeTraces(body: Buffer, owned: boolean, source: string, observed: number): Promise<DecodeResult> {
    if (this.closed) return Promise.reject(new DecodeWorkerError('OTLP receiver is shutting down'));
    let slot = this.slots[0]!;
    for (const s of this.slots) if (s.pending.size < slot.pending.size) slot = s;
    const movable = owned && spansWholeArrayBuffer(body);
    let bytes: ArrayBuffer;
    if (movable) bytes = body.buffer as ArrayBuffer;
    else {
      bytes = new ArrayBuffer(body.length);
      new Uint8Array(bytes).set(body);
    }
    const id = this.nextId++;
    const job: DecodeJob = { id, bytes, length: body.length };
    return new Promise<DecodeResult>((resolve, reject) => {
      slot.pending.set(id, { resolve, reject, source, observed });
      slot.worker.postMessage(job, [bytes]);
    });
  }

  private settle(slot: Slot, reply: DecodeReply): void {
    slot.served = true;
    const p = slot.pending.get(reply.id);
    if (!p) return;
    slot.pending.delete(reply.id);
    if ('malformed' in reply) { p.reject(new MalformedError(reply.malformed)); return; }
    const t0 = otlpProfile.enabled ? process.hrtime.bigint() : 0n;
    try {
      const buf = Buffer.from(reply.bytes, 0, reply.bytes.byteLength);
      const out = buildTraces(buf, reply, p.source, p.observed);
      if (otlpProfile.enabled) {
        // main-thread time only (synchronous here); the worker's share is not in decodeCpuUs
        otlpProfile.decodeCpuUs += Number(process.hrtime.bigint() - t0) / 1000;
        otlpProfile.decodeSampledEvents += out.events.length;
      }
      p.resolve(out);
    } catch (err) {
      p.reject(err as Error);
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const s of this.slots) for (const p of s.pending.values()) p.reject(new DecodeWorkerError('OTLP receiver is shutting down'));
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
  }
}
