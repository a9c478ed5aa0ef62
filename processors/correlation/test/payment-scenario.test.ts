import * as assert from 'node:assert/strict';
import {
  Collector, createEvent, createLogger, type Incident, type UnifiedEvent,
} from '@tapio/core';
import { resolveYaml, testReceiverFactory, testReceivers, testSinkExporterFactory, testSinks } from '@tapio/core/testing';
import correlation from '../src/index';

/**
 * The README's payment incident with synthetic-but-realistic events of all four layers, as
 * the eBPF, Kubernetes and OTLP receivers (after unifiedevent enrichment) deliver them:
 * the database stand-in is OOM-killed, its pod is reported OOMKilled, payment's connections
 * to it are refused, payment and frontend answer 500.
 */
const T0 = 1_732_000_000_000; // ms
const DB_POD = { 'k8s.pod.name': 'payment-db-0', 'k8s.namespace.name': 'prod', 'k8s.node.name': 'node-1', 'container.id': 'c0ffee01' };

let spanSeq = 0;
function httpSpan(service: string, name: string, t: number, ms: number, status: number, parent?: string, traceId = 'ab'.repeat(16)): UnifiedEvent {
  const spanId = (++spanSeq).toString(16).padStart(16, '0');
  return createEvent({
    kind: 'span', source: 'otlp', time: t * 1e6, severity: status >= 500 ? 'error' : 'info',
    trace: { traceId, spanId, parentSpanId: parent },
    resource: { 'service.name': service, 'k8s.namespace.name': 'prod', 'k8s.pod.name': `${service}-7d8f9c6b5-x2b4q` },
    attributes: { 'http.response.status_code': status },
    span: { name, kind: 2, startTimeUnixNano: String(t * 1e6), endTimeUnixNano: String((t + ms) * 1e6), durationMs: ms, status: { code: status >= 500 ? 2 : 1 } },
  });
}

function dbCall(t: number, ms: number, parent: string, traceId: string): UnifiedEvent {
  const spanId = (++spanSeq).toString(16).padStart(16, '0');
  return createEvent({
    kind: 'span', source: 'otlp', time: t * 1e6,
    trace: { traceId, spanId, parentSpanId: parent },
    resource: { 'service.name': 'payment', 'k8s.namespace.name': 'prod', 'k8s.pod.name': 'payment-7d8f9c6b5-x2b4q' },
    attributes: { 'db.system': 'postgresql', 'server.address': '10.0.0.7', 'peer.service': 'payment-db' },
    span: { name: 'SELECT accounts', kind: 3, startTimeUnixNano: String(t * 1e6), endTimeUnixNano: String((t + ms) * 1e6), durationMs: ms },
  });
}

function scenario(): { events: UnifiedEvent[]; oomId: string } {
  const events: UnifiedEvent[] = [];
  // A minute of healthy checkout traffic: frontend → payment → payment-db.
  for (let i = 0; i < 600; i++) {
    const t = T0 + i * 100;
    const traceId = i.toString(16).padStart(32, '0');
    const fe = httpSpan('frontend', 'POST /checkout', t, 12, 200, undefined, traceId);
    const pay = httpSpan('payment', 'POST /pay', t + 1, 9, 200, fe.trace!.spanId, traceId);
    events.push(fe, pay, dbCall(t + 2, 4, pay.trace!.spanId!, traceId));
  }
  events.push(createEvent({ kind: 'k8s', source: 'kubernetes', time: (T0 + 1000) * 1e6, severity: 'info',
    resource: { ...DB_POD, 'k8s.pod.ip': '10.0.0.7', 'k8s.statefulset.name': 'payment-db' }, entity: { kind: 'pod', name: 'payment-db-0', namespace: 'prod' },
    k8s: { reason: 'Started', message: 'Started container postgres', type: 'Normal' } }));
  const tf = T0 + 60_000;
  const oom = createEvent({ kind: 'kernel', source: 'ebpf', time: tf * 1e6, severity: 'fatal',
    resource: { ...DB_POD, 'host.name': 'node-1', 'process.pid': 4242, 'process.executable.name': 'postgres' },
    kernel: { event: 'oom_kill', pid: 4242, comm: 'postgres', cgroupPath: '/kubepods/pod-db/c0ffee01' } });
  events.push(oom);
  events.push(createEvent({ kind: 'k8s', source: 'kubernetes', time: (tf + 800) * 1e6, severity: 'warn',
    resource: { ...DB_POD }, entity: { kind: 'pod', name: 'payment-db-0', namespace: 'prod' },
    k8s: { reason: 'OOMKilled', message: 'Container postgres in pod payment-db-0 was OOMKilled (exit code 137)', type: 'Warning' } }));
  for (let i = 0; i < 20; i++) {
    const t = tf + 1000 + i * 100;
    events.push(createEvent({ kind: 'network', source: 'ebpf', time: t * 1e6, severity: 'error',
      resource: { 'host.name': 'node-2', 'process.pid': 777, 'service.name': 'payment', 'k8s.pod.name': 'payment-7d8f9c6b5-x2b4q', 'k8s.namespace.name': 'prod' },
      network: { event: 'connection_refused', srcAddr: '10.0.0.5', srcPort: 40000 + i, dstAddr: '10.0.0.7', dstPort: 5432, pid: 777, comm: 'node' } }));
    const traceId = (1000 + i).toString(16).padStart(32, '0');
    const fe = httpSpan('frontend', 'POST /checkout', t, 30, 500, undefined, traceId);
    fe.impact = { score: 0.9, severity: 'error', customerFacing: true, revenueAtRisk: 1200, affectedUsers: 20, sloViolation: true, cascadeRisk: 0.5 };
    events.push(fe, httpSpan('payment', 'POST /pay', t + 1, 28, 500, fe.trace!.spanId, traceId));
    events.push(createEvent({ kind: 'log', source: 'otlp', time: (t + 20) * 1e6, severity: 'error',
      resource: { 'service.name': 'payment', 'k8s.pod.name': 'payment-7d8f9c6b5-x2b4q' }, trace: { traceId },
      log: { body: 'payment failed: connect ECONNREFUSED 10.0.0.7:5432', severityNumber: 17, severityText: 'ERROR' } }));
  }
  // Keep time moving so windows close while the database is down.
  for (let i = 0; i < 300; i++) {
    const t = tf + 3000 + i * 100;
    const traceId = (5000 + i).toString(16).padStart(32, '0');
    const fe = httpSpan('frontend', 'POST /checkout', t, 30, 500, undefined, traceId);
    events.push(fe, httpSpan('payment', 'POST /pay', t + 1, 28, 500, fe.trace!.spanId, traceId));
  }
  events.sort((a, b) => a.time - b.time);
  return { events, oomId: oom.id };
}

