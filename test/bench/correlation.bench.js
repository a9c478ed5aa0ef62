#!/usr/bin/env node
'use strict';
// Correlation processor benchmark: engine throughput on span traffic, time to correlate a
// 1,000-event cross-layer chain, and memory per span held in the window.
// Run: npm run build && node --expose-gc test/bench/correlation.bench.js
const path = require('node:path');
const root = path.resolve(__dirname, '../..');
const { createEvent } = require(path.join(root, 'core/dist/src/index.js'));
const { CorrelationEngine, createDefaultConfig, engineSettings } = require(path.join(root, 'processors/correlation/dist/src/index.js'));
const { shopTraffic } = require(path.join(root, 'processors/correlation/dist/test/synthetic.js'));

const settings = engineSettings(createDefaultConfig());
const T0 = 1_700_000_000_000;
const pct = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];

// 1. Throughput: 7 spans per request, 500 requests per second of event time, a fault after 40 s.
function throughput() {
  const requests = 40_000;
  const events = shopTraffic(T0, requests, 2, { service: 'payment', mode: 'self', addMs: 40, fromMs: T0 + 40_000 });
  const batchSize = 1000;
  const runs = [];
  let incidents = 0;
  for (let r = 0; r < 3; r++) {
    const engine = new CorrelationEngine(settings);
    const t = process.hrtime.bigint();
    for (let i = 0; i < events.length; i += batchSize) incidents += engine.ingest(events.slice(i, i + batchSize)).length;
    incidents += engine.flush().length;
    runs.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  runs.sort((a, b) => a - b);
  const ms = runs[1];
  const eps = Math.round(events.length / (ms / 1000));
  console.log(`throughput: ${events.length} span events in ${ms.toFixed(0)} ms (median of 3) = ${eps.toLocaleString()} events/s (target 165,000); ${incidents} incident updates`);
  return eps;
}

// 2. A 1,000-event chain: kernel OOM kill, pod OOMKilled, refused connections, 5xx spans and
// error logs, into an engine warmed with normal traffic. Time = ingest the chain + emit the incident.
function chain() {
  const warm = shopTraffic(T0, 3000, 20);
  const tf = T0 + 61_000;
  const mk = () => {
    const ev = [];
    const pod = { 'k8s.pod.name': 'payment-db-0', 'k8s.namespace.name': 'prod', 'k8s.node.name': 'node-1' };
    ev.push(createEvent({ kind: 'kernel', source: 'ebpf', time: tf * 1e6, resource: pod, kernel: { event: 'oom_kill', pid: 42, comm: 'postgres' } }));
    ev.push(createEvent({ kind: 'k8s', source: 'k8s', time: (tf + 500) * 1e6, resource: pod, k8s: { reason: 'OOMKilled', type: 'Warning' } }));
    for (let i = 0; i < 998; i++) {
      const t = tf + 1000 + i;
      const res = { 'service.name': i % 2 ? 'payment' : 'frontend' };
      if (i % 3 === 0) ev.push(createEvent({ kind: 'network', source: 'ebpf', time: t * 1e6, resource: { 'service.name': 'payment' }, attributes: { 'peer.service': 'payment-db' }, network: { event: 'connection_refused', dstAddr: '10.0.0.7', dstPort: 5432 } }));
      else if (i % 3 === 1) ev.push(createEvent({ kind: 'span', source: 'otlp', time: t * 1e6, resource: res, attributes: { 'http.response.status_code': 500 }, trace: { traceId: 'c'.repeat(32), spanId: (i + 1).toString(16).padStart(16, '0') }, span: { name: 'POST /pay', kind: 2, startTimeUnixNano: String(t * 1e6), endTimeUnixNano: String((t + 5) * 1e6), status: { code: 2 } } }));
      else ev.push(createEvent({ kind: 'log', source: 'otlp', time: t * 1e6, severity: 'error', resource: res, log: { body: `payment failed: ECONNREFUSED 10.0.0.7:5432 order ${i}` } }));
    }
    return ev;
  };
  const times = [];
  let rootOk = 0;
  for (let r = 0; r < 30; r++) {
    const engine = new CorrelationEngine(settings);
    engine.ingest(warm);
    const ev = mk();
    // A later event moves the watermark past the chain's windows, as live traffic would.
    const tick = createEvent({ kind: 'log', source: 'otlp', time: (tf + 40_000) * 1e6, resource: { 'service.name': 'frontend' }, log: { body: 'tick' } });
    const t = process.hrtime.bigint();
    const out = engine.ingest(ev).concat(engine.ingest([tick]));
    times.push(Number(process.hrtime.bigint() - t) / 1e6);
    const inc = out.filter((e) => e.incident).pop();
    if (inc && inc.incident.rankedCauses[0].entity.service === 'payment-db') rootOk++;
  }
  times.sort((a, b) => a - b);
  console.log(`1,000-event chain: p50 ${pct(times, 0.5).toFixed(2)} ms, p99 ${pct(times, 0.99).toFixed(2)} ms (target < 10 ms); root cause payment-db in ${rootOk}/30 runs`);
  return { p50: pct(times, 0.5), p99: pct(times, 0.99), rootOk };
}

// 3. Memory per span held in the window: spans whose end lies beyond the watermark stay held.
function memory() {
  const n = 100_000;
  const events = [];
  for (let i = 0; i < n; i++) {
    const t = T0 + i * 0.05;
    events.push(createEvent({ kind: 'span', source: 'otlp', time: t * 1e6, resource: { 'service.name': `svc${i % 20}` },
      trace: { traceId: (i >> 4).toString(16).padStart(32, '0'), spanId: (i + 1).toString(16).padStart(16, '0'), parentSpanId: i % 16 ? ((i & ~15) + 1).toString(16).padStart(16, '0') : undefined },
      span: { name: `op${i % 10}`, kind: 2, startTimeUnixNano: String(Math.round(t * 1e6)), endTimeUnixNano: String(Math.round((t + 600_000) * 1e6)) } }));
  }
  const gc = global.gc;
  if (!gc) { console.log('memory: run with --expose-gc for this figure'); return undefined; }
  gc(); gc();
  const before = process.memoryUsage().heapUsed;
  const engine = new CorrelationEngine(settings);
  for (let i = 0; i < n; i += 1000) engine.ingest(events.slice(i, i + 1000));
  gc(); gc();
  const after = process.memoryUsage().heapUsed;
  const per = (after - before) / engine.heldSpans;
  console.log(`memory: ${engine.heldSpans.toLocaleString()} spans held, ${((after - before) / 1048576).toFixed(1)} MiB → ${per.toFixed(0)} bytes per held span (target ≤ 1024)`);
  if (engine.heldSpans < 0) console.log('');
  return Math.round(per);
}

const eps = throughput();
const c = chain();
const bytes = memory();
console.log('BENCH ' + JSON.stringify({ events_per_s: eps, chain_1000_p50_ms: +c.p50.toFixed(2), chain_1000_p99_ms: +c.p99.toFixed(2), chain_root_ok: `${c.rootOk}/30`, bytes_per_held_span: bytes }));
