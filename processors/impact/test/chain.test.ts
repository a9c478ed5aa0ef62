import * as assert from 'node:assert/strict';
import { resolveYaml, testEvent, testReceiverFactory, testReceivers, testSinkExporterFactory, testSinks } from '@tapio/core/testing';
import { Collector, createLogger, defineReceiver, TOPOLOGY_SERVICE, type UnifiedEvent } from '@tapio/core';
import unifiedevent from '@tapio/processor-unifiedevent';
import semantic from '@tapio/processor-semantic';
import impact, { type ImpactDetails } from '../src/index';
import { FakeTopology, PAYMENT_CONTAINER, PAYMENT_POD } from '@tapio/core/testing';

/** Stands in for the kubernetes receiver: registers the topology when it starts (after the processors). */
const fakeK8s = defineReceiver<Record<string, never>>({
  type: 'fakek8s',
  stability: 'development',
  configSchema: { type: 'object', additionalProperties: false, properties: {} },
  create: () => ({
    async start(host) { host.registerService(TOPOLOGY_SERVICE, new FakeTopology([PAYMENT_POD])); },
    async shutdown() {},
  }),
});

const CONFIG = `
receivers:
  testpush:
  fakek8s:
processors:
  unifiedevent:
  semantic:
  impact:
    services:
      payment: { tier: 1, customer_facing: true, average_order_value: 80, owner: team-payments, slo: { availability: 0.999 } }
exporters:
  testsink:
service:
  telemetry: { metrics: { address: "localhost:0" } }
  pipelines:
    events:
      receivers: [testpush, fakek8s]
      processors: [unifiedevent, semantic, impact]
      exporters: [testsink]
`;

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';

describe('unifiedevent → semantic → impact in a running collector', () => {
  it('turns a bare kernel OOM kill into a pod-level, narrated, business-scored event; a log joins its trace', async () => {
    const { config, issues } = resolveYaml(CONFIG, [testReceiverFactory, testSinkExporterFactory, fakeK8s, unifiedevent, semantic, impact]);
    assert.deepEqual(issues, []);
    const collector = new Collector({ logger: createLogger('silent') });
    await collector.start(config!);
    try {
      const now = Date.now() * 1e6;
      const spans: UnifiedEvent[] = Array.from({ length: 12 }, (_, i) => {
        const failed = i % 2 === 0;
        const e = testEvent('span', {
          time: now, resource: { 'service.name': 'payment', 'k8s.namespace.name': 'prod', 'k8s.pod.name': PAYMENT_POD.name },
          attributes: { 'http.route': '/api/pay', 'http.response.status_code': failed ? 503 : 200, ...(failed ? { 'enduser.id': `u${i % 4}` } : {}) },
          trace: i === 0 ? { traceId: TRACE, spanId: '00f067aa0ba902b7' } : undefined,
        });
        Object.assign(e.span!, { kind: 2, name: 'POST /api/pay' });
        return e;
      });
      const line = testEvent('log', { time: now, resource: { 'service.name': 'payment' }, log: { body: `charge failed TraceID: ${TRACE}`, severityText: 'ERROR' } });
      const oom = testEvent('kernel', {
        time: now, resource: { 'host.name': 'node-a' },
        kernel: { event: 'oom_kill', pid: 31337, comm: 'java', cgroupPath: `/kubepods/burstable/pod${PAYMENT_POD.uid}/${PAYMENT_CONTAINER}` },
      });
      await testReceivers.get('testpush')!.push({ events: [...spans, line, oom] });
      const sink = testSinks.get('testsink')!;
      await sink.waitFor(14);
      const out = sink.events.find((e) => e.kind === 'kernel')!;
      assert.equal(out.entity?.name, PAYMENT_POD.name);
      assert.equal(out.resource['k8s.deployment.name'], 'payment');
      assert.equal(out.semantic?.intent, 'oom_kill');
      assert.match(out.semantic!.narrative, /^Process java \(pid 31337\) OOM-killed by the kernel in pod payment-7d8f9-x2k4q/);
      const failing = spans.filter((s) => s.attributes['http.response.status_code'] === 503);
      const im = out.impact as ImpactDetails;
      assert.equal(im.revenueAtRisk, failing.length * 80);
      assert.equal(im.affectedUsers, new Set(failing.map((s) => s.attributes['enduser.id'])).size);
      assert.equal(im.owner, 'team-payments');
      const log = sink.events.find((e) => e.kind === 'log')!;
      assert.equal(log.trace?.traceId, TRACE);
      assert.equal(log.severity, 'error');
    } finally {
      await collector.shutdown();
    }
  });
});
