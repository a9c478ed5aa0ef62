'use strict';
// Benchmark load generator (its own process): sends pre-encoded OTLP trace requests over gRPC
// or HTTP, either as fast as the collector answers (closed loop, `concurrency` requests in
// flight) or at a fixed rate (open loop). The first span of every request carries the send
// time as its start time and a marker trace id (otlp-stamp.js), so the sink can measure
// end-to-end latency.
const http = require('node:http');
const http2 = require('node:http2');
const { jsonToProto } = require('../../receivers/otlp/dist/src/index.js');
const { STAMP_TRACE_ID } = require('./otlp-stamp.js');

const now = () => performance.timeOrigin + performance.now();
const MARK = 0x0123456789abcdefn; // placeholder start time, found and patched per request

function hex(n, len) { let s = ''; while (s.length < len) s += Math.floor(Math.random() * 16).toString(16); return s.slice(0, len); }

/** A realistic server span: 9 attributes, status, one in ten with an event. */
function span(i, traceId) {
  // a day old: only the first span of a request carries a recent start time (its send time), so
  // the sink picks those out even after the collector merged many requests into one export
  const t = BigInt(Date.now() - 86_400_000) * 1000000n;
  const s = {
    traceId, spanId: hex(0, 16), parentSpanId: i % 4 ? hex(0, 16) : '', name: `GET /api/v1/items/{id}`, kind: 2,
    startTimeUnixNano: String(t), endTimeUnixNano: String(t + 1234567n),
    attributes: [
      { key: 'http.request.method', value: { stringValue: 'GET' } },
      { key: 'http.route', value: { stringValue: '/api/v1/items/{id}' } },
      { key: 'http.response.status_code', value: { intValue: i % 50 ? 200 : 503 } },
      { key: 'url.path', value: { stringValue: `/api/v1/items/${1000 + i}` } },
      { key: 'server.address', value: { stringValue: 'items.shop.svc.cluster.local' } },
      { key: 'server.port', value: { intValue: 8080 } },
      { key: 'network.peer.address', value: { stringValue: '10.42.3.17' } },
      { key: 'user_agent.original', value: { stringValue: 'Mozilla/5.0 (X11; Linux x86_64) bench/1.0' } },
      { key: 'enduser.id', value: { stringValue: `user-${i % 97}` } },
    ],
    status: { code: i % 50 ? 0 : 2 },
  };
  if (i % 10 === 0) s.events = [{ timeUnixNano: String(t + 1000n), name: 'cache.miss', attributes: [{ key: 'cache.key', value: { stringValue: `item:${i}` } }] }];
  return s;
}

function request(spansPerRequest, seed) {
  const spans = [];
  let traceId = hex(0, 32);
  for (let i = 0; i < spansPerRequest; i++) { if (i % 8 === 0) traceId = hex(0, 32); spans.push(span(i + seed, traceId)); }
  spans[0].startTimeUnixNano = MARK.toString();
  spans[0].traceId = STAMP_TRACE_ID;
  const doc = { resourceSpans: [{
    resource: { attributes: [
      { key: 'service.name', value: { stringValue: 'items' } }, { key: 'service.version', value: { stringValue: '4.2.0' } },
      { key: 'k8s.namespace.name', value: { stringValue: 'shop' } }, { key: 'k8s.pod.name', value: { stringValue: `items-7d8f9-${seed % 5}` } },
      { key: 'host.name', value: { stringValue: 'node-3' } },
    ] },
    scopeSpans: [{ scope: { name: '@opentelemetry/instrumentation-http', version: '0.52.0' }, spans }],
  }] };
  const buf = jsonToProto('ExportTraceServiceRequest', doc);
  const mark = Buffer.alloc(8); mark.writeBigUInt64LE(MARK);
  const at = buf.indexOf(mark);
  if (at < 0) throw new Error('marker not found');
  return { buf, at };
}

function stamp(req) {
  const ms = now();
  const ns = BigInt(Math.floor(ms * 1000)) * 1000n;
  req.buf.writeBigUInt64LE(ns, req.at);
}

