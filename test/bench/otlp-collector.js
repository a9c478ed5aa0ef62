'use strict';
// Benchmark collector (its own process): otlp receiver → [batch] → otlp exporter, built from
// YAML exactly as the CLI would. Reports its own CPU time, RSS and per-stage profile over IPC.
process.env.TAPIO_OTLP_PROFILE = '1';
const path = require('node:path');
const root = path.resolve(__dirname, '../..');
const { Collector, createLogger, loadConfigSources, mergeYamlText, Registry, resolveConfig, loadPlugin } = require(path.join(root, 'core/dist/src/index.js'));
const { otlpProfile } = require(path.join(root, 'receivers/otlp/dist/src/index.js'));

async function main() {
  const { sinkPort, grpcPort, httpPort, batch, connections, decodeWorkers } = JSON.parse(process.argv[2]);
  const registry = new Registry();
  loadPlugin(path.join(root, 'receivers/otlp'), registry);
  loadPlugin(path.join(root, 'exporters/otlp'), registry);
  let useBatch = false;
  if (batch) {
    try { loadPlugin(path.join(root, 'processors/batch'), registry); useBatch = true; } catch (err) { process.stderr.write(`batch processor unavailable (${err.message}); running without\n`); }
  }
  const loaded = loadConfigSources([]);
  mergeYamlText(loaded, `
receivers:
  otlp:
    decode_workers: ${decodeWorkers}
    protocols:
      grpc: { endpoint: 127.0.0.1:${grpcPort}${process.env.BENCH_OTLP_WINDOW ? `, initial_window_size: ${process.env.BENCH_OTLP_WINDOW}` : ''} }
      http: { endpoint: 127.0.0.1:${httpPort} }
${useBatch ? `processors:\n  batch: { send_batch_size: 4096, send_batch_max_size: 8192, timeout: ${process.env.BENCH_OTLP_BATCH_TIMEOUT || "10ms"} }\n` : ''}
exporters:
  otlp:
    endpoint: 127.0.0.1:${sinkPort}
    tls: { insecure: true }
    compression: none
    num_connections: ${connections}
    timeout: 30s
    # a short queue: the bench measures latency, and a deep queue only adds waiting
    sending_queue: { enabled: true, num_consumers: 4, queue_size: 8, blocking: true }
service:
  telemetry: { metrics: { level: none } }
  pipelines:
    traces: { receivers: [otlp], ${useBatch ? 'processors: [batch], ' : ''}exporters: [otlp] }
`, 'bench-collector.yaml');
  const { config, issues } = resolveConfig(loaded, registry);
  if (!config) throw new Error(JSON.stringify(issues));
  const collector = new Collector({ logger: createLogger(process.env.BENCH_OTLP_LOG || 'warn') });
  await collector.start(config);
  // Event-loop delay: how long a ready callback (a request, a batch timer) can wait, e.g. behind GC or a decode.
  const loopDelay = require('node:perf_hooks').monitorEventLoopDelay({ resolution: 1 });
  loopDelay.enable();
  // GC pauses of the main thread (V8's own timing): minor = scavenges, major = mark-compact finalization
  const { PerformanceObserver, constants } = require('node:perf_hooks');
  let gc = { minorMs: 0, majorMs: 0, major: 0, maxMs: 0 };
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      if (e.detail?.kind === constants.NODE_PERFORMANCE_GC_MAJOR) { gc.majorMs += e.duration; gc.major++; } else gc.minorMs += e.duration;
      if (e.duration > gc.maxMs) gc.maxMs = e.duration;
    }
  }).observe({ entryTypes: ['gc'] });
  let cpu0 = process.cpuUsage();
  let prof0 = { ...otlpProfile };
  let peakRss = 0;
  const rssTimer = setInterval(() => { peakRss = Math.max(peakRss, process.memoryUsage().rss); }, 200);
  // the bench process died (crash, Ctrl-C): do not linger, an orphan's timers would disturb later runs
  process.on('disconnect', () => process.exit(0));
  process.on('message', (m) => {
    if (m.type === 'mark') { for (const k of ['ingressMs', 'turnWaitMs', 'waitMs', 'exportMs']) otlpProfile[k].length = 0; otlpProfile.traced.clear(); loopDelay.reset(); gc = { minorMs: 0, majorMs: 0, major: 0, maxMs: 0 }; cpu0 = process.cpuUsage(); prof0 = { ...otlpProfile }; peakRss = process.memoryUsage().rss; process.send({ type: 'marked' }); }
    if (m.type === 'stats') {
      const cpu = process.cpuUsage(cpu0);
      const prof = {};
      for (const k of Object.keys(otlpProfile)) if (typeof otlpProfile[k] === 'number') prof[k] = otlpProfile[k] - prof0[k];
      const p99 = (a) => { const s = a.slice().sort((x, y) => x - y); return s.length ? +s[Math.min(s.length - 1, Math.floor(0.99 * s.length))].toFixed(1) : NaN; };
      const stages = { ingressP99Ms: p99(otlpProfile.ingressMs), turnWaitP99Ms: p99(otlpProfile.turnWaitMs), waitP99Ms: p99(otlpProfile.waitMs), exportP99Ms: p99(otlpProfile.exportMs) };
      process.send({ type: 'stats', stages, cpuMs: (cpu.user + cpu.system) / 1000, rss: process.memoryUsage().rss, peakRss, profile: prof, batch: useBatch, loopDelayP99Ms: loopDelay.percentile(99) / 1e6, loopDelayMaxMs: loopDelay.max / 1e6, gc });
    }
    if (m.type === 'exit') { clearInterval(rssTimer); collector.shutdown().then(() => process.exit(0), () => process.exit(1)); }
  });
  process.send({ type: 'ready', batch: useBatch });
}
main().catch((err) => { process.stderr.write(`collector failed: ${err.stack}\n`); process.exit(1); });
