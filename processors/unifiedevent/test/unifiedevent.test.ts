import * as assert from 'node:assert/strict';
import { conformance, createComponent, SinkConsumer, testEvent, testHost, validConfig } from '@tapio/core/testing';
import { TOPOLOGY_SERVICE, type Processor, type UnifiedEvent } from '@tapio/core';
import factory, { parseCgroupPath, type UnifiedEventConfig } from '../src/index';
import { FakeTopology, PAYMENT_CONTAINER, PAYMENT_POD, POSTGRES_SVC } from '@tapio/core/testing';

conformance(factory);
conformance(factory, { batch: () => ({ events: [testEvent('kernel'), testEvent('network'), testEvent('k8s'), testEvent('span')] }) });

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const SPAN = '00f067aa0ba902b7';

async function setup(overrides: Record<string, unknown> = {}, topology?: FakeTopology): Promise<{ p: Processor; sink: SinkConsumer }> {
  const sink = new SinkConsumer();
  const p = (await createComponent(factory, validConfig<UnifiedEventConfig>(factory, overrides), sink)) as Processor;
  const host = testHost();
  if (topology) host.registerService(TOPOLOGY_SERVICE, topology);
  await p.start(host);
  return { p, sink };
}

async function run(events: UnifiedEvent[], overrides: Record<string, unknown> = {}, topology?: FakeTopology): Promise<UnifiedEvent[]> {
  const { p, sink } = await setup(overrides, topology);
  await p.consume({ events });
  await p.shutdown();
  return sink.events;
}

function log(body: unknown, extra: Partial<UnifiedEvent> = {}): UnifiedEvent {
  return testEvent('log', { log: { body: body as never, severityNumber: 9, severityText: 'INFO' }, ...extra });
}

describe('unifiedevent: canonical severity', () => {
  it('maps OTLP severity numbers and texts, HTTP and gRPC status codes, k8s types and kernel kinds', async () => {
    const span503 = testEvent('span', { attributes: { 'http.response.status_code': 503 } });
    const spanOldKey = testEvent('span', { attributes: { 'http.status_code': '404' } });
    const grpc = testEvent('span', { attributes: { 'rpc.grpc.status_code': 14 } });
    const grpcNotFound = testEvent('span', { attributes: { 'rpc.grpc.status_code': 5 } });
    const out = await run([
      testEvent('log', { log: { body: 'x', severityNumber: 17 } }),
      testEvent('log', { log: { body: 'x', severityText: 'WARNING' } }),
      testEvent('log', { log: { body: 'x', severityText: 'crit' } }),
      testEvent('log', { log: { body: 'x', severityNumber: 5 } }),
      span503, spanOldKey, grpc, grpcNotFound,
      testEvent('k8s', { k8s: { reason: 'Pulled', type: 'Normal' } }),
      testEvent('k8s', { k8s: { reason: 'FailedCreate', type: 'Warning' } }),
      testEvent('k8s', { k8s: { reason: 'OOMKilling', type: 'Warning' } }),
      testEvent('kernel', { kernel: { event: 'oom_kill', pid: 1 } }),
      testEvent('kernel', { kernel: { event: 'process_exit', pid: 1, exitCode: 0 } }),
      testEvent('kernel', { kernel: { event: 'process_exit', pid: 1, signal: 9 } }),
    ], { dedup: { enabled: false } });
    assert.deepEqual(out.map((e) => e.severity), ['error', 'warn', 'fatal', 'debug', 'error', 'warn', 'error', 'warn', 'info', 'warn', 'error', 'fatal', 'info', 'error']);
  });

  it('never lowers an OTLP ERROR span status', async () => {
    const e = testEvent('span', { severity: 'error', attributes: { 'http.response.status_code': 200 } });
    e.span!.status = { code: 2, message: 'boom' };
    const [out] = await run([e]);
    assert.equal(out!.severity, 'error');
  });
});

