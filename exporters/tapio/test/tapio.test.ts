import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { Collector, createLogger } from '@tapio/core';
import { conformance, createComponent, resolveYaml, testContext, testEvent, testHost, testReceiverFactory, testReceivers, validConfig } from '@tapio/core/testing';
import apiFactory, { ApiExtension, paymentScenario, type ApiConfig } from '@tapio/extension-api';
import factory from '../src/index';

function getJson(url: string): Promise<any> {
  return new Promise((resolve, reject) => {
    http.get(url, (res) => {
      let t = '';
      res.on('data', (c) => { t += c; });
      res.on('end', () => { try { resolve(JSON.parse(t)); } catch (err) { reject(err); } });
    }).on('error', reject);
  });
}

async function memoryApi(): Promise<ApiExtension> {
  const ext = new ApiExtension(testContext('tapio_api', 'extension'), validConfig<ApiConfig>(apiFactory, { http: null, grpc: null, storage: { path: ':memory:' } }));
  await ext.start();
  return ext;
}

describe('tapio exporter', function () {
  this.timeout(30_000);
  let api: ApiExtension;
  before(async () => { api = await memoryApi(); });
  after(async () => { await api.shutdown(); });

  conformance(factory, { extensions: { get tapio_api() { return api; } } });

  it('writes events and incidents into the named tapio_api extension', async () => {
    const exp = await createComponent(factory, validConfig(factory));
    await exp.start(testHost({ tapio_api: api }));
    const s = paymentScenario({ incidentId: 'inc-exporter' });
    await exp.consume!({ events: s.events });
    assert.equal(api.api!.getIncident('inc-exporter').title, s.incident.title);
    assert.equal(api.api!.store.queryEvents({ filter: { traceIds: new Set([s.traceId]) }, limit: 100 }).length, s.events.filter((e) => e.trace?.traceId === s.traceId).length);
    await exp.shutdown();
  });

  it('fails to start with a clear error when the extension is missing', async () => {
    const exp = await createComponent(factory, validConfig(factory, { api: 'tapio_api/other' }));
    await assert.rejects(exp.start(testHost({})), /extension 'tapio_api\/other' is not configured/);
  });

  it('can write to a store file of its own, which survives a restart', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tapio-exp-'));
    try {
      const cfg = validConfig(factory, { store: { path: path.join(dir, 'own.db') } });
      const e1 = await createComponent(factory, cfg);
      await e1.start(testHost());
      const ev = testEvent('network');
      await e1.consume!({ events: [ev] });
      await e1.shutdown();
      const { EventStore } = await import('@tapio/extension-api');
      const store = new EventStore({ path: path.join(dir, 'own.db'), retentionMs: 3600_000, maxEvents: 10, maxBytes: 1e6, maxIncidents: 10 });
      assert.equal(store.eventById(ev.id)?.event.network?.event, 'connection_refused');
      store.close();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  function collectorConfig(dir: string, receiverId: string) {
    const { config, issues } = resolveYaml([
      'extensions:',
      '  tapio_api:',
      '    http: {endpoint: "127.0.0.1:0"}',
      '    grpc: {endpoint: "127.0.0.1:0"}',
      `    storage: {path: "${path.join(dir, 'api.db')}", retention: 24h}`,
      `receivers: {${receiverId}: {}}`,
      'exporters: {tapio: {}}',
      'service:',
      '  extensions: [tapio_api]',
      '  telemetry: {metrics: {address: "localhost:0"}}',
      '  pipelines:',
      `    events: {receivers: [${receiverId}], exporters: [tapio]}`,
    ].join('\n'), [testReceiverFactory, factory, apiFactory], 'e2e.yaml');
    assert.deepEqual(issues, []);
    return config!;
  }

  /** The collector does not expose its host; the test reaches into its graph to find the bound port. */
  function apiBase(collector: Collector): string {
    const graph = (collector as unknown as { graph?: { host: { getExtension(id: string): unknown } } }).graph;
    const base = (graph?.host.getExtension('tapio_api') as ApiExtension | undefined)?.httpAddress();
    assert.ok(base, 'the extension is reachable from the collector');
    return base;
  }

  it('runs in a whole collector: receiver → tapio exporter → API serves the incident, also after a restart', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tapio-exp-'));
    const s = paymentScenario({ incidentId: 'inc-e2e' });
    const old = paymentScenario({ incidentId: 'inc-too-old', baseMs: Date.now() - 48 * 3600_000 });
    try {
      const first = new Collector({ logger: createLogger('silent') });
      await first.start(collectorConfig(dir, 'testpush/e2e'));
      try {
        await testReceivers.get('testpush/e2e')!.push({ events: [...old.events, ...s.events] });
        const base = apiBase(first);
        const inc = await getJson(`${base}/api/v1/incidents/inc-e2e`);
        assert.equal(inc.rootCause.entity.service, 'payment');
        const corr = await getJson(`${base}/api/v1/correlate?trace_id=${s.traceId}`);
        assert.equal(corr.affectedUsers, s.failedUsers);
      } finally {
        await first.shutdown();
      }

      const second = new Collector({ logger: createLogger('silent') });
      await second.start(collectorConfig(dir, 'testpush/e2e2'));
      try {
        const base = apiBase(second);
        const inc = await getJson(`${base}/api/v1/incidents/inc-e2e`);
        assert.equal(inc.title, s.incident.title, 'the incident survived the restart');
        const list = await getJson(`${base}/api/v1/incidents`);
        assert.deepEqual(list.incidents.map((i: any) => i.id), ['inc-e2e'], 'the incident past retention (24h) is gone');
        const health = await getJson(`${base}/api/v1/health`);
        assert.equal(health.store.events, s.events.length, 'exactly the events within retention are still there');
        const corr = await getJson(`${base}/api/v1/correlate?trace_id=${s.traceId}`);
        assert.equal(corr.incidentId, 'inc-e2e');
      } finally {
        await second.shutdown();
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
