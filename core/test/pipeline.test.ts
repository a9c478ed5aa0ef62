import * as assert from 'node:assert/strict';
import { RAW_WIRE_BYTES, type WithRawWireBytes } from '../src/index';
import { testEvent, testHost, testReceivers, testSinks } from '../src/testing/index';
import { newCollector, resolveOrThrow } from './helpers';

const TWO_PIPELINES = `
receivers: {testpush: }
processors:
  example_tag: {key: changed, value: "yes"}
exporters:
  testsink/tagged: {}
  testsink/plain: {}
service:
  telemetry: {metrics: {address: "127.0.0.1:0"}}
  pipelines:
    logs/tagged: {receivers: [testpush], processors: [example_tag], exporters: [testsink/tagged]}
    logs/plain: {receivers: [testpush], exporters: [testsink/plain]}
`;

describe('pipeline runtime', () => {
  it('fans one receiver out to two pipelines; a mutating processor in one does not change what the other exports', async () => {
    const c = newCollector();
    await c.start(resolveOrThrow(TWO_PIPELINES));
    try {
      const events = [testEvent('log'), testEvent('log')];
      await testReceivers.get('testpush')!.push({ events });
      const tagged = testSinks.get('testsink/tagged')!.events;
      const plain = testSinks.get('testsink/plain')!.events;
      assert.equal(tagged.length, 2);
      assert.equal(plain.length, 2);
      assert.equal(tagged[0]!.attributes.changed, 'yes');
      assert.equal(plain[0]!.attributes.changed, undefined, 'the plain pipeline must not see the other pipeline\'s mutation');
      assert.equal(events[0]!.attributes.changed, undefined, 'the receiver\'s own batch is untouched');
    } finally {
      await c.shutdown();
    }
  });

  it('routes by signal: spans only reach traces pipelines, everything reaches events pipelines', async () => {
    const c = newCollector();
    await c.start(resolveOrThrow(`
receivers: {testpush: }
exporters: {testsink/t: {}, testsink/l: {}, testsink/e: {}}
service:
  telemetry: {metrics: {level: none}}
  pipelines:
    traces: {receivers: [testpush], exporters: [testsink/t]}
    logs: {receivers: [testpush], exporters: [testsink/l]}
    events: {receivers: [testpush], exporters: [testsink/e]}
`));
    try {
      await testReceivers.get('testpush')!.push({ events: [testEvent('span'), testEvent('log'), testEvent('kernel'), testEvent('metric')] });
      assert.deepEqual(testSinks.get('testsink/t')!.events.map((e) => e.kind), ['span']);
      assert.deepEqual(testSinks.get('testsink/l')!.events.map((e) => e.kind), ['log', 'kernel']);
      assert.deepEqual(testSinks.get('testsink/e')!.events.map((e) => e.kind), ['span', 'log', 'kernel', 'metric']);
    } finally {
      await c.shutdown();
    }
  });

  it('drains on shutdown: every batch accepted before shutdown reaches the exporter; later ones are refused', async () => {
    const c = newCollector();
    await c.start(resolveOrThrow(`
receivers: {testpush: }
exporters: {testsink: {delay_ms: 30}}
service:
  telemetry: {metrics: {level: none}}
  pipelines: {logs: {receivers: [testpush], exporters: [testsink]}}
`));
    const r = testReceivers.get('testpush')!;
    const inFlight = Array.from({ length: 20 }, () => r.push({ events: [testEvent('log'), testEvent('log')] }));
    const stopping = c.shutdown();
    await Promise.all(inFlight);
    await stopping;
    assert.equal(testSinks.get('testsink')!.events.length, 40);
    await assert.rejects(r.push({ events: [testEvent('log')] }));
    assert.equal(c.phase(), 'stopped');
  });

  it('reload swaps pipelines without losing accepted events', async () => {
    const c = newCollector();
    const first = resolveOrThrow(`
receivers: {testpush: }
exporters: {testsink/a: {delay_ms: 20}}
service: {telemetry: {metrics: {level: none}}, pipelines: {logs: {receivers: [testpush], exporters: [testsink/a]}}}
`);
    const second = resolveOrThrow(`
receivers: {testpush: }
exporters: {testsink/b: {}}
service: {telemetry: {metrics: {level: none}}, pipelines: {logs: {receivers: [testpush], exporters: [testsink/b]}}}
`);
    await c.start(first);
    const before = testReceivers.get('testpush')!;
    const pending = Array.from({ length: 10 }, () => before.push({ events: [testEvent('log')] }));
    await c.reload(second, first);
    await Promise.all(pending);
    assert.equal(testSinks.get('testsink/a')!.events.length, 10, 'everything accepted before the swap is delivered by the old pipelines');
    await testReceivers.get('testpush')!.push({ events: [testEvent('log')] });
    assert.equal(testSinks.get('testsink/b')!.events.length, 1, 'the new pipelines run after the swap');
    await c.shutdown();
  });

  it('counts accepted, processor and exporter events on /metrics exactly', async () => {
    const c = newCollector();
    await c.start(resolveOrThrow(TWO_PIPELINES));
    try {
      const r = testReceivers.get('testpush')!;
      for (let i = 0; i < 7; i++) await r.push({ events: [testEvent('log'), testEvent('log'), testEvent('log')] });
      const text = await (await fetch(`http://${c.metricsAddress}/metrics`)).text();
      const value = (name: string, labels: string): number => {
        const line = text.split('\n').find((l) => l.startsWith(`${name}{`) && l.includes(labels));
        assert.ok(line, `no ${name}{${labels}} in:\n${text}`);
        return Number(line.split(' ').pop());
      };
      assert.equal(value('tapio_receiver_accepted_events_total', 'receiver="testpush"'), 21);
      assert.equal(value('tapio_processor_incoming_events_total', 'processor="example_tag",pipeline="logs/tagged"'), 21);
      assert.equal(value('tapio_processor_outgoing_events_total', 'processor="example_tag",pipeline="logs/tagged"'), 21);
      assert.equal(value('tapio_exporter_incoming_events_total', 'exporter="testsink/plain"'), 21);
    } finally {
      await c.shutdown();
    }
  });
});