describe('unifiedevent: trace context from logs', () => {
  it('a log line carrying traceparent joins its trace', async () => {
    const span = testEvent('span', { trace: { traceId: TRACE, spanId: SPAN } });
    const line = log(`2026-11-22T10:01:02Z ERROR charge failed traceparent=00-${TRACE}-${SPAN}-01 amount=12.40`);
    const out = await run([span, line]);
    assert.equal(out[1]!.trace?.traceId, out[0]!.trace?.traceId);
    assert.equal(out[1]!.trace?.spanId, SPAN);
    assert.equal(out[1]!.trace?.flags, 1);
  });

  it('a log line with "TraceID: …" joins its trace', async () => {
    const [out] = await run([log(`[payment] TraceID: ${TRACE.toUpperCase()} SpanID: ${SPAN} card declined`)]);
    assert.deepEqual(out!.trace, { traceId: TRACE, spanId: SPAN });
  });

  it('reads trace_id=… text, JSON bodies and log attributes', async () => {
    const out = await run([
      log(`level=error msg="db timeout" trace_id=${TRACE} span_id=${SPAN}`),
      log(`{"level":"error","traceId":"${TRACE}","spanId":"${SPAN}","msg":"x"}`),
      log({ msg: 'structured', trace_id: TRACE }),
      testEvent('log', { attributes: { traceparent: `00-${TRACE}-${SPAN}-00` } }),
    ]);
    for (const e of out) assert.equal(e.trace?.traceId, TRACE, JSON.stringify(e.log));
  });

  it('ignores all-zero ids and lines without trace context, and keeps an existing trace', async () => {
    const existing = log(`trace_id=${TRACE}`, { trace: { traceId: 'ffffffffffffffffffffffffffffffff' } });
    const out = await run([
      log(`traceparent=00-00000000000000000000000000000000-${SPAN}-01`),
      log('request took 00-1234 ms, no trace here'),
      existing,
    ]);
    assert.equal(out[0]!.trace, undefined);
    assert.equal(out[1]!.trace, undefined);
    assert.equal(out[2]!.trace?.traceId, 'ffffffffffffffffffffffffffffffff');
  });
});

