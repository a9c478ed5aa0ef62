import type { Batch, ComponentContext, Consumer, Processor, UnifiedEvent } from '@tapio/core';

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

interface Segment { events: UnifiedEvent[]; offset: number; waiter: Waiter }

export interface BatcherSettings {
  sendBatchSize: number;
  timeoutMs: number;
  /** 0: no limit. */
  maxSize: number;
}

/**
 * Buffers events until `sendBatchSize` are there or `timeoutMs` passed since the first one,
 * then hands them on in batches of at most `maxSize`. Back-pressure: a consume() promise
 * settles only when every batch carrying its events was accepted (or refused) downstream, so a
 * slow or failing exporter is felt by the receiver, and an error reaches the client that sent
 * the data instead of being dropped here.
 */
export class Batcher implements Processor {
  readonly capabilities = { mutatesData: false };
  private segments: Segment[] = [];
  private buffered = 0;
  private timer: NodeJS.Timeout | undefined;
  private inFlight = new Set<Promise<void>>();
  private stopped = false;
  private readonly sizeTriggered: (n: number) => void;
  private readonly timeoutTriggered: (n: number) => void;
  private readonly batchSizes: (n: number) => void;
  private readonly onTimer = (): void => { this.timer = undefined; this.timeoutTriggered(1); this.flushAll(); };

  constructor(ctx: ComponentContext, private readonly s: BatcherSettings, private readonly next: Consumer) {
    this.sizeTriggered = ctx.telemetry.counter('tapio_processor_batch_size_trigger_send', 'Batches sent because send_batch_size was reached');
    this.timeoutTriggered = ctx.telemetry.counter('tapio_processor_batch_timeout_trigger_send', 'Batches sent because the timeout expired');
    this.batchSizes = ctx.telemetry.counter('tapio_processor_batch_sent_events', 'Events the batch processor handed on');
  }

  async start(): Promise<void> {}

  consume(batch: Batch): Promise<void> {
    const n = batch.events.length;
    if (n === 0) return Promise.resolve();
    // After shutdown nothing is buffered any more: pass straight through.
    if (this.stopped) return this.next.consume(batch);
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = { resolve, reject, parts: 0, taken: false, error: undefined };
      this.segments.push({ events: batch.events, offset: 0, waiter });
      this.buffered += n;
      if (this.s.timeoutMs <= 0) { this.flushAll(); return; }
      while (this.buffered >= this.s.sendBatchSize) {
        this.sizeTriggered(1);
        this.send(this.take(this.s.maxSize > 0 ? Math.min(this.s.maxSize, this.buffered) : this.buffered));
      }
      if (this.buffered === 0) { clearTimeout(this.timer); this.timer = undefined; }
      else if (!this.timer) this.timer = setTimeout(this.onTimer, this.s.timeoutMs);
    });
  }

  /** Flushes what is buffered and waits for everything in flight. Idempotent. */
  async shutdown(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.flushAll();
    while (this.inFlight.size) await Promise.allSettled([...this.inFlight]);
  }

  private flushAll(): void {
    while (this.buffered > 0) this.send(this.take(this.s.maxSize > 0 ? Math.min(this.s.maxSize, this.buffered) : this.buffered));
  }

  /** Removes `n` events from the front of the buffer, noting whose they were. */
  private take(n: number): { events: UnifiedEvent[]; waiters: Waiter[] } {
    const first = this.segments[0]!;
    // Common case: one whole incoming batch fits exactly; hand its array on without copying.
    if (first.offset === 0 && first.events.length === n) {
      this.segments.shift();
      this.buffered -= n;
      first.waiter.taken = true;
      return { events: first.events, waiters: [first.waiter] };
    }
    const events: UnifiedEvent[] = new Array(n);
    const waiters: Waiter[] = [];
    let filled = 0;
    while (filled < n) {
      const seg = this.segments[0]!;
      const k = Math.min(n - filled, seg.events.length - seg.offset);
      for (let i = 0; i < k; i++) events[filled + i] = seg.events[seg.offset + i]!;
      filled += k;
      seg.offset += k;
      if (waiters[waiters.length - 1] !== seg.waiter) waiters.push(seg.waiter);
      if (seg.offset === seg.events.length) { this.segments.shift(); seg.waiter.taken = true; }
    }
    this.buffered -= n;
    return { events, waiters };
  }

  private send(out: { events: UnifiedEvent[]; waiters: Waiter[] }): void {
    for (const w of out.waiters) w.parts++;
    this.batchSizes(out.events.length);
    let sent: Promise<void>;
    try { sent = this.next.consume({ events: out.events }); } catch (err) { sent = Promise.reject(err); }
    const p: Promise<void> = sent.then(
      () => settle(out.waiters, undefined),
      (err: unknown) => settle(out.waiters, err ?? new Error('downstream refused the batch')),
    ).finally(() => { this.inFlight.delete(p); });
    this.inFlight.add(p);
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
