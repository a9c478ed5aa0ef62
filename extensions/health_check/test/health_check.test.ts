import * as assert from 'node:assert/strict';
import * as http from 'node:http';
import { conformance, resolveYaml, testReceiverFactory, testSinkExporterFactory } from '@tapio/core/testing';
import { Collector, createLogger, defineExporter, defineProcessor, type Host } from '@tapio/core';
import factory, { listeningAddresses, type HealthReport } from '../src/index';

conformance(factory, { config: { endpoint: 'localhost:0' } });

function get(address: string, path = '/'): Promise<{ status: number; body: HealthReport | string }> {
  return new Promise((resolve, reject) => {
    http.get(`http://${address}${path}`, (res) => {
      let text = '';
      res.on('data', (d: Buffer) => { text += d.toString(); });
      res.on('end', () => {
        const json = (res.headers['content-type'] ?? '').includes('json');
        resolve({ status: res.statusCode ?? 0, body: json ? JSON.parse(text) as HealthReport : text });
      });
    }).on('error', reject);
  });
}

/** Gates the test controls: an exporter whose start and shutdown wait for them. */
const gates = { start: Promise.resolve(), shutdown: Promise.resolve() };
const slowExporter = defineExporter<Record<string, never>>({
  type: 'slow',
  stability: 'development',
  configSchema: { type: 'object', additionalProperties: false, properties: {} },
  create: () => ({
    async start() { await gates.start; },
    async shutdown() { await gates.shutdown; },
    async consume() {},
  }),
});

/** A processor that lets the test report a status on its behalf. */
let probeHost: Host | undefined;
const probe = defineProcessor<Record<string, never>>({
  type: 'probe',
  stability: 'development',
  configSchema: { type: 'object', additionalProperties: false, properties: {} },
  create: (_ctx, _c, next) => ({
    async start(host: Host) { probeHost = host; },
    async shutdown() {},
    consume: (b) => next.consume(b),
  }),
});

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => { resolve = r; });
  return { promise, resolve };
}

async function until<T>(fn: () => T | undefined, what: string): Promise<T> {
  const end = Date.now() + 10_000;
  for (;;) {
    const v = fn();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('health_check extension in a running collector', () => {
  it('answers 503 while starting, 200 with JSON once every pipeline runs, names a failed component, 503 while draining', async () => {
    const { config, issues } = resolveYaml(`
extensions: { health_check/t: { endpoint: "localhost:0", path: /health } }
receivers: { testpush/hc: {} }
processors: { probe: {} }
exporters: { slow: {}, testsink/hc: {} }
service:
  extensions: [health_check/t]
  telemetry: { metrics: { address: "localhost:0" } }
  pipelines: { logs: { receivers: [testpush/hc], processors: [probe], exporters: [slow, testsink/hc] } }
`, [factory, testReceiverFactory, testSinkExporterFactory, slowExporter, probe]);
    assert.deepEqual(issues, []);
    const startGate = deferred();
    const shutdownGate = deferred();
    gates.start = startGate.promise;
    gates.shutdown = shutdownGate.promise;
    const c = new Collector({ logger: createLogger('silent') });
    const starting = c.start(config!);
    try {
      const address = await until(() => listeningAddresses.get('health_check/t'), 'health_check to listen');

      const whileStarting = await get(address, '/health');
      assert.equal(whileStarting.status, 503);
      assert.equal((whileStarting.body as HealthReport).phase, 'starting');

      startGate.resolve();
      await starting;
      const ready = await get(address, '/health');
      assert.equal(ready.status, 200);
      const body = ready.body as HealthReport;
      assert.equal(body.status, 'Server available');
      assert.equal(body.phase, 'running');
      assert.equal(body.components['slow']?.status, 'ok');
      assert.deepEqual(body.failed, {});

      assert.equal((await get(address, '/other')).status, 404);

      probeHost!.reportStatus('probe', 'permanent_error', new Error('rule file unreadable'));
      const failed = await get(address, '/health');
      assert.equal(failed.status, 503);
      assert.deepEqual(Object.keys((failed.body as HealthReport).failed), ['probe']);
      assert.equal((failed.body as HealthReport).failed['probe']?.error, 'rule file unreadable');

      probeHost!.reportStatus('probe', 'recoverable_error', new Error('memory pressure'));
      const recoverable = await get(address, '/health');
      assert.equal(recoverable.status, 200, 'recoverable errors are reported but do not fail the check by default');
      assert.equal((recoverable.body as HealthReport).failed['probe']?.status, 'recoverable_error');
      probeHost!.reportStatus('probe', 'ok');

      const stopping = c.shutdown();
      const draining = await until(() => (c.phase() === 'draining' ? true : undefined), 'draining');
      assert.ok(draining);
      const whileDraining = await get(address, '/health');
      assert.equal(whileDraining.status, 503);
      assert.equal((whileDraining.body as HealthReport).phase, 'draining');
      shutdownGate.resolve();
      await stopping;
      assert.equal(listeningAddresses.has('health_check/t'), false, 'the endpoint is closed after shutdown');
    } finally {
      startGate.resolve();
      shutdownGate.resolve();
      await c.shutdown();
    }
  });

  it('fails to start with a clear error when the port is taken', async () => {
    const blocker = http.createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
    const port = (blocker.address() as { port: number }).port;
    const { config } = resolveYaml(`
extensions: { health_check: { endpoint: "127.0.0.1:${port}" } }
receivers: { testpush/hc2: {} }
exporters: { testsink/hc2: {} }
service:
  extensions: [health_check]
  telemetry: { metrics: { address: "localhost:0" } }
  pipelines: { logs: { receivers: [testpush/hc2], exporters: [testsink/hc2] } }
`, [factory, testReceiverFactory, testSinkExporterFactory]);
    const c = new Collector({ logger: createLogger('silent') });
    try {
      await assert.rejects(c.start(config!), /health_check cannot listen on 127\.0\.0\.1:\d+: .*EADDRINUSE/);
    } finally {
      await c.shutdown();
      blocker.close();
    }
  });
});
