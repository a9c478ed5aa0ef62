import * as assert from 'node:assert/strict';
import { conformance, createComponent, SinkConsumer, testEvent, testHost, validConfig } from '@tapio/core/testing';
import type { Attributes, Processor, UnifiedEvent } from '@tapio/core';
import factory, { type ImpactConfig, type ImpactDetails } from '../src/index';
import { PAYMENT_CATALOG, paymentIncident } from './payment-example';

conformance(factory);
conformance(factory, { config: { services: PAYMENT_CATALOG }, batch: () => ({ events: paymentIncident().events }) });

async function score(events: UnifiedEvent[], overrides: Record<string, unknown> = {}): Promise<UnifiedEvent[]> {
  const sink = new SinkConsumer();
  const p = (await createComponent(factory, validConfig<ImpactConfig>(factory, overrides), sink)) as Processor;
  await p.start(testHost());
  await p.consume({ events });
  await p.shutdown();
  return sink.events;
}

const T0 = Date.UTC(2026, 10, 22, 10, 0, 0) * 1e6;
let seq = 0;
const hex = (n: number, w: number): string => n.toString(16).padStart(w, '0');

function serverSpan(service: string, opts: { failed?: boolean; user?: string; parent?: string; spanId?: string; traceId?: string; t?: number; kind?: number; attrs?: Attributes } = {}): UnifiedEvent {
  const e = testEvent('span', {
    time: opts.t ?? T0, severity: opts.failed ? 'error' : 'info',
    resource: { 'service.name': service },
    attributes: { ...(opts.user ? { 'enduser.id': opts.user } : {}), ...(opts.attrs ?? {}) },
    trace: { traceId: opts.traceId ?? hex(++seq, 32), spanId: opts.spanId ?? hex(++seq, 16), parentSpanId: opts.parent },
  });
  Object.assign(e.span!, { name: 'POST /api/pay', kind: opts.kind ?? 2, status: { code: opts.failed ? 2 : 0 } });
  return e;
}

describe('impact: the README payment example', () => {
  it('affected users and revenue at risk equal what is computed by hand from the same events', async () => {
    const { events, oom } = paymentIncident();
    const out = await score(events, { services: PAYMENT_CATALOG });
    const scored = out.find((e) => e.id === oom.id)!;
    // By hand: failing server spans of payment × its order value; distinct users on them.
    const failing = events.filter((e) => e.kind === 'span' && e.resource['service.name'] === 'payment' && e.span?.kind === 2 && e.span.status?.code === 2);
    const users = new Set(failing.map((e) => e.attributes['enduser.id']).filter((u) => u !== undefined));
    const impact = scored.impact as ImpactDetails;
    assert.equal(impact.affectedUsers, users.size);
    assert.equal(impact.revenueAtRisk, failing.length * PAYMENT_CATALOG.payment.average_order_value);
    assert.equal(impact.failedRequests, failing.length);
    assert.equal(impact.customerFacing, true);
    assert.equal(impact.guessed, false);
    assert.equal(impact.sloViolation, true, 'a quarter of requests failing burns a 99.9% budget far above 14.4x');
    assert.equal(impact.owner, 'team-payments');
    // The same OOM kill on a service nobody depends on, with no failing requests, matters less.
    const [alone] = await score([paymentIncident().oom], {});
    assert.ok(impact.score > alone!.impact!.score + 0.2, `incident ${impact.score} vs alone ${alone!.impact!.score}`);
    assert.ok(impact.severity === 'error' || impact.severity === 'fatal');
  });

  it('the burn rate is the failed share over the error budget', async () => {
    const { events } = paymentIncident();
    const out = await score(events, { services: PAYMENT_CATALOG, burn_rate_windows: [{ window: '1h', threshold: 6 }] });
    const spans = events.filter((e) => e.kind === 'span' && e.span?.kind === 2);
    const failed = spans.filter((e) => e.span?.status?.code === 2).length;
    const last = out.filter((e) => e.impact).pop()!;
    const expected = Math.round((failed / spans.length / (1 - 0.999)) * 100) / 100;
    assert.equal((last.impact as ImpactDetails).burnRate?.['1h'], expected);
  });
});

describe('impact: without a catalog', () => {
  it('still scores, from severity, entity kind and whether the service is user-facing, and says it guessed', async () => {
    const out = await score([
      serverSpan('shop-frontend', { failed: true, user: 'u1' }),
      serverSpan('shop-frontend', { failed: true, user: 'u2' }),
      testEvent('k8s', { time: T0, severity: 'error', resource: { 'service.name': 'shop-frontend' }, entity: { kind: 'pod', name: 'shop-frontend-1' }, k8s: { reason: 'BackOff' } }),
    ]);
    const k = out[2]!.impact!;
    assert.equal(k.guessed, true);
    assert.equal(k.customerFacing, true, 'root SERVER spans make it user-facing');
    assert.equal(k.revenueAtRisk, undefined, 'no value in a catalog: no revenue figure is invented');
    assert.equal(k.affectedUsers, 2);
    assert.ok(k.score > 0 && k.score <= 1);
  });

  it('does not score info events by default, but they still count as requests', async () => {
    const out = await score([serverSpan('a'), serverSpan('a', { failed: true })]);
    assert.equal(out[0]!.impact, undefined);
    assert.ok(out[1]!.impact);
  });
});

