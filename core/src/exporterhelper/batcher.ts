import type { Batch, UnifiedEvent } from '../event/types';
import { encodeBatch } from '../event/codec';
import type { QueueItem, SendingQueue } from './queue';
import type { BatchSettings } from './settings';
import { eventByteSizes } from './sizer';

/** A piece of a queued item inside an export: the item is done when all its pieces are. */
export interface Part { item: QueueItem; events: number }

/** A batch on its way out; the helper takes `batch` out once the exporter prepared it. */
export interface DeliveryJob { batch: Batch | undefined; readonly events: number }

export interface BatcherHooks {
  /** The item's batch (read from storage if need be); undefined when there is nothing to send (already handled). */
  load(item: QueueItem): Promise<Batch | undefined>;
  /** Delivers one merged batch and settles its parts. Never rejects. */
  exportBatch(job: DeliveryJob, parts: Part[]): Promise<void>;
  /** Settles one part of an item outside any export (the batcher's hold on an item it is still cutting up). */
  settlePart(item: QueueItem): Promise<void>;
}

const TIMEOUT = Symbol('flush_timeout');

/**
 * `sending_queue.batch`: one loop takes items off the queue in order and merges them into a
 * pending batch, which leaves when it reaches `min_size` or `flush_timeout` after its first item
 * arrived; an item that would push it over `max_size` is split. At most `maxWorkers` exports run
 * at once; while all are busy the loop stops taking from the queue, so the queue fills and
 * refuses or blocks exactly as without batching (back-pressure is unchanged). With one worker,
 * events leave in the order they were queued.
 */
export class QueueBatcher {
  private pending: UnifiedEvent[][] = [];
  private parts: Part[] = [];
  private pendingSize = 0;
  private metadata: Batch['metadata'];
  private timer: NodeJS.Timeout | undefined;
  private deadline: Promise<typeof TIMEOUT> | undefined;
  private active = 0;
  private slotWaiters: (() => void)[] = [];
  private idleWaiters: (() => void)[] = [];

  constructor(
    private readonly queue: SendingQueue,
    private readonly cfg: BatchSettings,
    private readonly maxWorkers: number,
    private readonly hooks: BatcherHooks,
  ) {}

  /** Runs until the queue is closed and empty (or drained by shutdown), then flushes and waits for its exports. */
  async run(): Promise<void> {
    let next: Promise<QueueItem | undefined> | undefined;
    for (;;) {
      // A take() that lost the race against the timer stays outstanding for the next round: no item is lost.
      next ??= this.queue.take();
      const got = this.deadline ? await Promise.race([next, this.deadline]) : await next;
      if (got === TIMEOUT) { await this.flush(); continue; }
      next = undefined;
      if (!got) break;
      await this.add(got);
    }
    await this.flush();
    while (this.active > 0) await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
  }

  private async add(item: QueueItem): Promise<void> {
    const batch = await this.hooks.load(item);
    if (!batch) return;
    if (this.parts.length > 0 && !sameMetadata(this.metadata, batch.metadata)) await this.flush();
    this.metadata = batch.metadata;
    // Hold the item while it is being cut up, so an early piece finishing cannot settle it.
    item.parts = 1;
    const events = batch.events;
    const max = this.cfg.maxSize;
    const size = this.cfg.sizer === 'items' ? events.length : item.bytes >= 0 ? item.bytes : encodeBatch(batch).length;
    if (max === 0 || this.pendingSize + size <= max) {
      this.append(item, events, size);
    } else {
      await this.split(item, events);
    }
    await this.hooks.settlePart(item);
    if (this.pendingSize >= this.cfg.minSize) await this.flush();
  }

  /** Fills the pending batch up to max_size with the item's events, flushing each time it is full. */
  private async split(item: QueueItem, events: UnifiedEvent[]): Promise<void> {
    const max = this.cfg.maxSize;
    const byteSizes = this.cfg.sizer === 'bytes' ? eventByteSizes(events) : undefined;
    let off = 0;
    while (off < events.length) {
      const room = max - this.pendingSize;
      let n = 0;
      let size = 0;
      if (!byteSizes) {
        n = Math.min(Math.max(room, 0), events.length - off);
        size = n;
      } else {
        while (off + n < events.length && size + byteSizes[off + n]! <= room) size += byteSizes[off + n++]!;
      }
      // Nothing fits: flush what is pending; a single event larger than max_size leaves on its own.
      if (n === 0 && this.parts.length > 0) { await this.flush(); continue; }
      if (n === 0) { n = 1; size = byteSizes ? byteSizes[off]! : 1; }
      this.append(item, n === events.length ? events : events.slice(off, off + n), size);
      off += n;
      if (this.pendingSize >= max) await this.flush();
    }
  }

  private append(item: QueueItem, events: UnifiedEvent[], size: number): void {
    if (this.parts.length === 0) {
      this.deadline = new Promise((resolve) => { this.timer = setTimeout(() => resolve(TIMEOUT), this.cfg.flushTimeoutMs); });
    }
    this.pending.push(events);
    this.parts.push({ item, events: events.length });
    item.parts++;
    this.pendingSize += size;
  }

  /** Hands the pending batch to a free worker (waiting for one). */
  private async flush(): Promise<void> {
    if (this.parts.length === 0) return;
    clearTimeout(this.timer);
    this.deadline = undefined;
    const events = this.pending.length === 1 ? this.pending[0]! : concat(this.pending);
    const job: DeliveryJob = { batch: this.metadata ? { events, metadata: this.metadata } : { events }, events: events.length };
    const parts = this.parts;
    this.pending = [];
    this.parts = [];
    this.pendingSize = 0;
    while (this.active >= this.maxWorkers) await new Promise<void>((resolve) => this.slotWaiters.push(resolve));
    this.active++;
    void this.hooks.exportBatch(job, parts).finally(this.release);
  }

  private readonly release = (): void => {
    this.active--;
    this.slotWaiters.shift()?.();
    if (this.active === 0) for (const w of this.idleWaiters.splice(0)) w();
  };
}

function concat(arrays: UnifiedEvent[][]): UnifiedEvent[] {
  const out: UnifiedEvent[] = [];
  for (const a of arrays) for (let i = 0; i < a.length; i++) out.push(a[i]!);
  return out;
}

/** Batches are merged only when their client metadata (include_metadata) is the same. */
function sameMetadata(a: Batch['metadata'], b: Batch['metadata']): boolean {
  if (a === b) return true;
  if (!a || !b) return false;
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  for (const k of ka) {
    const va = a[k]!;
    const vb = b[k];
    if (!vb || va.length !== vb.length) return false;
    for (let i = 0; i < va.length; i++) if (va[i] !== vb[i]) return false;
  }
  return true;
}
