'use strict';
// Benchmark sink (its own process): an OTLP/gRPC trace endpoint that counts spans and takes the
// end-to-end latency of every request from the start time of the request's first span (the load
// generator stamps the send time there; its other spans are a day old, so a recent start time
// marks a request wherever the collector's batching put it). It does not build events.
const { Reader } = require('../../receivers/otlp/dist/src/index.js');

const now = () => performance.timeOrigin + performance.now();
let spans = 0;
let requests = 0;
let latencies = [];
const loopDelay = require('node:perf_hooks').monitorEventLoopDelay({ resolution: 1 });
loopDelay.enable();
let cpu0 = process.cpuUsage();
let t0 = now();

/** Start times after this (ns since the epoch) are send-time stamps: the day-old template spans are before it. */
const RECENT_NS = (Date.now() - 3_600_000) * 1e6;

function scan(buf) {
  const t = now();
  const r = new Reader(buf);
  const s = new Reader(buf); // one span's fields, reused
  while (r.pos < r.end) {
    const tag = r.uint32();
    if (tag !== 10) { r.skip(tag & 7); continue; }
    const rend = r.len();
    while (r.pos < rend) {
      const t1 = r.uint32();
      if (t1 !== 18) { r.skip(t1 & 7); continue; }
      const send = r.len();
      while (r.pos < send) {
        const t2 = r.uint32();
        if (t2 !== 18) { r.skip(t2 & 7); continue; }
        const spanEnd = r.len();
        spans++;
        // start_time_unix_nano (field 7, fixed64) comes after ids, name and kind
        s.pos = r.pos; s.end = spanEnd;
        while (s.pos < spanEnd) {
          const t3 = s.uint32();
          if (t3 === 57) {
            const start = buf.readUInt32LE(s.pos + 4) * 4294967296 + buf.readUInt32LE(s.pos);
            if (start > RECENT_NS) latencies.push(t - start / 1e6);
            break;
          }
          s.skip(t3 & 7);
        }
        r.pos = spanEnd;
      }
    }
  }
}

// Plain node:http2 speaking gRPC (5-byte length prefix, grpc-status trailer) instead of a grpc-js
// server: the sink shares the two cores with the collector, and grpc-js cost it ~2x the CPU.
const http2 = require('node:http2');
const EMPTY_REPLY = Buffer.alloc(5); // uncompressed, length 0: an empty ExportTraceServiceResponse
const server = http2.createServer({ settings: { initialWindowSize: Number(process.env.BENCH_OTLP_SINK_WINDOW ?? 16 << 20) || 65535 } });
server.on('session', (session) => {
  // The sink stands for a downstream collector receiving big batches (4096 spans, ~1.7 MB): with
  // HTTP/2's default 64 KiB window each one needs ~27 WINDOW_UPDATE round trips through two busy
  // event loops; a 16 MiB window cut the export leg's latency ~5x in this bench
  // (= the receiver's `initial_window_size`). BENCH_OTLP_SINK_WINDOW=0 keeps the default.
  const win = Number(process.env.BENCH_OTLP_SINK_WINDOW ?? 16 << 20);
  if (win) session.setLocalWindowSize(win);
});
server.on('stream', (stream, headers) => {
  const chunks = [];
  stream.on('data', (c) => chunks.push(c));
  stream.on('end', () => {
    const body = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks);
    if (headers[':path'] === '/opentelemetry.proto.collector.trace.v1.TraceService/Export' && body.length >= 5 && body[0] === 0) {
      requests++;
      scan(body.subarray(5, 5 + body.readUInt32BE(1)));
    }
    stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
    stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
    stream.end(EMPTY_REPLY);
  });
});
server.listen(0, '127.0.0.1', () => process.send({ type: 'ready', port: server.address().port }));
// the bench process died (crash, Ctrl-C): do not linger, an orphan's timers would disturb later runs
process.on('disconnect', () => process.exit(0));
process.on('message', (m) => {
  if (m.type === 'reset') { spans = 0; requests = 0; latencies = []; cpu0 = process.cpuUsage(); loopDelay.reset(); t0 = now(); process.send({ type: 'reset-done', at: t0 }); }
  if (m.type === 'stats') {
    const cpu = process.cpuUsage(cpu0);
    const at = now();
    process.send({ type: 'stats', spans, requests, latencies, at, cpuPct: Math.round(((cpu.user + cpu.system) / 1000 / (at - t0)) * 100), loopDelayP99Ms: loopDelay.percentile(99) / 1e6 });
  }
  if (m.type === 'exit') { server.close(); process.exit(0); }
});