describe('impact: cascade risk from the call graph and the entity kind', () => {
  it('learns who calls whom from parent/child spans (in any arrival order) and carries customer impact downstream', async () => {
    const trace = hex(999, 32);
    // Each hop: a CLIENT span in the caller, the SERVER span of the callee as its child.
    const fe = serverSpan('frontend', { traceId: trace, spanId: hex(1, 16), failed: true, user: 'alice' });
    const feOut = serverSpan('frontend', { traceId: trace, spanId: hex(2, 16), parent: hex(1, 16), kind: 3, failed: true });
    const co = serverSpan('checkout', { traceId: trace, spanId: hex(3, 16), parent: hex(2, 16), failed: true });
    const coOut = serverSpan('checkout', { traceId: trace, spanId: hex(4, 16), parent: hex(3, 16), kind: 3, failed: true });
    const pay = serverSpan('payment', { traceId: trace, spanId: hex(5, 16), parent: hex(4, 16), failed: true });
    const payOut = serverSpan('payment', { traceId: trace, spanId: hex(6, 16), parent: hex(5, 16), kind: 3, failed: true });
    const db = serverSpan('postgres', { traceId: trace, spanId: hex(7, 16), parent: hex(6, 16), failed: true });
    const dbErr = testEvent('log', { time: T0, severity: 'error', resource: { 'service.name': 'postgres' }, log: { body: 'FATAL: could not write' } });
    const feErr = testEvent('log', { time: T0, severity: 'error', resource: { 'service.name': 'frontend' }, log: { body: 'upstream error' } });
    // Children first: the graph must still connect them when the parents arrive.
    const out = await score([db, pay, payOut, coOut, co, feOut, fe, dbErr, feErr], { services: { frontend: { customer_facing: true, revenue_per_request: 2.5, tier: 1 } } });
    const onDb = out[7]!.impact as ImpactDetails;
    const onFe = out[8]!.impact as ImpactDetails;
    assert.equal(onDb.dependents, 3, 'payment, checkout and frontend depend on postgres');
    assert.equal(onFe.dependents, 0);
    assert.ok(onDb.cascadeRisk > onFe.cascadeRisk);
    assert.equal(onDb.customerFacing, true, 'postgres sits under a customer-facing service');
    assert.equal(onDb.revenueAtRisk, 2.5, 'the failed frontend request × its value');
    assert.equal(onDb.affectedUsers, 1);
  });

  it('ranks entity kinds node > service > deployment > pod', async () => {
    const kinds = ['node', 'service', 'deployment', 'pod'];
    const out = await score(kinds.map((kind) => testEvent('k8s', { time: T0, severity: 'error', resource: {}, entity: { kind, name: 'x' }, k8s: { reason: 'X' } })));
    const risks = out.map((e) => e.impact!.cascadeRisk);
    for (let i = 1; i < risks.length; i++) assert.ok(risks[i - 1]! > risks[i]!, `${kinds[i - 1]} ${risks[i - 1]} > ${kinds[i]} ${risks[i]}`);
  });
});

describe('impact: windows and bounds', () => {
  it('forgets failures older than the window', async () => {
    const old = serverSpan('payment', { failed: true, user: 'old-user', t: T0 - 30 * 60e9 });
    const now = serverSpan('payment', { failed: true, user: 'new-user', t: T0 });
    const out = await score([old, now], { services: { payment: { customer_facing: true, revenue_per_request: 10 } }, window: '15m' });
    assert.equal(out[1]!.impact!.affectedUsers, 1);
    assert.equal(out[1]!.impact!.revenueAtRisk, 10);
  });

  it('keeps memory bounded: services beyond max_services and users beyond the cap are not tracked', async () => {
    const events = Array.from({ length: 20 }, (_, i) => serverSpan(`svc-${i}`, { failed: true, user: `u${i}` }));
    const many = Array.from({ length: 50 }, (_, i) => serverSpan('busy', { failed: true, user: `user-${i}` }));
    const sink = new SinkConsumer();
    const p = (await createComponent(factory, validConfig(factory, { limits: { max_services: 10, max_users_per_service: 25 } }), sink)) as Processor & { model: { trackedServices: number } };
    await p.start(testHost());
    await p.consume({ events: [...events, ...many] });
    assert.equal(p.model.trackedServices, 10);
    assert.equal(sink.events.length, 70);
    await p.shutdown();
  });

  it('rejects a broken catalog with the service and key named', () => {
    assert.throws(() => validConfig(factory, { services: { payment: { tier: 7 } } }), /services\.payment\.tier/);
    assert.throws(() => validConfig(factory, { services: { payment: { slo: { availability: 99.9 } } } }), /services\.payment\.slo\.availability/);
    assert.throws(() => validConfig(factory, { services: { payment: { revenue: 1 } } }), /revenue/);
  });

  it('passes events with missing fields through unscored or scored, never throwing', async () => {
    const odd = [
      { ...testEvent('span'), resource: undefined } as unknown as UnifiedEvent,
      testEvent('span', { severity: 'error', span: undefined }),
      testEvent('log', { severity: 'error', attributes: { 'http.status_code': 'not a number' } }),
    ];
    const out = await score(odd);
    assert.equal(out.length, 3);
    assert.ok(out[2]!.impact);
  });
});
