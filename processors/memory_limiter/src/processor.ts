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
 *
 * One MemoryLimiter instance (this core) serves every pipeline the processor is in, as the
 * Collector's factory shares one per component id: memory is the process's, so one check and one
 * forced GC, not one per pipeline fired back to back.
 */
export class LimiterCore {
  private timer: NodeJS.Timeout | undefined;
  private current: LimiterState = 'ok';
  private lastUsed = 0;
  /** Pipelines started and not shut down; the checks run while there is one. */
  private users = 0;
  private readonly hosts = new Set<Host>();
  private readonly refused: (n: number) => void;
  private readonly gcCount: (n: number) => void;
  private readonly gc: (() => void) | undefined;
  private lastGcMs: number;

  constructor(private readonly ctx: ComponentContext, readonly s: LimiterSettings) {
    this.gc = s.gc ?? (typeof (globalThis as { gc?: () => void }).gc === 'function' ? (globalThis as unknown as { gc: () => void }).gc : undefined);
    this.refused = ctx.telemetry.counter('tapio_processor_memory_limiter_refused_events', 'Events refused because memory use was over the soft limit');
    this.gcCount = ctx.telemetry.counter('tapio_processor_memory_limiter_forced_gc', 'Garbage collections forced above the soft or hard limit');
    ctx.telemetry.gauge('tapio_processor_memory_limiter_used_bytes', 'Memory use at the last check', () => this.lastUsed);
    this.lastGcMs = ctx.clock.nowMs();
  }

  get state(): LimiterState { return this.current; }
  /** Every pipeline that started it has shut down: a new graph should get a fresh core. */
  get retired(): boolean { return this.wasUsed && this.users === 0; }
  private wasUsed = false;

  /** A pipeline starts using it: the first one starts the checks. */
  acquire(host: Host): void {
    this.hosts.add(host);
    this.wasUsed = true;
    if (this.users++ > 0) {
      if (this.current !== 'ok') setImmediate(() => this.reportStatus(this.current, this.lastUsed));
      return;
    }
    this.check();
    // The runtime marks a component 'ok' once start() returns; restate a limit found at start after that.
    if (this.current !== 'ok') setImmediate(() => this.reportStatus(this.current, this.lastUsed));
    this.timer = setInterval(() => this.check(), this.s.checkIntervalMs);
    this.timer.unref();
  }

  /** A pipeline is done with it: the last one stops the checks (and forgets the hosts it reported to). */
  release(): void {
    if (this.users === 0) return;
    if (--this.users > 0) return;
    clearInterval(this.timer);
    this.timer = undefined;
    this.hosts.clear();
  }

  refuse(batch: Batch): Promise<void> {
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
    for (const host of this.hosts) {
      if (state === 'ok') host.reportStatus(this.ctx.id, 'ok');
      else host.reportStatus(this.ctx.id, 'recoverable_error', new Error(`memory ${state.replace('_', ' ')}: ${mib(used)} MiB used, soft limit ${mib(this.s.limits.softBytes)} MiB`));
    }
  }
}

/** The processor in one pipeline: refuses or passes data on as its (possibly shared) core says. */
export class MemoryLimiter implements Processor {
  readonly capabilities = { mutatesData: false };
  private started = false;
  readonly core: LimiterCore;

  /** `core`: the one shared with the processor's other pipelines; a private one when not given. */
  constructor(ctx: ComponentContext, s: LimiterSettings, private readonly next: Consumer, core?: LimiterCore) {
    this.core = core ?? new LimiterCore(ctx, s);
  }

  get state(): LimiterState { return this.core.state; }

  async start(host: Host): Promise<void> {
    if (this.started) return;
    this.started = true;
    this.core.acquire(host);
  }

  async shutdown(): Promise<void> {
    if (!this.started) return;
    this.started = false;
    this.core.release();
  }

  consume(batch: Batch): Promise<void> {
    if (this.core.state === 'ok') return this.next.consume(batch);
    return this.core.refuse(batch);
  }

  /** One measurement; exposed for tests. */
  check(): LimiterState { return this.core.check(); }
}

function mib(bytes: number): number {
  return Math.round((bytes / MIB) * 10) / 10;
}
