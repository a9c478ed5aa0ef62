/**
 * Robust statistics for online baselines: a bounded, deterministic sample of "normal"
 * values per feature, summarised by median / MAD and tail quantiles. No training step:
 * windows judged normal are folded in, anomalous ones are not, so the baseline adapts to
 * traffic changes without learning the fault itself.
 */
export class Baseline {
  private samples: Float64Array;
  private size = 0;
  private seen = 0;
  private sorted?: Float64Array;
  private sigma = NaN;
  private sum = 0;
  /** Samples added since the sorted view was built. */
  private stale = 0;

  constructor(private readonly capacity: number) {
    this.samples = new Float64Array(capacity);
  }

  get count(): number { return this.size; }
  get observed(): number { return this.seen; }

  /**
   * Adds a value. When full, replaces a slot chosen by a deterministic hash of the
   * running count (reservoir-like, but reproducible: replay == live).
   */
  add(v: number): void {
    this.seen++;
    this.stale++;
    if (this.size < this.capacity) { this.samples[this.size++] = v; this.sum += v; return; }
    const slot = (Math.imul(this.seen, 2654435761) >>> 0) % this.seen;
    if (slot < this.capacity) { this.sum += v - this.samples[slot]!; this.samples[slot] = v; }
  }

  mean(): number { return this.size ? this.sum / this.size : 0; }

  /**
   * The sorted samples. Re-sorted once an eighth of the baseline is new (at least 8 samples),
   * not on every add: a busy feature's quantiles move slowly, and sorting is the cost of a window.
   */
  private view(): Float64Array {
    if (!this.sorted || this.stale >= Math.max(8, this.size >> 3) || this.sorted.length < Math.min(this.size, 8)) {
      this.sorted = this.samples.slice(0, this.size).sort();
      this.sigma = NaN;
      this.stale = 0;
    }
    return this.sorted;
  }

  quantile(q: number): number { return quantileSorted(this.view(), q); }
  median(): number { return this.quantile(0.5); }

  /** Median absolute deviation scaled to a normal sigma (×1.4826). */
  robustSigma(): number {
    const v = this.view();
    if (!Number.isNaN(this.sigma) && v === this.sorted) return this.sigma;
    this.sigma = this.computeSigma();
    return this.sigma;
  }

  private computeSigma(): number {
    const s = this.view();
    if (!s.length) return 0;
    const m = quantileSorted(s, 0.5);
    const dev = new Float64Array(s.length);
    for (let i = 0; i < s.length; i++) dev[i] = Math.abs(s[i]! - m);
    dev.sort();
    return 1.4826 * quantileSorted(dev, 0.5);
  }

  /** Approximate bytes held (for the memory bound). */
  get bytes(): number { return this.capacity * 8 + 64; }
}

export function quantileSorted(s: ArrayLike<number>, q: number): number {
  const n = s.length;
  if (!n) return NaN;
  const pos = q * (n - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(n - 1, lo + 1);
  return s[lo]! + (s[hi]! - s[lo]!) * (pos - lo);
}

export function median(values: number[]): number {
  const s = Float64Array.from(values).sort();
  return quantileSorted(s, 0.5);
}

/** One-sided binomial z-score: how surprising k hits in n trials are when each has probability p. */
export function binomialZ(k: number, n: number, p: number): number {
  if (n <= 0) return 0;
  const sd = Math.sqrt(n * p * (1 - p));
  return sd > 0 ? (k - n * p) / sd : 0;
}

/** Least-squares slope of y over x (used for memory/disk trend projection). */
export function slope(xs: number[], ys: number[]): number {
  const n = xs.length;
  if (n < 2) return 0;
  let mx = 0; let my = 0;
  for (let i = 0; i < n; i++) { mx += xs[i]!; my += ys[i]!; }
  mx /= n; my /= n;
  let num = 0; let den = 0;
  for (let i = 0; i < n; i++) { num += (xs[i]! - mx) * (ys[i]! - my); den += (xs[i]! - mx) ** 2; }
  return den > 0 ? num / den : 0;
}
