export interface BackoffSettings {
  initialMs: number;
  maxMs: number;
  /** 0..1: each delay is spread uniformly over ±factor around its nominal value. */
  randomization: number;
}

/** Exponential backoff with jitter, so many replicas that lost the API server do not return in step. */
export class Backoff {
  private attempt = 0;
  constructor(private readonly s: BackoffSettings, private readonly random: () => number = Math.random) {}

  next(): number {
    const nominal = Math.min(this.s.maxMs, this.s.initialMs * 2 ** this.attempt);
    if (nominal < this.s.maxMs) this.attempt++;
    const spread = nominal * this.s.randomization;
    return Math.max(0, Math.round(nominal - spread + this.random() * 2 * spread));
  }

  reset(): void { this.attempt = 0; }
}

/** Resolves after ms, or early (without error) when the signal aborts. */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => { clearTimeout(t); signal.removeEventListener('abort', done); resolve(); };
    const t = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}
