import type { Batch, Consumer, Processor, ProcessorFactory, Receiver, ReceiverFactory, UnifiedEvent } from '@tapio/core';
import { testContext, testHost, validConfig } from '@tapio/core/testing';
import { CorrelationEngine, type EngineSettings } from '../engine/engine';
import { latestIncidents, type EmbeddedResult } from './embedded';
import { sendToEndpoint } from './send';
import type { ReplayRequest } from './reader';

/** The `otlp` receiver factory, when `@tapio/receiver-otlp` is installed next to this package. */
export function loadOtlpReceiverFactory(): ReceiverFactory | undefined {
  try {
    // Optional at runtime: the correlation processor does not need it, only replay/eval do.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const mod = require('@tapio/receiver-otlp') as { default?: ReceiverFactory };
    return mod.default?.type === 'otlp' ? mod.default : undefined;
  } catch { return undefined; }
}

/** The processors that run before `correlation` in the default pipeline, in order. */
export const DEFAULT_STAGES = ['@tapio/processor-unifiedevent', '@tapio/processor-semantic', '@tapio/processor-impact'];

/** Factories of the default pipeline's processors that are installed (missing ones are listed). */
export function loadStages(names: string[] = DEFAULT_STAGES): { factories: ProcessorFactory[]; missing: string[] } {
  const factories: ProcessorFactory[] = [];
  const missing: string[] = [];
  for (const n of names) {
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const f = (require(n) as { default?: ProcessorFactory }).default;
      if (f?.kind === 'processor') factories.push(f); else missing.push(n);
    } catch { missing.push(n); }
  }
  return { factories, missing };
}

/** Feeds the engine from the receiver, remembering what it produced and the trace/log time range. */
class EngineConsumer implements Consumer {
  readonly produced: UnifiedEvent[] = [];
  events = 0;
  lo = Infinity;
  hi = -Infinity;
  constructor(readonly engine: CorrelationEngine) {}
  consume(batch: Batch): Promise<void> {
    const evs = batch.events;
    this.events += evs.length;
    for (let i = 0; i < evs.length; i++) {
      const e = evs[i]!;
      if (e.kind === 'metric') continue;
      const end = e.span ? Number(e.span.endTimeUnixNano) : e.time;
      if (e.time > 0 && e.time < this.lo) this.lo = e.time;
      if (end > this.hi) this.hi = end;
    }
    for (const e of this.engine.ingest(evs)) this.produced.push(e);
    return Promise.resolve();
  }
}

/**
 * Replays requests over OTLP/HTTP (JSON) into the real `otlp` receiver listening on a free
 * port, whose events go straight to a fresh correlation engine. Returns undefined when the
 * receiver package is not available.
 */
export async function replayThroughOtlpReceiver(requests: ReplayRequest[], settings: EngineSettings, caseId?: string, stages: ProcessorFactory[] = []): Promise<EmbeddedResult | undefined> {
  const factory = loadOtlpReceiverFactory();
  if (!factory) return undefined;
  const consumer = new EngineConsumer(new CorrelationEngine(settings));
  // receiver → unifiedevent → semantic → impact → correlation, each with its default config.
  const host = testHost();
  const processors: Processor[] = [];
  let next: Consumer = consumer;
  for (const f of [...stages].reverse()) {
    const p = await f.create(testContext(f.type, 'processor'), validConfig(f), next);
    processors.unshift(p);
    next = p;
  }
  for (const p of [...processors].reverse()) await p.start(host);
  const receiver = await factory.create(testContext('otlp/replay', 'receiver'), validConfig(factory, { protocols: { http: { endpoint: 'localhost:0' } } }), next) as Receiver & { http?: { port: number } };
  await receiver.start(host);
  try {
    const port = receiver.http?.port;
    if (!port) throw new Error('the otlp receiver did not report its HTTP port');
    const { failed } = await sendToEndpoint(requests, `http://localhost:${port}`);
    if (failed) throw new Error(`${failed} OTLP requests were refused by the receiver`);
  } finally {
    await receiver.shutdown();
    for (const p of processors) await p.shutdown();
  }
  for (const e of consumer.engine.flush()) consumer.produced.push(e);
  return {
    ...latestIncidents(consumer.produced, caseId), events: consumer.events, correlationEvents: consumer.produced,
    traceLogRange: consumer.lo <= consumer.hi ? [consumer.lo, consumer.hi] : undefined,
  };
}
