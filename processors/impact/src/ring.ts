/**
 * Counters in fixed time buckets over event time, enough to sum any window up to the longest
 * configured one. Memory is fixed: one slot per bucket.
 */
export class BucketRing {
  private readonly ids: Float64Array;
  readonly total: Float64Array;
  readonly failed: Float64Array;
  readonly failedEntry: Float64Array;

  constructor(readonly bucketMs: number, readonly size: number) {
    this.ids = new Float64Array(size).fill(-1);
    this.total = new Float64Array(size);
    this.failed = new Float64Array(size);
    this.failedEntry = new Float64Array(size);
  }

  /** Adds to the bucket holding `timeMs`; a time older than the ring covers is ignored (returns false). */
  add(timeMs: number, total: number, failed: number, failedEntry: number): boolean {
    const id = Math.floor(timeMs / this.bucketMs);
    const i = id % this.size;
    const cur = this.ids[i]!;
    if (cur !== id) {
      if (cur > id) return false;
      this.ids[i] = id;
      this.total[i] = 0; this.failed[i] = 0; this.failedEntry[i] = 0;
    }
    this.total[i]! += total;
    this.failed[i]! += failed;
    this.failedEntry[i]! += failedEntry;
    return true;
  }

  /** Sums `field` over the window ending at `nowMs`. */
  sum(field: Float64Array, nowMs: number, windowMs: number): number {
    const last = Math.floor(nowMs / this.bucketMs);
    const n = Math.min(this.size, Math.ceil(windowMs / this.bucketMs));
    let s = 0;
    for (let id = last - n + 1; id <= last; id++) {
      const i = ((id % this.size) + this.size) % this.size;
      if (this.ids[i] === id) s += field[i]!;
    }
    return s;
  }
}
