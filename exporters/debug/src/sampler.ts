/**
 * What the Collector's debug exporter gets from zap's sampler: in every one-second window the
 * first `initial` outputs pass, then only every `thereafter`-th one. `thereafter: 1` (the
 * default) lets everything pass; 0 drops everything after the initial ones.
 */
export class PerSecondSampler {
  private windowStartMs = -Infinity;
  private seen = 0;

  constructor(private readonly initial: number, private readonly thereafter: number, private readonly nowMs: () => number) {}

  /** True when this output should be printed. */
  admit(): boolean {
    const now = this.nowMs();
    if (now - this.windowStartMs >= 1000) { this.windowStartMs = now; this.seen = 0; }
    this.seen++;
    if (this.seen <= this.initial) return true;
    return this.thereafter > 0 && (this.seen - this.initial) % this.thereafter === 0;
  }
}
