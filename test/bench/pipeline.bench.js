'use strict';
// The runtime's own overhead: receiver router → attributes processor → fan-out to two exporters,
// in process, no I/O. Reports events/s, p99 batch latency and heap bytes per event in flight.
const { Collector, createLogger, loadConfigSources, mergeYamlText, Registry, resolveConfig, loadPlugin } = require('../../core/dist/src/index.js');
const { testReceiverFactory, testSinkExporterFactory, testReceivers, testSinks, testEvent } = require('../../core/dist/src/testing/index.js');
const path = require('node:path');

async function main() {
  const registry = new Registry();
  registry.register(testReceiverFactory);
  registry.register(testSinkExporterFactory);
  loadPlugin(path.resolve(__dirname, '../../processors/attributes'), registry);
  const loaded = loadConfigSources([]);
  mergeYamlText(loaded, `
receivers: {testpush: }
processors: {attributes: {actions: [{key: env, action: upsert, value: prod}]}}
exporters: {testsink/a: {}, testsink/b: {}}
service:
  telemetry: {metrics: {level: none}}
  pipelines: {logs: {receivers: [testpush], processors: [attributes], exporters: [testsink/a, testsink/b]}}
`, 'bench.yaml');
  const { config, issues } = resolveConfig(loaded, registry);
  if (!config) throw new Error(JSON.stringify(issues));
  const c = new Collector({ logger: createLogger('silent') });
  await c.start(config);
  const r = testReceivers.get('testpush');
  const batchSize = 512;
  const batches = 2000;
  const pool = Array.from({ length: 8 }, () => Array.from({ length: batchSize }, () => testEvent('log')));
  const lat = [];
  global.gc?.();
  const heap0 = process.memoryUsage().heapUsed;
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < batches; i++) {
    const s = process.hrtime.bigint();
    await r.push({ events: pool[i % pool.length] });
    lat.push(Number(process.hrtime.bigint() - s) / 1e6);
    if (i % 50 === 0) { testSinks.get('testsink/a').reset(); testSinks.get('testsink/b').reset(); }
  }
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  const heap1 = process.memoryUsage().heapUsed;
  await c.shutdown();
  lat.sort((a, b) => a - b);
  const figures = {
    events_per_s: Math.round((batches * batchSize) / secs),
    p50_batch_ms: +lat[Math.floor(lat.length * 0.5)].toFixed(3),
    p99_batch_ms: +lat[Math.floor(lat.length * 0.99)].toFixed(3),
    heap_delta_mb: +((heap1 - heap0) / 1e6).toFixed(1),
  };
  console.log(`runtime (router → attributes → fan-out to 2 exporters): ${figures.events_per_s} events/s, p99 batch(${batchSize}) ${figures.p99_batch_ms} ms`);
  console.log('BENCH ' + JSON.stringify(figures));
}
main().catch((e) => { console.error(e); process.exit(1); });