describe('unifiedevent: entity resolution', () => {
  it('a kernel event with only a pid and a cgroup path resolves to its pod, workload and service', async () => {
    const topo = new FakeTopology([PAYMENT_POD]);
    const e = testEvent('kernel', {
      resource: {},
      entity: { kind: 'process', name: 'java:31337' },
      kernel: {
        event: 'oom_kill', pid: 31337, comm: 'java',
        cgroupPath: `/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod6b1f3c2e_8d4a_4f1b_9c3e_2a7d5e9f0b11.slice/cri-containerd-${PAYMENT_CONTAINER}.scope`,
      },
    });
    const [out] = await run([e], {}, topo);
    assert.deepEqual(out!.entity, { kind: 'pod', name: 'payment-7d8f9-x2k4q', namespace: 'prod', uid: PAYMENT_POD.uid });
    assert.equal(out!.resource['k8s.deployment.name'], 'payment');
    assert.equal(out!.resource['k8s.replicaset.name'], 'payment-7d8f9');
    assert.equal(out!.resource['k8s.container.name'], 'payment');
    assert.equal(out!.resource['k8s.node.name'], 'node-a');
    assert.equal(out!.resource['service.name'], 'payment');
    assert.equal(out!.resource['process.pid'], 31337);
  });

  it('finds the topology even when it is registered after start (receivers start last)', async () => {
    const { p, sink } = await setup();
    const host = testHost();
    await p.start(host);
    host.registerService(TOPOLOGY_SERVICE, new FakeTopology([PAYMENT_POD]));
    await p.consume({ events: [testEvent('kernel', { resource: {}, kernel: { event: 'process_exit', pid: 7, cgroupPath: `/kubepods/burstable/pod${PAYMENT_POD.uid}/${PAYMENT_CONTAINER}` } })] });
    await p.shutdown();
    assert.equal(sink.events[0]!.resource['k8s.pod.name'], 'payment-7d8f9-x2k4q');
  });

  it('parses containerd, cgroupfs, docker and cri-o cgroup paths', () => {
    const id = PAYMENT_CONTAINER;
    assert.deepEqual(parseCgroupPath(`/kubepods/besteffort/pod${PAYMENT_POD.uid}/${id}`), { containerId: id, podUid: PAYMENT_POD.uid });
    assert.deepEqual(parseCgroupPath(`/system.slice/docker-${id}.scope`), { containerId: id, runtime: 'docker' });
    assert.deepEqual(parseCgroupPath(`/docker/${id}`), { containerId: id, runtime: 'docker' });
    assert.equal(parseCgroupPath(`/kubepods.slice/kubepods-pod6b1f3c2e_8d4a_4f1b_9c3e_2a7d5e9f0b11.slice/crio-${id}.scope`).runtime, 'crio');
    assert.equal(parseCgroupPath(`/kubepods-besteffort-pod6b1f3c2e_8d4a_4f1b_9c3e_2a7d5e9f0b11.slice:cri-containerd:${id}`).containerId, id);
    assert.equal(parseCgroupPath(`/kubepods.slice/crio-conmon-${id}.scope`).containerId, undefined);
    assert.deepEqual(parseCgroupPath('/user.slice/user-1000.slice/session-3.scope'), {});
  });

  it('resolves a network destination ip:port to the Service behind it', async () => {
    const topo = new FakeTopology([PAYMENT_POD], [POSTGRES_SVC]);
    const e = testEvent('network', { resource: {}, network: { event: 'connection_refused', srcAddr: '10.1.4.17', srcPort: 40112, dstAddr: '10.96.0.40', dstPort: 5432 } });
    const [out] = await run([e], {}, topo);
    assert.equal(out!.attributes['tapio.peer.service'], 'postgres');
    assert.equal(out!.attributes['network.peer.port'], 5432);
    assert.equal(out!.resource['k8s.pod.name'], 'payment-7d8f9-x2k4q', 'the source pod comes from its IP');
    assert.equal(out!.entity?.kind, 'pod');
  });

  it('uses static hosts and entities when there is no Kubernetes', async () => {
    const cfg = {
      hosts: { 'db-1.internal': { service: 'postgres', resource: { 'deployment.environment': 'prod' } }, '192.168.1.20': { service: 'legacy-billing' } },
      static_entities: [{ match: { 'process.executable.name': 'nginx' }, entity: { kind: 'service', name: 'edge-proxy' } }],
    };
    const out = await run([
      testEvent('kernel', { resource: { 'host.name': 'db-1.internal' }, kernel: { event: 'oom_kill', pid: 900, comm: 'postgres' } }),
      testEvent('kernel', { resource: { 'host.name': 'web-3' }, kernel: { event: 'process_exit', pid: 12, comm: 'nginx' } }),
      testEvent('network', { resource: { 'host.name': 'web-3' }, network: { event: 'connection_reset', dstAddr: '192.168.1.20', dstPort: 8443 } }),
    ], cfg);
    assert.equal(out[0]!.resource['service.name'], 'postgres');
    assert.equal(out[0]!.resource['deployment.environment'], 'prod');
    assert.deepEqual(out[1]!.entity, { kind: 'service', name: 'edge-proxy' });
    assert.equal(out[2]!.attributes['tapio.peer.service'], 'legacy-billing');
  });

  it('never overwrites what the source said', async () => {
    const topo = new FakeTopology([PAYMENT_POD]);
    const e = testEvent('span', { resource: { 'service.name': 'checkout-api', 'k8s.namespace.name': 'prod', 'k8s.pod.name': 'payment-7d8f9-x2k4q' } });
    const [out] = await run([e], {}, topo);
    assert.equal(out!.resource['service.name'], 'checkout-api');
    assert.equal(out!.resource['k8s.deployment.name'], 'payment');
    assert.deepEqual(out!.entity, { kind: 'service', name: 'checkout-api', namespace: 'prod' });
  });
});

