import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { createEvent, type ChainLink, type Consumer, type Incident, type UnifiedEvent } from '@tapio/core';
import { testContext, testHost, validConfig } from '@tapio/core/testing';
import apiFactory, { ApiExtension, type ApiConfig } from '@tapio/extension-api';
import exporterFactory from '@tapio/exporter-tapio';
import { runCli } from '../src/index';

/**
 * The seed README's payment scenario end to end: the application layer arrives as OTLP/HTTP
 * JSON through the real OTLP receiver; kernel, network and Kubernetes events and the incident
 * are pushed into the same exporter as the eBPF / Kubernetes receivers and the correlation
 * processor emit them (those need a kernel, a cluster and a full pipeline; their own tests cover
 * them). The incident names the stored ids of the OTLP spans, as the correlation processor does.
 * Then `tapio-cli correlate` tells the story.
 */
function loadOtlpReceiver(): any {
  try { return require('@tapio/receiver-otlp').default; } catch { return undefined; }
}

function post(url: string, body: unknown): Promise<number> {
  return new Promise((resolve, reject) => {
    const data = Buffer.from(JSON.stringify(body));
    const req = http.request(url, { method: 'POST', headers: { 'content-type': 'application/json', 'content-length': data.length } }, (res) => { res.resume(); res.on('end', () => resolve(res.statusCode ?? 0)); });
    req.on('error', reject);
    req.end(data);
  });
}

const attr = (key: string, v: string | number) => ({ key, value: typeof v === 'number' ? { intValue: String(v) } : { stringValue: v } });

