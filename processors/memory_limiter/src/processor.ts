import { RetryableError, type Batch, type ComponentContext, type Consumer, type Host, type Processor } from '@tapio/core';
import type { Limits } from './config';
import type { MemoryReader } from './memory';

const MIB = 1024 * 1024;

export type LimiterState = 'ok' | 'soft_limited' | 'hard_limited';

export interface LimiterSettings {
  checkIntervalMs: number;
  limits: Limits;
  reader: MemoryReader;
  /** Forces a garbage collection; defaults to `global.gc` when node runs with --expose-gc. */
  gc?: () => void;
  /** Least time between forced GCs above the soft limit; default 10s (the Collector's). */
  minGcIntervalSoftMs?: number;
  /** Least time between forced GCs above the hard limit; default 0 (every check). */
  minGcIntervalHardMs?: number;
}

/**
 * Measures memory every `check_interval`. Above the soft limit (hard − spike) it refuses data
 * with a RetryableError, which receivers turn into 503 / UNAVAILABLE so clients back off and
 * retry. When a GC is exposed it forces one, as the Collector: above the soft limit when the
 * last was more than min_gc_interval_when_soft_limited ago, above the hard limit more than
 * min_gc_interval_when_hard_limited ago (the clock starts at creation). It accepts data again by
 * itself as soon as a measurement is back under the soft limit.
 */
export class MemoryLimiter implements Processor {
  readonly capabilities = { mutatesData: false };
  private timer: NodeJS.Timeout | undefined;
  private current: LimiterState = 'ok';
  private lastUsed = 0;
  private host: Host | undefined;
  private readonly refused: (n: number) => void;
  private readonly gcCount: (n: number) => void;
  private readonly gc: (() => void) | undefined;
  private lastGcMs: number;

  constructor(private readonly ctx: ComponentContext, private readonly s: LimiterSettings, private readonly next: Consumer) {
    this.gc = s.gc ?? (typeof (globalThis as { gc?: () => void }).gc === 'function' ? (globalThis as unknown as { gc: () => void }).gc : undefined);
    this.refused = ctx.telemetry.counter('tapio_processor_memory_limiter_refused_events', 'Events refused because memory use was over the soft limit');
    this.gcCount = ctx.telemetry.counter('tapio_processor_memory_limiter_forced_gc', 'Garbage collections forced above the soft or hard limit');
    ctx.telemetry.gauge('tapio_processor_memory_limiter_used_bytes', 'Memory use at the last check', () => this.lastUsed);
    this.lastGcMs = ctx.clock.nowMs();
  }

  get state(): LimiterState { return this.current; }

  async start(host: Host): Promise<void> {
    this.host = host;
    this.check();
    // The runtime marks a component 'ok' once start() returns; restate a limit found at start after that.
    if (this.current !== 'ok') setImmediate(() => this.reportStatus(this.current, this.lastUsed));
    clearInterval(this.timer);
    this.timer = setInterval(() => this.check(), this.s.checkIntervalMs);
    this.timer.unref();
  }

  async shutdown(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  consume(batch: Batch): Promise<void> {
    if (this.current === 'ok') return this.next.consume(batch);
    this.refused(batch.events.length);
    return Promise.reject(new RetryableError(
      `memory_limiter: memory use ${mib(this.lastUsed)} MiB is above the soft limit of ${mib(this.s.limits.softBytes)} MiB; retry later`,
      { retryAfterMs: this.s.checkIntervalMs },
    ));
  }

  /** One measurement; exposed for tests. */
  check(): LimiterState {
    let used = this.s.reader.used();
    if (used >= this.s.limits.softBytes && this.gc) {
      const minInterval = used >= this.s.limits.hardBytes ? this.s.minGcIntervalHardMs ?? 0 : this.s.minGcIntervalSoftMs ?? 10_000;
      const now = this.ctx.clock.nowMs();
      if (now - this.lastGcMs >= minInterval) {
        this.gc();
        this.lastGcMs = this.ctx.clock.nowMs();
        this.gcCount(1);
        used = this.s.reader.used();
      }
    }
    this.lastUsed = used;
    const next: LimiterState = used >= this.s.limits.hardBytes ? 'hard_limited' : used >= this.s.limits.softBytes ? 'soft_limited' : 'ok';
    if (next !== this.current) this.transition(next, used);
    return next;
  }

  private transition(next: LimiterState, used: number): void {
    const info = { usedMiB: mib(used), softLimitMiB: mib(this.s.limits.softBytes), hardLimitMiB: mib(this.s.limits.hardBytes) };
    if (next === 'ok') this.ctx.logger.info(info, 'memory back under the soft limit; accepting data again');
    else this.ctx.logger.warn({ ...info, state: next }, 'memory over the limit; refusing data');
    this.current = next;
    this.reportStatus(next, used);
  }

  private reportStatus(state: LimiterState, used: number): void {
    if (state === 'ok') this.host?.reportStatus(this.ctx.id, 'ok');
    else this.host?.reportStatus(this.ctx.id, 'recoverable_error', new Error(`memory ${state.replace('_', ' ')}: ${mib(used)} MiB used, soft limit ${mib(this.s.limits.softBytes)} MiB`));
  }
}

function mib(bytes: number): number {
  return Math.round((bytes / MIB) * 10) / 10;
}