describe('unifiedevent: de-duplication and clock skew', () => {
  it('merges identical events within the window and keeps the count', async () => {
    const t0 = Date.now() * 1e6;
    const same = (dt: number): UnifiedEvent => testEvent('k8s', {
      time: t0 + dt * 1e6, resource: { 'k8s.namespace.name': 'prod' },
      entity: { kind: 'pod', name: 'payment-7d8f9-x2k4q', namespace: 'prod' },
      k8s: { reason: 'BackOff', message: 'Back-off restarting failed container payment', type: 'Warning' },
    });
    const { p, sink } = await setup({ dedup: { window: '5s' } });
    await p.consume({ events: [same(0), same(100), same(200)] });
    assert.equal(sink.events.length, 1, 'the first occurrence passes at once, the duplicates are held');
    await p.consume({ events: [same(300), same(10_000)] });
    // The event 10 s later closes the first window: its summary goes out, then the new event.
    assert.equal(sink.events.length, 3);
    assert.deepEqual(sink.events.map((e) => e.count ?? 1), [1, 1, 3]);
    await p.shutdown();
    const counts = sink.events.map((e) => e.count ?? 1);
    assert.equal(counts.reduce((a, b) => a + b, 0), 5, 'counts add up to what came in');
  });

  it('sends the summary when the window closes on the wall clock', async () => {
    const { p, sink } = await setup({ dedup: { window: '100ms' } });
    const e = (): UnifiedEvent => testEvent('network', { time: 1e18, resource: { 'host.name': 'web-1' }, network: { event: 'connection_refused', dstAddr: '10.0.0.9', dstPort: 80 } });
    await p.consume({ events: [e(), e(), e()] });
    await sink.waitFor(2, 5000);
    assert.equal(sink.events[1]!.count, 2);
    await p.shutdown();
  });

  it('keeps distinct events apart', async () => {
    const out = await run([log('disk 91% full on /data'), log('disk 92% full on /data'), log('disk 91% full on /data', { severity: 'warn', log: { body: 'disk 91% full on /data', severityText: 'WARN' } })]);
    assert.equal(out.length, 3);
  });

  it('tells kernel and network events of different processes and flows apart', async () => {
    const t = Date.now() * 1e6;
    const k = (pid: number): UnifiedEvent => testEvent('kernel', { time: t, resource: { 'host.name': 'node-a' }, kernel: { event: 'process_exit', pid, comm: 'java', exitCode: 1 } });
    const n = (port: number): UnifiedEvent => testEvent('network', { time: t, resource: { 'host.name': 'node-a' }, network: { event: 'connection_refused', dstAddr: '10.96.0.40', dstPort: port, pid: 7 } });
    const { p, sink } = await setup();
    await p.consume({ events: [k(1), k(2), k(1), n(5432), n(6379), n(5432), n(5432)] });
    assert.equal(sink.events.length, 4, 'pid 1, pid 2, port 5432, port 6379');
    await p.shutdown();
    assert.deepEqual(sink.events.map((e) => e.count ?? 1).sort(), [1, 1, 1, 1, 1, 2]);
  });

  it('clamps events from the future beyond max_clock_skew and tags them', async () => {
    const now = Date.now() * 1e6;
    const future = testEvent('log', { time: now + 10 * 60e9, observedTime: now });
    const nearFuture = testEvent('log', { time: now + 10e9, observedTime: now });
    const out = await run([future, nearFuture], { max_clock_skew: '1m' });
    assert.equal(out[0]!.time, now);
    assert.ok(Number(out[0]!.attributes['tapio.clock_skew.ms']) >= 9 * 60_000);
    assert.equal(out[1]!.time, now + 10e9);
    assert.equal(out[1]!.attributes['tapio.clock_skew.ms'], undefined);
  });
});

describe('unifiedevent: bad input', () => {
  it('passes events with missing payloads or resource through without crashing', async () => {
    const broken = [
      testEvent('kernel', { kernel: undefined }),
      testEvent('network', { network: undefined }),
      { ...testEvent('log'), resource: undefined } as unknown as UnifiedEvent,
      testEvent('log', { log: { body: null } }),
      testEvent('span', { span: undefined, attributes: { 'http.response.status_code': 'abc' } }),
    ];
    const out = await run(broken);
    assert.equal(out.length, broken.length);
    assert.equal(out[2]!.resource, undefined);
  });

  it('rejects a bad config with the key named', () => {
    assert.throws(() => validConfig(factory, { dedup: { window: 'soon' } }), /dedup\.window: must be a duration/);
    assert.throws(() => validConfig(factory, { hosts: { a: { servce: 'x' } } }), /servce/);
  });
});
