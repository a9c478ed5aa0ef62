import type { Batch } from '../event/types';
import type { StorageClient } from '../storage';
import { decodeBatch, encodeBatch } from '../event/codec';
import { ErrorCodes, PermanentError, RetryableError } from '../errors';
import { WriteCoalescer } from './coalescer';
import type { SizerType } from './settings';
import { sizeOf } from './sizer';

/** Settled once everything of a queued batch was exported or given up on (`wait_for_result`). */
export interface ResultWaiter { resolve: () => void; reject: (err: unknown) => void }

/** One queued batch. `key` is set when it is persisted; `batch` is loaded lazily for recovered items. */
export interface QueueItem {
  batch: Batch | undefined;
  key: string | undefined;
  /** Recovered from storage at start: its delivery is a redelivery. */
  recovered: boolean;
  /** What it counts against queue_size, in units of the queue's sizer. */
  size: number;
  /** Its events (0 if unknown: a record written by an older version). */
  items: number;
  /** Bytes of its encoding; -1 when not measured. */
  bytes: number;
  /** The caller waiting for the export result (wait_for_result), if any. */
  waiter: ResultWaiter | undefined;
  /** Exports (parts, when a batcher split it) not finished yet; the first failure among them. */
  parts: number;
  failure: unknown;
}

interface SpaceWaiter { size: number; resolve: () => void; reject: (e: Error) => void }

const KEY_PREFIX = 'q/';
/**
 * A persistent queue keeps this many batches in memory as well (so a healthy exporter never
 * decodes); beyond it, batches live only in storage and are read back when their turn comes,
 * so a long outage fills the disk, not the heap.
 */
const PERSISTENT_IN_MEMORY = 256;
const SEQ_DIGITS = 16;

/**
 * `q/<seq>.<items>.<bytes>`: the sizes ride in the key so a restart can count recovered batches
 * against queue_size without reading them. Older records are plain `q/<seq>`.
 */
function keyOf(seq: number, items: number, bytes: number): string {
  return KEY_PREFIX + String(seq).padStart(SEQ_DIGITS, '0') + '.' + items + '.' + bytes;
}

function parseKey(key: string): { seq: number; items: number; bytes: number } {
  const [seq, items, bytes] = key.slice(KEY_PREFIX.length).split('.');
  return { seq: Number(seq), items: Number(items ?? 0) || 0, bytes: Number(bytes ?? 0) || 0 };
}

/**
 * A bounded FIFO of batches with blocking or refusing admission, optionally written through
 * to a StorageClient so that an acknowledged batch survives a crash. Storage writes happen
 * *before* `put` resolves; `done` removes an item only after it was delivered or given up.
 * Capacity is in units of the sizer (batches, events or bytes); an item's room is freed when a
 * consumer takes it.
 */
export class SendingQueue {
  private items: (QueueItem | undefined)[] = [];
  private head = 0;
  /** Sum of the sizes of the queued items. */
  private used = 0;
  private spaceWaiters: SpaceWaiter[] = [];
  private itemWaiters: ((item: QueueItem | undefined) => void)[] = [];
  private closed = false;
  private nextSeq = 0;
  /** Room held by admitted puts still writing to storage, so capacity is never exceeded. */
  private reserved = 0;

  /** Writes and deletes are group-committed separately, so deletes still free space when writes fail (storage full). */
  private readonly writes: WriteCoalescer | undefined;
  private readonly deletes: WriteCoalescer | undefined;

  /** `measureBytes`: learn each batch's encoded size even in memory (a bytes sizer somewhere needs it). */
  constructor(readonly capacity: number, private readonly blocking: boolean, readonly sizer: SizerType = 'requests', private readonly store?: StorageClient, private readonly measureBytes = sizer === 'bytes') {
    if (store) { this.writes = new WriteCoalescer(store); this.deletes = new WriteCoalescer(store); }
  }

  /** Queued batches. */
  get size(): number { return this.items.length - this.head; }
  /** Queued amount in units of the sizer (what queue_size bounds). */
  get usedSize(): number { return this.used; }
  get persistent(): boolean { return this.store !== undefined; }

  /** Loads what a previous run left in storage; returns how many batches were recovered. */
  async recover(): Promise<number> {
    if (!this.store) return 0;
    const keys = await this.store.keys(KEY_PREFIX);
    for (const key of keys) {
      const { seq, items, bytes } = parseKey(key);
      if (Number.isFinite(seq) && seq >= this.nextSeq) this.nextSeq = seq + 1;
      const size = this.sizer === 'requests' ? 1 : this.sizer === 'items' ? items : bytes;
      // Recovered items may exceed the capacity (a smaller queue_size after restart): keep them all.
      this.push({ batch: undefined, key, recovered: true, size, items, bytes: bytes || -1, waiter: undefined, parts: 0, failure: undefined });
    }
    return keys.length;
  }