async function run(o) {
  const templates = Array.from({ length: 16 }, (_, i) => request(o.spansPerRequest, i * 1000));
  let pool = [];
  const take = () => { const t = pool.pop(); if (t) return t; const src = templates[Math.floor(Math.random() * templates.length)]; return { buf: Buffer.from(src.buf), at: src.at }; };
  const give = (r) => pool.push(r);
  let send;
  let close = () => {};
  if (o.protocol === 'grpc') {
    // gRPC over plain node:http2 (5-byte length prefix; status in the grpc-status trailer), not a
    // grpc-js client: the load generator shares the two cores with the collector, and grpc-js
    // cost it about twice the CPU.
    // maxSessionMemory: in the overload phase thousands of 213 KB requests are in flight, past
    // Node's 10 MB default, which made this client reset its own streams (ENHANCE_YOUR_CALM)
    const sessions = Array.from({ length: o.connections }, () => http2.connect(`http://${o.target}`, { maxSessionMemory: 100000, settings: { initialWindowSize: 4 << 20 } }));
    const prefix = Buffer.alloc(5);
    let n = 0;
    send = (req) => new Promise((resolve) => {
      const stream = sessions[n++ % sessions.length].request({
        ':method': 'POST', ':path': '/opentelemetry.proto.collector.trace.v1.TraceService/Export', 'content-type': 'application/grpc', te: 'trailers',
      });
      let status;
      stream.on('response', (h) => { if (h['grpc-status'] !== undefined) status = h['grpc-status']; });
      stream.on('trailers', (t) => { status = t['grpc-status']; });
      stream.on('data', () => {});
      stream.on('close', () => resolve(status === '0' ? 'ok' : status === '14' ? 'refused' : 'error'));
      stream.on('error', () => {});
      prefix.writeUInt32BE(req.buf.length, 1);
      stream.write(Buffer.from(prefix));
      stream.end(req.buf);
    });
    close = () => sessions.forEach((s) => s.close());
  } else {
    const agent = new http.Agent({ keepAlive: true, maxSockets: o.connections });
    const [host, port] = o.target.split(':');
    send = (req) => new Promise((resolve) => {
      const r = http.request({ host, port: Number(port), path: '/v1/traces', method: 'POST', agent, headers: { 'Content-Type': 'application/x-protobuf', 'Content-Length': req.buf.length } }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode === 200 ? 'ok' : res.statusCode === 503 ? 'refused' : 'error'));
      });
      r.on('error', () => resolve('error'));
      r.end(req.buf);
    });
    close = () => agent.destroy();
  }
  const counts = { ok: 0, refused: 0, error: 0, sentSpans: 0 };
  const deadline = Date.now() + o.durationMs;
  const one = async () => {
    const req = take();
    stamp(req);
    counts.sentSpans += o.spansPerRequest;
    const r = await send(req);
    counts[r]++;
    give(req);
  };
  if (o.mode === 'max') {
    const worker = async () => { while (Date.now() < deadline) await one(); };
    await Promise.all(Array.from({ length: o.concurrency }, worker));
  } else {
    // open loop: requests are due at a fixed rate whatever the answers; in-flight is capped
    const perMs = o.rate / o.spansPerRequest / 1000;
    const start = Date.now();
    let issued = 0;
    let inflight = 0;
    const pending = new Set();
    while (Date.now() < deadline) {
      const due = Math.floor((Date.now() - start) * perMs);
      while (issued < due && inflight < (o.maxInflight ?? 256)) {
        issued++; inflight++;
        const p = one().then(() => { inflight--; pending.delete(p); });
        pending.add(p);
      }
      await new Promise((r) => setTimeout(r, 2));
    }
    await Promise.all(pending);
  }
  close();
  return counts;
}

const loopDelay = require('node:perf_hooks').monitorEventLoopDelay({ resolution: 1 });
loopDelay.enable();

// the bench process died (crash, Ctrl-C): do not linger, an orphan's timers would disturb later runs
process.on('disconnect', () => process.exit(0));
process.on('message', (m) => {
  if (m.type === 'exit') { process.exit(0); return; }
  loopDelay.reset();
  const cpu0 = process.cpuUsage();
  const t0 = Date.now();
  run(m).then((counts) => {
    const cpu = process.cpuUsage(cpu0);
    process.send({ type: 'done', counts, cpuPct: Math.round(((cpu.user + cpu.system) / 1000 / (Date.now() - t0)) * 100), loopDelayP99Ms: loopDelay.percentile(99) / 1e6 });
  }, (err) => { process.send({ type: 'failed', error: err.stack }); });
});
process.send({ type: 'ready' });
