import type { Batch, Consumer, UnifiedEvent } from '@tapio/core';

export type Metadata = NonNullable<Batch['metadata']>;

/** One consume() call waiting for every batch that carries its events to be handed on. */
interface Waiter {
  resolve(): void;
  reject(err: unknown): void;
  /** Sent batches carrying some of its events that have not settled yet. */
  parts: number;
  /** All its events have left the buffer. */
  taken: boolean;
  error: unknown;
}

/** `waiter` is unset when the caller was answered on arrival (wait_for_result: false). */
interface Segment { events: UnifiedEvent[]; offset: number; waiter: Waiter | undefined; metadata: Metadata | undefined }

interface Outgoing { events: UnifiedEvent[]; waiters: Waiter[]; metadata: Metadata | undefined }

/**
 * wait_for_result false: callers are answered on arrival while at most this many sends are
 * outstanding downstream, and wait beyond it (back-pressure). The Collector's batch processor
 * exports one batch at a time per shard and blocks its callers meanwhile; one more lets the
 * next batch fill while the previous is being accepted.
 */
const MAX_OUTSTANDING_SENDS = 1;

export interface BatcherSettings {
  /** 0: no size trigger; every batch is sent at once (as the Collector). */
  sendBatchSize: number;
  timeoutMs: number;
  /** 0: no limit. */
  maxSize: number;
  /**
   * true: consume() settles only when every batch carrying its events was accepted (or refused)
   * downstream. false (the Collector's behaviour): it settles once the events are buffered, and
   * what downstream refuses later is counted as dropped.
   */
  waitForResult: boolean;
}

/** Counters shared by every shard of one processor. */
export interface ShardCounters {
  sizeTriggered(n: number): void;
  timeoutTriggered(n: number): void;
  sentEvents(n: number): void;
  /** Events downstream refused after their callers were answered (wait_for_result: false). */
  dropped(n: number, err: unknown): void;
}

/**
 * One pending batch. Buffers events until `sendBatchSize` are there or `timeoutMs` passed since the first one,
 * then hands them on in batches of at most `maxSize`.
 *
 * When a consume() promise settles (`waitForResult`):
 * - false (default, as the Collector): once the events are buffered, unless more than
 *   MAX_OUTSTANDING_SENDS sends are outstanding downstream, then once they are not (a slow
 *   exporter is still felt by the receiver). A client sending one request at a time (every
 *   OpenTelemetry SDK's batch span processor) is answered at once instead of after `timeout`.
 * - true: only when every batch carrying its events was accepted (or refused) downstream, so a
 *   refusal reaches the client that sent the data and nothing is acknowledged before it is in the
 *   exporter's (persistent) queue — at the price of each call waiting for its batch to leave.
 */
export class Shard {
  private segments: Segment[] = [];
  private buffered = 0;
  private timer: NodeJS.Timeout | undefined;
  private inFlight = new Set<Promise<void>>();
  /** Callers whose events are buffered, held back (not answered yet) while too many sends are outstanding. */
  private held: (() => void)[] = [];
  private stopped = false;
  private readonly sendAtOnce: boolean;
  private readonly onTimer = (): void => { this.timer = undefined; this.counters.timeoutTriggered(1); this.flushAll(); };

  /**
   * @param keyedMetadata set for a shard of `metadata_keys`: every batch it sends carries exactly
   *   this. Unset: a sent batch carries the incoming metadata only when all its events came with
   *   the same metadata (core's convention), otherwise none.
   */
  constructor(
    private readonly counters: ShardCounters,
    private readonly s: BatcherSettings,
    private readonly next: Consumer,
    private readonly keyedMetadata?: Metadata,
  ) {
    this.sendAtOnce = s.timeoutMs <= 0 || s.sendBatchSize === 0;
  }

  consume(batch: Batch): Promise<void> {
    const n = batch.events.length;
    if (n === 0) return Promise.resolve();
    // After shutdown nothing is buffered any more: pass straight through.
    if (this.stopped) return this.next.consume(batch);
    if (!this.s.waitForResult) {
      this.buffer(batch, undefined);
      if (this.inFlight.size <= MAX_OUTSTANDING_SENDS) return Promise.resolve();
      return new Promise<void>((resolve) => { this.held.push(resolve); });
    }
    return new Promise<void>((resolve, reject) => {
      this.buffer(batch, { resolve, reject, parts: 0, taken: false, error: undefined });
    });
  }

