import type { Incident, UnifiedEvent } from '@tapio/core';
import { CorrelationEngine, type EngineSettings } from '../engine/engine';
import { decodeRequest } from '../otlp/decode';
import type { ReplayRequest } from './reader';

export interface EmbeddedResult {
  incidents: Incident[];
  predictions: UnifiedEvent[];
  events: number;
  correlationEvents: UnifiedEvent[];
  /** Time range (unix ns) covered by the replayed spans and logs; metrics are left out (they often reach further back). */
  traceLogRange?: [number, number];
}

/**
 * Replays requests through an in-process decoder and a fresh correlation engine. This is the
 * fallback path: OTLP/JSON is decoded here, not by the `otlp` receiver.
 * TODO(issue 5): run through an embedded Collector with the real otlp receiver and the
 * unifiedevent/semantic/impact processors once those packages exist.
 */
export function replayEmbedded(requests: ReplayRequest[], settings: EngineSettings, caseId?: string): EmbeddedResult {
  const engine = new CorrelationEngine(settings);
  const produced: UnifiedEvent[] = [];
  let events = 0;
  let lo = Infinity; let hi = -Infinity;
  for (const r of requests) {
    const batch = decodeRequest(r.signal, r.body, 'replay');
    events += batch.length;
    if (r.signal !== 'metrics') {
      for (const e of batch) {
        const end = e.span ? Number(e.span.endTimeUnixNano) : e.time;
        if (e.time > 0 && e.time < lo) lo = e.time;
        if (end > hi) hi = end;
      }
    }
    for (const e of engine.ingest(batch)) produced.push(e);
  }
  for (const e of engine.flush()) produced.push(e);
  return { ...latestIncidents(produced, caseId), events, correlationEvents: produced, traceLogRange: lo <= hi ? [lo, hi] : undefined };
}

/** The last state of every incident (updates replace earlier states), plus predictions. */
export function latestIncidents(produced: UnifiedEvent[], caseId?: string): { incidents: Incident[]; predictions: UnifiedEvent[] } {
  const byId = new Map<string, Incident>();
  const predictions: UnifiedEvent[] = [];
  for (const e of produced) {
    if (e.incident) {
      const inc = e.incident as unknown as Incident;
      byId.set(inc.id, caseId ? { ...inc, caseId } : inc);
    } else if (e.attributes['tapio.prediction']) predictions.push(e);
  }
  return { incidents: [...byId.values()], predictions };
}