describe('original wire bytes (RAW_WIRE_BYTES)', () => {
  it('survive a pipeline of read-only processors and are dropped before a processor that mutates data', async () => {
    const c = newCollector();
    await c.start(resolveOrThrow(TWO_PIPELINES));
    try {
      const e = testEvent('log') as ReturnType<typeof testEvent> & WithRawWireBytes;
      e[RAW_WIRE_BYTES] = new Uint8Array([1, 2, 3]);
      await testReceivers.get('testpush')!.push({ events: [e] });
      const plain = testSinks.get('testsink/plain')!.events[0] as WithRawWireBytes;
      const tagged = testSinks.get('testsink/tagged')!.events[0] as WithRawWireBytes;
      assert.equal(tagged[RAW_WIRE_BYTES], undefined, 'example_tag mutates data: the bytes would be stale');
      // The plain pipeline shares the receiver's event (the mutating pipeline got a copy).
      assert.deepEqual(plain[RAW_WIRE_BYTES], new Uint8Array([1, 2, 3]));
    } finally {
      await c.shutdown();
    }
  });
});

describe('host services', () => {
  it('hands a processor a service that a receiver registers later, at start', () => {
    const host = testHost();
    const seen: unknown[] = [];
    host.onService<unknown>('k8s.topology', (s) => { seen.push(s); }); // a processor, started first
    assert.equal(seen.length, 0, 'not registered yet');
    const topo = { name: 'topology' };
    host.registerService('k8s.topology', topo); // the receiver, started later
    host.onService<unknown>('k8s.topology', (s) => { seen.push(s); }); // late subscribers get it at once
    assert.deepEqual(seen, [topo, topo]);
  });
});
