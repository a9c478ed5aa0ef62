import {
  parseDuration, TOPOLOGY_SERVICE, type Batch, type ComponentContext, type Consumer, type Host, type Processor,
  type TopologyService, type UnifiedEvent,
} from '@tapio/core';
import type { UnifiedEventConfig } from './config';
import { Deduplicator } from './dedup';
import { EntityResolver } from './entity';
import { canonicalSeverity } from './severity';
import { liftTraceContext } from './tracecontext';

/** The payload an event's kind needs is there (correlation events carry `incident` instead). */
function hasPayload(e: UnifiedEvent): boolean {
  switch (e.kind) {
    case 'span': return e.span !== undefined;
    case 'log': return e.log !== undefined;
    case 'metric': return e.metric !== undefined;
    case 'k8s': return e.k8s !== undefined;
    case 'kernel': return e.kernel !== undefined;
    case 'network': return e.network !== undefined;
    default: return true;
  }
}

export class UnifiedEventProcessor implements Processor {
  readonly capabilities = { mutatesData: true };
  private readonly resolver: EntityResolver;
  private readonly dedup?: Deduplicator;
  private readonly maxSkewNs: number;
  private timer?: NodeJS.Timeout;
  private stopped = false;
  private readonly countIncomplete: (n: number) => void;
  private readonly countSkewed: (n: number) => void;
  private readonly countTraceLifted: (n: number) => void;
  private readonly countFailed: (n: number) => void;

  constructor(private readonly ctx: ComponentContext, private readonly cfg: UnifiedEventConfig, private readonly next: Consumer) {
    this.resolver = new EntityResolver(cfg, undefined);
    if (cfg.dedup.enabled) {
      this.dedup = new Deduplicator(parseDuration(cfg.dedup.window), cfg.dedup.max_entries, new Set(cfg.dedup.kinds));
    }
    this.maxSkewNs = parseDuration(cfg.max_clock_skew) * 1e6;
    const t = ctx.telemetry;
    this.countIncomplete = t.counter('tapio_unifiedevent_incomplete_events', 'Events missing the payload their kind needs; passed on untouched');
    this.countSkewed = t.counter('tapio_unifiedevent_clock_skew_events', 'Events from the future beyond max_clock_skew, clamped');
    this.countTraceLifted = t.counter('tapio_unifiedevent_trace_context_lifted_events', 'Logs that joined their trace from body or attributes');
    this.countFailed = t.counter('tapio_unifiedevent_normalize_failed_events', 'Events whose normalization threw; passed on as they were');
  }

  async start(host: Host): Promise<void> {
    if (this.cfg.entity_resolution.use_topology) host.onService<TopologyService>(TOPOLOGY_SERVICE, (t) => this.resolver.setTopology(t));
    if (this.dedup) {
      const every = Math.max(50, parseDuration(this.cfg.dedup.window) / 2);
      this.timer = setInterval(() => { this.flushDedup(false); }, every);
      this.timer.unref();
    }
  }

  async shutdown(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    if (this.dedup) {
      const out: UnifiedEvent[] = [];
      this.dedup.flush(0, true, out);
      if (out.length) await this.next.consume({ events: out });
    }
  }

  consume(batch: Batch): Promise<void> {
    const events = batch.events;
    const nowMs = this.ctx.clock.nowMs();
    const nowNs = nowMs * 1e6;
    const dedup = this.dedup;
    let kept: UnifiedEvent[] | undefined; // allocated only once something is held back
    const summaries: UnifiedEvent[] = [];
    let held = 0;
    for (let i = 0; i < events.length; i++) {
      const e = events[i]!;
      this.normalize(e, nowNs);
      if (dedup) {
        if (!dedup.offer(e, nowMs, summaries)) {
          held++;
          if (!kept) kept = events.slice(0, i);
          continue;
        }
        if (kept) kept.push(e);
      }
    }
    if (held) this.ctx.telemetry.dropped(held, 'deduplicated');
    let result = kept ?? events;
    if (summaries.length) result = result === events ? events.concat(summaries) : (result.push(...summaries), result);
    if (!result.length) return Promise.resolve();
    return this.next.consume(result === events ? batch : { events: result });
  }

  /** Every step on one event; a failure leaves the event as it was and is counted, never thrown. */
  private normalize(e: UnifiedEvent, nowNs: number): void {
    try {
      if (!hasPayload(e)) this.countIncomplete(1);
      if (!e.resource || typeof e.resource !== 'object') { this.countIncomplete(1); return; }
      if (!e.attributes || typeof e.attributes !== 'object') e.attributes = {};
      const cfg = this.cfg;
      if (cfg.severity.enabled) e.severity = canonicalSeverity(e);
      if (cfg.trace_context.enabled && e.kind === 'log' && liftTraceContext(e, cfg.trace_context.from_attributes, cfg.trace_context.from_body)) {
        this.countTraceLifted(1);
      }
      if (cfg.entity_resolution.enabled) this.resolver.resolve(e);
      if (this.maxSkewNs > 0 && typeof e.time === 'number' && e.time - nowNs > this.maxSkewNs) {
        e.attributes['tapio.clock_skew.original_time_unix_nano'] = String(e.time);
        e.attributes['tapio.clock_skew.ms'] = Math.round((e.time - nowNs) / 1e6);
        e.time = e.observedTime && e.observedTime <= nowNs ? e.observedTime : nowNs;
        this.countSkewed(1);
      }
    } catch (err) {
      this.countFailed(1);
      this.ctx.logger.debug({ err: (err as Error).message, id: e?.id }, 'normalization failed; event passed on as it was');
    }
  }

  private flushDedup(all: boolean): void {
    if (!this.dedup || this.stopped) return;
    const out: UnifiedEvent[] = [];
    this.dedup.flush(this.ctx.clock.nowMs(), all, out);
    if (!out.length) return;
    this.next.consume({ events: out }).catch((err: unknown) => {
      this.ctx.telemetry.dropped(out.length, 'dedup_summary_rejected');
      this.ctx.logger.warn({ err: (err as Error).message, events: out.length }, 'downstream refused de-duplication summaries');
    });
  }
}

export function createUnifiedEventProcessor(ctx: ComponentContext, cfg: UnifiedEventConfig, next: Consumer): Processor {
  return new UnifiedEventProcessor(ctx, cfg, next);
}