describe('payment scenario through the real OTLP receiver → tapio exporter → tapio-cli correlate', function () {
  this.timeout(30_000);
  const otlpFactory = loadOtlpReceiver();
  let dir: string;
  let ext: ApiExtension;
  let exporter: any;
  let receiver: any;

  before(async function () {
    if (!otlpFactory) { console.log('      (skipped: @tapio/receiver-otlp is not built)'); this.skip(); }
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tapio-e2e-'));
    ext = new ApiExtension(testContext('tapio_api', 'extension'), validConfig<ApiConfig>(apiFactory, { http: { endpoint: '127.0.0.1:0' }, grpc: null, storage: { path: path.join(dir, 'api.db') } }));
    await ext.start();
    exporter = await exporterFactory.create(testContext('tapio', 'exporter'), validConfig(exporterFactory));
    await exporter.start(testHost({ tapio_api: ext }));
    receiver = await otlpFactory.create(testContext('otlp', 'receiver'), validConfig(otlpFactory, { protocols: { http: { endpoint: '127.0.0.1:0' } } }), exporter as Consumer);
    await receiver.start(testHost());
  });
  after(async () => {
    await receiver?.shutdown();
    await exporter?.shutdown();
    await ext?.shutdown();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('ends with the root cause and the chain over all four layers', async () => {
    const t0 = Date.now() - 30_000;
    const ns = (ms: number) => String(BigInt(t0 + ms) * 1_000_000n);
    const traceId = 'abc123' + '0'.repeat(26);
    const users = 7;
    const resourceSpans = [];
    for (let u = 0; u < users; u++) {
      const tid = u === 0 ? traceId : 'abc1' + (u + 10).toString(16).padStart(4, '0') + '0'.repeat(24);
      const rootSpan = 'a1a1a1a1a1a1' + (u + 1).toString(16).padStart(4, '0');
      resourceSpans.push(
        { resource: { attributes: [attr('service.name', 'checkout'), attr('k8s.namespace.name', 'prod'), attr('k8s.pod.name', 'checkout-5c6b7')] },
          scopeSpans: [{ scope: { name: 'checkout' }, spans: [{ traceId: tid, spanId: rootSpan, name: 'POST /checkout', kind: 2, startTimeUnixNano: ns(5200 + u), endTimeUnixNano: ns(6400 + u), status: { code: 2, message: 'HTTP 500' }, attributes: [attr('enduser.id', `user-${u}`), attr('http.response.status_code', 500)] }] }] },
        { resource: { attributes: [attr('service.name', 'payment'), attr('service.version', '2.1.0'), attr('k8s.namespace.name', 'prod'), attr('k8s.pod.name', 'payment-7d8f9')] },
          scopeSpans: [{ scope: { name: 'payment' }, spans: [{ traceId: tid, spanId: 'b2b2b2b2b2b2' + (u + 1).toString(16).padStart(4, '0'), parentSpanId: rootSpan, name: 'payment.Charge', kind: 2, startTimeUnixNano: ns(5201 + u), endTimeUnixNano: ns(6300 + u), status: { code: 2, message: 'PaymentException: Database unavailable' }, attributes: [attr('enduser.id', `user-${u}`)] }] }] },
      );
    }
    const base = `http://127.0.0.1:${receiver.http.port}`;
    assert.equal(await post(`${base}/v1/traces`, { resourceSpans }), 200);
    assert.equal(await post(`${base}/v1/logs`, { resourceLogs: [{ resource: { attributes: [attr('service.name', 'payment'), attr('k8s.pod.name', 'payment-7d8f9')] }, scopeLogs: [{ logRecords: [{ timeUnixNano: ns(1000), severityNumber: 17, severityText: 'ERROR', body: { stringValue: 'java.lang.OutOfMemoryError: Java heap space' }, traceId }] }] }] }), 200);

    // What arrived through the receiver, with the ids the store knows it by.
    const app = ext.api!.store.queryEvents({ filter: { traceIds: new Set([traceId]) }, limit: 100 }).map((s) => s.event).sort((a, b) => a.time - b.time);
    assert.equal(app.filter((e) => e.kind === 'span').length, 2, 'both spans of the trace were stored');
    assert.equal(app.filter((e) => e.kind === 'log').length, 1, 'the OOM log line carries the trace id');

    // Lower layers, as the eBPF and Kubernetes receivers emit them.
    const podRes = { 'service.name': 'payment', 'k8s.namespace.name': 'prod', 'k8s.pod.name': 'payment-7d8f9', 'host.name': 'node-1' };
    const pod = { kind: 'pod', name: 'payment-7d8f9', namespace: 'prod' };
    const oom = createEvent({ kind: 'kernel', source: 'ebpf', time: (t0 + 2000) * 1e6, severity: 'fatal', resource: { ...podRes, 'process.pid': 4242 }, entity: pod, kernel: { event: 'oom_kill', pid: 4242, comm: 'java' } });
    const killed = createEvent({ kind: 'k8s', source: 'kubernetes', time: (t0 + 2500) * 1e6, severity: 'error', resource: podRes, entity: pod, k8s: { reason: 'OOMKilled', message: 'Container payment exceeded 2Gi memory limit', type: 'Warning' } });
    const refused = createEvent({ kind: 'network', source: 'ebpf', time: (t0 + 5000) * 1e6, severity: 'error', count: 47, resource: { 'service.name': 'checkout', 'k8s.pod.name': 'checkout-5c6b7' }, network: { event: 'connection_refused', dstAddr: '10.0.0.7', dstPort: 8080 } });
    const lower = [oom, killed, refused];
    const layer = (e: UnifiedEvent): ChainLink['layer'] => (e.kind === 'kernel' ? 'kernel' : e.kind === 'k8s' ? 'kubernetes' : e.kind === 'network' ? 'network' : 'application');
    const chain = [...lower, ...app].sort((a, b) => a.time - b.time).map((e): ChainLink => ({ eventId: e.id, time: e.time, layer: layer(e), kind: e.kind, summary: e.kind, entity: { service: e.resource['service.name'] as string } }));
    const detected = (t0 + 9000) * 1e6;
    const incident: Incident = {
      id: 'inc-e2e-payment', status: 'open', title: 'payment OOM-killed', startTimeUnixNano: String((t0 + 1000) * 1e6), detectedTimeUnixNano: String(detected),
      timeToDetectMs: 8000, confidence: 0.8, rootCause: { entity: { service: 'payment', pod: 'payment-7d8f9', namespace: 'prod' }, narrative: 'payment-7d8f9 OOM-killed (memory leak)', eventIds: [oom.id] },
      rankedCauses: [], chain, impact: { score: 0.8, severity: 'error', customerFacing: true, cascadeRisk: 0.5, services: ['payment', 'checkout'] }, recommendations: ['Scale payment to 5 replicas'],
    };
    const corr = createEvent({ kind: 'correlation', source: 'correlation', time: detected, severity: 'error', incident: incident as unknown as Record<string, unknown> });
    await exporter.consume({ events: [...lower, corr] });

    let out = '';
    const code = await runCli(['--endpoint', ext.httpAddress()!, 'correlate', '--trace-id', traceId], { out: (s) => { out += s; }, err: (s) => { out += s; }, confirm: async () => false });
    console.log('\n' + out.replace(/^/gm, '      '));
    assert.equal(code, 0);
    assert.match(out, /Root Cause: payment-7d8f9 OOM-killed \(memory leak\)/);
    assert.match(out, new RegExp(`Affected Users: ${users}\\b`), 'distinct enduser.id of the failing OTLP spans in the incident window');
    assert.match(out, new RegExp(`Failed Requests: ${users * 2}\\b`));
    assert.match(out, /Time to Detection: 8 seconds/);
    for (const tag of ['[APP]', '[NET]', '[K8S]', '[KERNEL]']) assert.ok(out.includes(tag), `the chain shows ${tag}`);
    assert.match(out, /\[APP\] POST \/checkout in checkout failed: HTTP 500/, 'the span as decoded by the OTLP receiver');
  });
});
