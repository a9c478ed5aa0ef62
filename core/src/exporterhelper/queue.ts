import type { Batch } from '../event/types';
import type { StorageClient } from '../storage';
import { decodeBatch, encodeBatch } from '../event/codec';
import { ErrorCodes, RetryableError } from '../errors';
import { WriteCoalescer } from './coalescer';

/** One queued batch. `key` is set when it is persisted; `batch` is loaded lazily for recovered items. */
export interface QueueItem {
  batch: Batch | undefined;
  key: string | undefined;
  /** Recovered from storage at start: its delivery is a redelivery. */
  recovered: boolean;
}

const KEY_PREFIX = 'q/';
/**
 * A persistent queue keeps this many batches in memory as well (so a healthy exporter never
 * decodes); beyond it, batches live only in storage and are read back when their turn comes,
 * so a long outage fills the disk, not the heap.
 */
const PERSISTENT_IN_MEMORY = 256;
const SEQ_DIGITS = 16;

function keyOf(seq: number): string {
  return KEY_PREFIX + String(seq).padStart(SEQ_DIGITS, '0');
}

/**
 * A bounded FIFO of batches with blocking or refusing admission, optionally written through
 * to a StorageClient so that an acknowledged batch survives a crash. Storage writes happen
 * *before* `put` resolves; `done` removes an item only after it was delivered or given up.
 */
export class SendingQueue {
  private items: (QueueItem | undefined)[] = [];
  private head = 0;
  private spaceWaiters: { resolve: () => void; reject: (e: Error) => void }[] = [];
  private itemWaiters: ((item: QueueItem | undefined) => void)[] = [];
  private closed = false;
  private nextSeq = 0;
  /** Admitted puts still writing to storage; they hold a slot so capacity is never exceeded. */
  private reserved = 0;

  /** Writes and deletes are group-committed separately, so deletes still free space when writes fail (storage full). */
  private readonly writes: WriteCoalescer | undefined;
  private readonly deletes: WriteCoalescer | undefined;

  constructor(readonly capacity: number, private readonly blocking: boolean, private readonly store?: StorageClient) {
    if (store) { this.writes = new WriteCoalescer(store); this.deletes = new WriteCoalescer(store); }
  }

  get size(): number { return this.items.length - this.head; }
  get persistent(): boolean { return this.store !== undefined; }

  /** Loads what a previous run left in storage; returns how many batches were recovered. */
  async recover(): Promise<number> {
    if (!this.store) return 0;
    const keys = await this.store.keys(KEY_PREFIX);
    for (const key of keys) {
      const seq = Number(key.slice(KEY_PREFIX.length));
      if (Number.isFinite(seq) && seq >= this.nextSeq) this.nextSeq = seq + 1;
      // Recovered items may exceed the capacity (a smaller queue_size after restart): keep them all.
      this.push({ batch: undefined, key, recovered: true });
    }
    return keys.length;
  }

  /** Admits a batch: waits for room (blocking) or refuses with a RetryableError. */
  async put(batch: Batch): Promise<void> {
    while (this.size + this.reserved >= this.capacity) {
      if (this.closed) throw shuttingDown();
      if (!this.blocking) {
        throw new RetryableError(`sending queue is full (${this.capacity} batches)`, { code: ErrorCodes.QUEUE_FULL, retryAfterMs: 1000 });
      }
      await new Promise<void>((resolve, reject) => this.spaceWaiters.push({ resolve, reject }));
    }
    if (this.closed) throw shuttingDown();
    if (!this.store) { this.push({ batch, key: undefined, recovered: false }); return; }
    const key = keyOf(this.nextSeq++);
    this.reserved++;
    try {
      await this.writes!.apply({ type: 'set', key, value: encodeBatch(batch) });
    } catch (err) {
      this.spaceWaiters.shift()?.resolve();
      throw new RetryableError(`cannot persist the batch: ${(err as Error).message}`, { cause: err });
    } finally {
      this.reserved--;
    }
    this.push({ batch: this.size < PERSISTENT_IN_MEMORY ? batch : undefined, key, recovered: false });
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
    if (waiter) { waiter(item); return; }
    this.items.push(item);
  }

  private shift(): QueueItem {
    const item = this.items[this.head]!;
    this.items[this.head++] = undefined;
    // Compact now and then so the array does not grow without bound.
    if (this.head > 1024 && this.head * 2 > this.items.length) { this.items = this.items.slice(this.head); this.head = 0; }
    const waiter = this.spaceWaiters.shift();
    if (waiter) waiter.resolve();
    if (this.closed && this.size === 0) for (const w of this.itemWaiters.splice(0)) w(undefined);
    return item;
  }
}

function shuttingDown(): RetryableError {
  return new RetryableError('exporter is shutting down', { code: ErrorCodes.SHUTTING_DOWN });
}