describe('payment scenario: kernel OOM kill → pod OOMKilled → connection refused → 500s', () => {
  it('produces one incident with the OOM kill as root cause and a chain across four layers', async () => {
    const { config, issues } = resolveYaml(`
receivers: { testpush/payment: {} }
processors: { correlation: { pass_through: false } }
exporters: { testsink/payment: {} }
service:
  telemetry: { metrics: { address: "localhost:0" } }
  pipelines:
    events: { receivers: [testpush/payment], processors: [correlation], exporters: [testsink/payment] }
`, [testReceiverFactory, testSinkExporterFactory, correlation], 'payment.yaml');
    assert.ok(config, issues.map((i) => i.message).join('; '));
    const collector = new Collector({ logger: createLogger('silent') });
    await collector.start(config);
    const { events, oomId } = scenario();
    try {
      for (let i = 0; i < events.length; i += 200) await testReceivers.get('testpush/payment')!.push({ events: events.slice(i, i + 200) });
    } finally {
      await collector.shutdown();
    }
    const out = testSinks.get('testsink/payment')!.events;
    const byId = new Map<string, Incident>();
    for (const e of out) if (e.incident) byId.set((e.incident as unknown as Incident).id, e.incident as unknown as Incident);
    assert.equal(byId.size, 1, `one incident, got ${[...byId.values()].map((i) => i.title).join(' | ')}`);
    const inc = [...byId.values()][0]!;
    if (process.env.DEBUG_SCENARIO) console.log(JSON.stringify(inc, null, 1));
    assert.equal(inc.rankedCauses[0]!.entity.service, 'payment-db');
    assert.equal(inc.rootCause.entity.pod, 'payment-db-0');
    assert.ok(inc.rootCause.eventIds.includes(oomId), 'the kernel OOM kill is the root-cause evidence');
    assert.match(inc.rankedCauses[0]!.evidence[0]!, /^kernel: kernel oom_kill of postgres/);
    const layers = inc.chain.map((c) => c.layer);
    assert.deepEqual([...new Set(layers)], ['kernel', 'kubernetes', 'network', 'application'], 'ordered kernel → kubernetes → network → application');
    const k8sLink = inc.chain.find((c) => c.layer === 'kubernetes')!;
    assert.equal(k8sLink.intent, 'oom_kill');
    assert.ok(inc.chain.some((c) => c.intent === 'connection_refused'));
    assert.ok(inc.chain.some((c) => c.intent === 'http_5xx'));
    assert.equal(inc.impact?.revenueAtRisk, 1200, 'impact carried from the impact processor');
    assert.ok(inc.impact?.services?.includes('frontend'));
    assert.ok(inc.recommendations.some((r) => /payment-db/.test(r)), inc.recommendations.join(' | '));
    const services = inc.rankedCauses.map((c) => c.entity.service);
    assert.ok(services.indexOf('payment') > 0, 'payment is a symptom, ranked below the database');
  });
});