  /**
   * Admits a batch: waits for room (blocking) or refuses with a RetryableError. A batch larger than
   * the whole capacity could never be admitted: it is refused with a PermanentError.
   */
  async put(batch: Batch, waiter?: ResultWaiter): Promise<void> {
    const encoded = this.store || this.measureBytes ? encodeBatch(batch) : undefined;
    const bytes = encoded ? encoded.length : -1;
    const size = sizeOf(this.sizer, batch, encoded?.length);
    if (size > this.capacity) {
      throw new PermanentError(`the batch (${size} ${this.sizer}) is larger than the sending queue's capacity (queue_size ${this.capacity} ${this.sizer})`);
    }
    while (this.used + this.reserved + size > this.capacity) {
      if (this.closed) throw shuttingDown();
      if (!this.blocking) {
        throw new RetryableError(`sending queue is full (${this.capacity} ${this.sizer})`, { code: ErrorCodes.QUEUE_FULL, retryAfterMs: 1000 });
      }
      await new Promise<void>((resolve, reject) => this.spaceWaiters.push({ size, resolve, reject }));
    }
    if (this.closed) throw shuttingDown();
    const item: QueueItem = { batch, key: undefined, recovered: false, size, items: batch.events.length, bytes, waiter, parts: 0, failure: undefined };
    if (!this.store) { this.push(item); return; }
    item.key = keyOf(this.nextSeq++, item.items, bytes);
    this.reserved += size;
    try {
      await this.writes!.apply({ type: 'set', key: item.key, value: encoded! });
    } catch (err) {
      this.reserved -= size;
      this.wakeSpaceWaiters();
      throw new RetryableError(`cannot persist the batch: ${(err as Error).message}`, { cause: err });
    }
    this.reserved -= size;
    if (this.size >= PERSISTENT_IN_MEMORY) item.batch = undefined;
    this.push(item);
  }

  /** The next item, waiting for one; undefined once the queue is closed and empty. */
  take(): Promise<QueueItem | undefined> {
    if (this.size > 0) return Promise.resolve(this.shift());
    if (this.closed) return Promise.resolve(undefined);
    return new Promise((resolve) => this.itemWaiters.push(resolve));
  }

  /** The batch of an item, read from storage for recovered items. Throws on a corrupt record. */
  async load(item: QueueItem): Promise<Batch | undefined> {
    if (item.batch) return item.batch;
    if (!this.store || !item.key) return undefined;
    const bytes = await this.store.get(item.key);
    return bytes ? decodeBatch(bytes) : undefined;
  }

  /** Forgets a delivered (or given-up) item for good. */
  async done(item: QueueItem): Promise<void> {
    item.batch = undefined;
    if (this.deletes && item.key) await this.deletes.apply({ type: 'delete', key: item.key });
  }

  /** No more puts; waiting producers are refused, waiting consumers get undefined once empty. */
  close(): void {
    this.closed = true;
    for (const w of this.spaceWaiters.splice(0)) w.reject(shuttingDown());
    if (this.size === 0) for (const w of this.itemWaiters.splice(0)) w(undefined);
  }

  /** Removes and returns everything still queued (used when shutdown gives up). */
  drainRemaining(): QueueItem[] {
    const rest: QueueItem[] = [];
    while (this.size > 0) rest.push(this.shift());
    for (const w of this.itemWaiters.splice(0)) w(undefined);
    return rest;
  }

  private push(item: QueueItem): void {
    const waiter = this.itemWaiters.shift();
    // Handed straight to a waiting consumer: it never occupies room.
    if (waiter) { waiter(item); return; }
    this.used += item.size;
    this.items.push(item);
  }

  private shift(): QueueItem {
    const item = this.items[this.head]!;
    this.items[this.head++] = undefined;
    this.used -= item.size;
    // Compact now and then so the array does not grow without bound.
    if (this.head > 1024 && this.head * 2 > this.items.length) { this.items = this.items.slice(this.head); this.head = 0; }
    this.wakeSpaceWaiters();
    if (this.closed && this.size === 0) for (const w of this.itemWaiters.splice(0)) w(undefined);
    return item;
  }

  /** Wakes blocked producers, in order, as far as the free room goes (each re-checks when it runs). */
  private wakeSpaceWaiters(): void {
    let free = this.capacity - this.used - this.reserved;
    while (this.spaceWaiters.length > 0 && this.spaceWaiters[0]!.size <= free) {
      const w = this.spaceWaiters.shift()!;
      free -= w.size;
      w.resolve();
    }
  }
}

function shuttingDown(): RetryableError {
  return new RetryableError('exporter is shutting down', { code: ErrorCodes.SHUTTING_DOWN });
}
