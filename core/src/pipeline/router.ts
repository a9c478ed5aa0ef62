import type { Counter, Attributes as OtelAttributes } from '@opentelemetry/api';
import type { Consumer, Signal } from '../component/types';
import type { Batch, EventKind, UnifiedEvent } from '../event/types';
import { ErrorCodes, RetryableError } from '../errors';
import { cloneEvents } from '../event/builder';

/** Which event kinds a pipeline of each signal carries. `events` pipelines carry everything. */
export const SIGNAL_KINDS: Record<Signal, ReadonlySet<EventKind> | undefined> = {
  traces: new Set(['span']),
  metrics: new Set(['metric']),
  // k8s/kernel/network/correlation events are log-like records (the OTLP exporter sends them as logs).
  logs: new Set(['log', 'k8s', 'kernel', 'network', 'correlation']),
  events: undefined,
};

export interface PipelineEntry {
  pipelineId: string;
  signal: Signal;
  consumer: Consumer;
  mutatesData: boolean;
}

/**
 * The consumer a receiver is given. It routes each batch to the pipelines the receiver feeds
 * (by signal), counts accepted and refused events, tracks in-flight batches so shutdown can
 * drain them, and refuses new data with a retryable error once draining has begun.
 */
export class ReceiverRouter implements Consumer {
  private inFlight = 0;
  private draining = false;
  private idleWaiters: (() => void)[] = [];

  constructor(
    private readonly entries: PipelineEntry[],
    private readonly accepted: Counter,
    private readonly refused: Counter,
    private readonly attrs: OtelAttributes,
  ) {}

  consume(batch: Batch): Promise<void> {
    const n = batch.events.length;
    if (this.draining) {
      this.refused.add(n, this.attrs);
      return Promise.reject(new RetryableError('the collector is shutting down', { code: ErrorCodes.SHUTTING_DOWN, retryAfterMs: 1000 }));
    }
    if (n === 0) return Promise.resolve();
    this.inFlight++;
    return this.dispatch(batch).then(
      () => { this.accepted.add(n, this.attrs); this.done(); },
      (err: unknown) => { this.refused.add(n, this.attrs); this.done(); throw err; },
    );
  }

  private dispatch(batch: Batch): Promise<void> {
    const entries = this.entries;
    if (entries.length === 1) {
      const e = entries[0]!;
      const events = filterForSignal(batch.events, e.signal);
      return events.length ? e.consumer.consume(events === batch.events ? batch : withEvents(batch, events)) : Promise.resolve();
    }
    const promises: Promise<void>[] = [];
    for (const e of entries) {
      let events = filterForSignal(batch.events, e.signal);
      if (!events.length) continue;
      if (e.mutatesData) events = cloneEvents(events);
      promises.push(e.consumer.consume(withEvents(batch, events)));
    }
    return Promise.all(promises).then(() => undefined);
  }

  private done(): void {
    if (--this.inFlight === 0 && this.idleWaiters.length) {
      const w = this.idleWaiters;
      this.idleWaiters = [];
      for (const f of w) f();
    }
  }

  /** Refuse new data from now on and resolve when every accepted batch has been handed on. */
  drain(): Promise<void> {
    this.draining = true;
    if (this.inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }
}

/** A batch of other events with the same client metadata. */
export function withEvents(batch: Batch, events: UnifiedEvent[]): Batch {
  return batch.metadata ? { events, metadata: batch.metadata } : { events };
}

function filterForSignal(events: UnifiedEvent[], signal: Signal): UnifiedEvent[] {
  const kinds = SIGNAL_KINDS[signal];
  if (!kinds) return events;
  let all = true;
  for (let i = 0; i < events.length; i++) if (!kinds.has(events[i]!.kind)) { all = false; break; }
  if (all) return events;
  return events.filter((e) => kinds.has(e.kind));
}
