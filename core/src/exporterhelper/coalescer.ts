import type { StorageClient, StorageOp } from '../storage';

/**
 * Group commit: storage operations issued in the same turn of the event loop (several receivers'
 * requests, several consumers finishing) are applied as one atomic `batch()` — one transaction
 * and, with fsync on, one fsync instead of one per batch. Each caller still learns whether its
 * own operation is durable before it goes on.
 */
export class WriteCoalescer {
  private ops: StorageOp[] = [];
  private waiters: { resolve: () => void; reject: (e: unknown) => void }[] = [];
  private scheduled = false;

  constructor(private readonly store: StorageClient) {}

  apply(op: StorageOp): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.ops.push(op);
      this.waiters.push({ resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(this.flush);
      }
    });
  }

  private readonly flush = (): void => {
    this.scheduled = false;
    const ops = this.ops;
    const waiters = this.waiters;
    this.ops = [];
    this.waiters = [];
    this.store.batch(ops).then(
      () => { for (const w of waiters) w.resolve(); },
      (err: unknown) => { for (const w of waiters) w.reject(err); },
    );
  };
}