  private buffer(batch: Batch, waiter: Waiter | undefined): void {
    this.segments.push({ events: batch.events, offset: 0, waiter, metadata: batch.metadata });
    this.buffered += batch.events.length;
    if (this.sendAtOnce) { this.flushAll(); return; }
    while (this.buffered >= this.s.sendBatchSize) {
      this.counters.sizeTriggered(1);
      this.send(this.take(this.s.maxSize > 0 ? Math.min(this.s.maxSize, this.buffered) : this.buffered));
    }
    if (this.buffered === 0) { clearTimeout(this.timer); this.timer = undefined; }
    else if (!this.timer) this.timer = setTimeout(this.onTimer, this.s.timeoutMs);
  }

  /** Flushes what is buffered and waits for everything in flight. Idempotent. */
  async shutdown(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.flushAll();
    while (this.inFlight.size) await Promise.allSettled([...this.inFlight]);
    this.releaseHeld();
  }

  private flushAll(): void {
    while (this.buffered > 0) this.send(this.take(this.s.maxSize > 0 ? Math.min(this.s.maxSize, this.buffered) : this.buffered));
  }

  /** Removes `n` events from the front of the buffer, noting whose they were. */
  private take(n: number): Outgoing {
    const first = this.segments[0]!;
    // Common case: one whole incoming batch fits exactly; hand its array on without copying.
    if (first.offset === 0 && first.events.length === n) {
      this.segments.shift();
      this.buffered -= n;
      if (!first.waiter) return { events: first.events, waiters: [], metadata: first.metadata };
      first.waiter.taken = true;
      return { events: first.events, waiters: [first.waiter], metadata: first.metadata };
    }
    const events: UnifiedEvent[] = new Array(n);
    const waiters: Waiter[] = [];
    let metadata = first.metadata;
    let filled = 0;
    while (filled < n) {
      const seg = this.segments[0]!;
      if (metadata !== undefined && !sameMetadata(metadata, seg.metadata)) metadata = undefined;
      const k = Math.min(n - filled, seg.events.length - seg.offset);
      for (let i = 0; i < k; i++) events[filled + i] = seg.events[seg.offset + i]!;
      filled += k;
      seg.offset += k;
      if (seg.waiter && waiters[waiters.length - 1] !== seg.waiter) waiters.push(seg.waiter);
      if (seg.offset === seg.events.length) { this.segments.shift(); if (seg.waiter) seg.waiter.taken = true; }
    }
    this.buffered -= n;
    return { events, waiters, metadata };
  }

  private send(out: Outgoing): void {
    for (const w of out.waiters) w.parts++;
    this.counters.sentEvents(out.events.length);
    const metadata = this.keyedMetadata ?? out.metadata;
    let sent: Promise<void>;
    try { sent = this.next.consume(metadata ? { events: out.events, metadata } : { events: out.events }); } catch (err) { sent = Promise.reject(err); }
    const p: Promise<void> = sent.then(
      () => settle(out.waiters, undefined),
      (err: unknown) => {
        const reason = err ?? new Error('downstream refused the batch');
        // events whose callers were answered on arrival: nobody to hand the refusal to
        if (!this.s.waitForResult) this.counters.dropped(out.events.length, reason);
        settle(out.waiters, reason);
      },
    ).finally(() => {
      this.inFlight.delete(p);
      if (this.inFlight.size <= MAX_OUTSTANDING_SENDS) this.releaseHeld();
    });
    this.inFlight.add(p);
  }

  private releaseHeld(): void {
    const held = this.held;
    if (held.length === 0) return;
    this.held = [];
    for (const resolve of held) resolve();
  }
}

function settle(waiters: Waiter[], err: unknown): void {
  for (const w of waiters) {
    if (err !== undefined && w.error === undefined) w.error = err;
    w.parts--;
    if (w.parts === 0 && w.taken) {
      if (w.error !== undefined) w.reject(w.error); else w.resolve();
    }
  }
}

function sameMetadata(a: Metadata, b: Metadata | undefined): boolean {
  if (a === b) return true;
  if (b === undefined) return false;
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  return ka.every((k) => {
    const va = a[k]!;
    const vb = b[k];
    return vb !== undefined && va.length === vb.length && va.every((v, i) => v === vb[i]);
  });
}
