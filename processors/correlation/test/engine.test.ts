import * as assert from 'node:assert/strict';
import { createEvent, type Incident, type UnifiedEvent } from '@tapio/core';
import { CorrelationEngine, createDefaultConfig, engineSettings, type CorrelationConfig } from '../src/index';
import { batches, rng, shopTraffic } from './synthetic';

const T0 = 1_700_000_000_000; // ms

function engine(overrides: (c: CorrelationConfig) => void = () => {}): CorrelationEngine {
  const c = createDefaultConfig();
  overrides(c);
  return new CorrelationEngine(engineSettings(c));
}

function run(e: CorrelationEngine, events: UnifiedEvent[], batchSize = 500): UnifiedEvent[] {
  const out: UnifiedEvent[] = [];
  for (const b of batches(events, batchSize)) out.push(...e.ingest(b));
  out.push(...e.flush());
  return out;
}

function lastIncidents(out: UnifiedEvent[]): Incident[] {
  const byId = new Map<string, Incident>();
  for (const e of out) if (e.kind === 'correlation' && e.incident) byId.set((e.incident as unknown as Incident).id, e.incident as unknown as Incident);
  return [...byId.values()];
}

describe('correlation engine', () => {
  it('blames the service whose own work slowed down, not its callers', () => {
    const events = shopTraffic(T0, 3000, 20, { service: 'payment', mode: 'self', addMs: 40, fromMs: T0 + 40_000 });
    const incidents = lastIncidents(run(engine(), events));
    assert.equal(incidents.length, 1, 'one incident');
    const inc = incidents[0]!;
    assert.equal(inc.rankedCauses[0]!.entity.service, 'payment');
    assert.equal(inc.rootCause.entity.service, 'payment');
    assert.ok(Number(inc.startTimeUnixNano) >= (T0 + 30_000) * 1e6, 'the incident starts near the fault, not during warm-up');
    assert.ok(inc.rankedCauses[0]!.evidence.some((e) => /exclusive time of Charge up/.test(e)), inc.rankedCauses[0]!.evidence.join('; '));
    assert.ok(inc.recommendations.length > 0);
  });

  it('blames the service at the centre of slow edges for a network delay', () => {
    const events = shopTraffic(T0, 3000, 20, { service: 'checkout', mode: 'network', addMs: 60, fromMs: T0 + 40_000 });
    const inc = lastIncidents(run(engine(), events))[0]!;
    assert.equal(inc.rankedCauses[0]!.entity.service, 'checkout');
    assert.equal(inc.rankedCauses[0]!.entity.pod, 'checkout-5d9c7b8f6-abcde');
  });

  it('opens no incident on healthy traffic', () => {
    const incidents = lastIncidents(run(engine(), shopTraffic(T0, 3000, 20)));
    assert.deepEqual(incidents, []);
  });

  it('resolves the incident when the signals recover', () => {
    const events = shopTraffic(T0, 8000, 20, { service: 'catalog', mode: 'self', addMs: 40, fromMs: T0 + 40_000, toMs: T0 + 70_000 });
    const out = run(engine(), events);
    const states = out.filter((e) => e.incident).map((e) => (e.incident as unknown as Incident).status);
    assert.ok(states.includes('open'));
    assert.equal(states[states.length - 1], 'resolved');
    const inc = lastIncidents(out)[0]!;
    assert.equal(inc.rankedCauses[0]!.entity.service, 'catalog');
    assert.ok(Number(inc.endTimeUnixNano) < (T0 + 100_000) * 1e6, 'ends soon after the fault stops');
  });

  it('gives the same incidents live, in one batch and out of order within the allowed lateness', () => {
    const events = shopTraffic(T0, 3000, 20, { service: 'payment', mode: 'self', addMs: 40, fromMs: T0 + 40_000 });
    const summary = (out: UnifiedEvent[]): string => JSON.stringify(lastIncidents(out).map((i) => ({
      start: i.startTimeUnixNano, end: i.endTimeUnixNano, causes: i.rankedCauses.map((c) => [c.entity.service, c.score]),
    })));
    const inOrder = summary(run(engine(), events, 100));
    const oneBatch = summary(run(engine(), events, events.length));
    // Shuffle inside 1-second blocks (well within the 5 s lateness) and use odd batch sizes.
    const r = rng(7);
    const shuffled = [...events].sort((a, b) => Math.floor(a.time / 1e9) - Math.floor(b.time / 1e9) || r() - 0.5);
    const disordered = summary(run(engine(), shuffled, 37));
    assert.equal(oneBatch, inOrder);
    assert.equal(disordered, inOrder);
  });

  it('counts events later than the allowed lateness instead of crashing, and tolerates missing timestamps', () => {
    const e = engine();
    e.ingest(shopTraffic(T0, 500, 20));
    const late = shopTraffic(T0 - 60_000, 5, 20, undefined, 2);
    e.ingest(late);
    assert.equal(e.counters.late, late.length);
    const noTime = createEvent({ kind: 'log', source: 't', time: 0, observedTime: 0, log: { body: 'x' } });
    assert.doesNotThrow(() => e.ingest([noTime, createEvent({ kind: 'kernel', source: 't', kernel: { event: 'oom_kill' } })]));
    assert.ok(e.counters.noTimestamp >= 1);
  });

  it('keeps memory bounded and counts what it evicts', () => {
    const e = engine((c) => { c.limits.max_spans = 200; c.limits.max_features = 20; });
    // Spans whose parents never arrive and never end inside the window pile up without a bound.
    const events: UnifiedEvent[] = [];
    for (let i = 0; i < 2000; i++) {
      const t = T0 + i;
      events.push(createEvent({ kind: 'span', source: 't', time: t * 1e6, resource: { 'service.name': `svc${i % 50}` },
        trace: { traceId: 'a'.repeat(32), spanId: i.toString(16).padStart(16, '0'), parentSpanId: 'f'.repeat(16) },
        span: { name: `op${i % 30}`, kind: 2, startTimeUnixNano: String(t * 1e6), endTimeUnixNano: String((t + 3_600_000) * 1e6) } }));
    }
    e.ingest(events);
    assert.ok(e.heldSpans <= 200, `held ${e.heldSpans}`);
    assert.ok(e.counters.evictedSpans > 0);
    e.flush();
    assert.ok(e.heldFeatures <= 20);
    assert.ok(e.counters.evictedFeatures > 0);
  });

  it('blames the service whose logs turn to errors of a never-seen pattern', () => {
    const events = shopTraffic(T0, 3000, 20);
    const r = rng(3);
    for (let i = 0; i < 1200; i++) {
      const t = T0 + i * 50;
      for (const svc of ['frontend', 'checkout', 'catalog']) {
        const broken = svc === 'catalog' && t >= T0 + 40_000 && r() < 0.5;
        events.push(createEvent({ kind: 'log', source: 't', time: t * 1e6, severity: broken ? 'error' : 'info',
          resource: { 'service.name': svc, 'k8s.pod.name': `${svc}-5d9c7b8f6-abcde` },
          log: { body: broken ? `pool exhausted: no connection to 10.1.2.${i % 250} after ${i % 90} ms` : `handled request ${i} in ${Math.round(r() * 20)} ms` } }));
      }
    }
    events.sort((a, b) => a.time - b.time);
    const inc = lastIncidents(run(engine(), events))[0]!;
    assert.equal(inc.rankedCauses[0]!.entity.service, 'catalog');
    assert.ok(inc.rankedCauses[0]!.evidence.some((e) => /error log rate|new log patterns/.test(e)), inc.rankedCauses[0]!.evidence.join('; '));
  });

  it('warns before a memory series reaches its limit', () => {
    const e = engine();
    const out: UnifiedEvent[] = [];
    for (let i = 0; i < 10; i++) {
      out.push(...e.ingest([createEvent({ kind: 'metric', source: 't', time: (T0 + i * 60_000) * 1e6,
        resource: { 'service.name': 'cache', 'k8s.pod.name': 'cache-0' },
        metric: { name: 'container.memory.utilization', unit: '%', type: 'gauge', value: 50 + i * 3 } })]));
    }
    const predictions = out.filter((x) => x.attributes['tapio.prediction']);
    assert.equal(predictions.length, 1, 'one warning per horizon');
    assert.match(predictions[0]!.semantic!.narrative, /OOM kill of cache-0 likely in ~\d+ min/);
    const eta = predictions[0]!.attributes['tapio.prediction.eta_ms'] as number;
    assert.ok(eta > 0 && eta <= 30 * 60_000);
  });
});
