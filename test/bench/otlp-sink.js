'use strict';
// Benchmark sink (its own process): an OTLP/gRPC trace endpoint that counts spans and takes the
// end-to-end latency of every request from its stamped span (otlp-stamp.js: the load generator
// gives the first span of each request a marker trace id and the send time as start time, so it
// is found wherever the collector's batching put it). It does not build events.
const { Reader } = require('../../receivers/otlp/dist/src/index.js');
const { STAMP_TRACE_ID_BYTES } = require('./otlp-stamp.js');

const now = () => performance.timeOrigin + performance.now();
let spans = 0;
let requests = 0;
let latencies = [];
const loopDelay = require('node:perf_hooks').monitorEventLoopDelay({ resolution: 1 });
loopDelay.enable();
let cpu0 = process.cpuUsage();
let t0 = now();

/** Counts the spans of an ExportTraceServiceRequest, skipping each by its length. */
function countSpans(buf) {
  const r = new Reader(buf);
  let n = 0;
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
        if (t2 === 18) n++;
        r.skip(t2 & 7);
      }
    }
  }
  return n;
}

/** How far past the marker trace id the stamped span's start time may lie (span id, parent, name, kind). */
const STAMP_WINDOW = 256;

/** The latency of every stamped span in the message: now minus its start time (field 7, fixed64). */
function takeLatencies(buf, t) {
  const r = new Reader(buf);
  for (let at = buf.indexOf(STAMP_TRACE_ID_BYTES); at >= 0; at = buf.indexOf(STAMP_TRACE_ID_BYTES, at + 16)) {
    r.pos = at + 16;
    r.end = Math.min(buf.length, at + 16 + STAMP_WINDOW);
    while (r.pos < r.end) {
      const tag = r.uint32();
      if (tag === 57) {
        const start = buf.readUInt32LE(r.pos + 4) * 4294967296 + buf.readUInt32LE(r.pos);
        latencies.push(t - start / 1e6);
        break;
      }
      r.skip(tag & 7);
    }
  }
}

function scan(buf) {
  const t = now();
  spans += countSpans(buf);
  takeLatencies(buf, t);
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
// Bodies are gathered into one reused buffer, not concatenated into a new one each: the sink reads
// a body synchronously and keeps nothing of it, and a fresh 1-2 MB buffer per export made V8
// collect garbage for the external memory (~13 % of a core in the sink's GC threads).
let gather = Buffer.allocUnsafe(4 << 20);
function gathered(chunks, size) {
  if (chunks.length === 1) return chunks[0];
  if (size > gather.length) gather = Buffer.allocUnsafe(size * 2);
  let at = 0;
  for (const c of chunks) { c.copy(gather, at); at += c.length; }
  return gather.subarray(0, size);
}

/** Per export: headers → last byte (how long the body took to arrive), in ms. */
let receiveMs = [];
let streamsOpen = 0;
let maxStreamsOpen = 0;

server.on('stream', (stream, headers) => {
  const chunks = [];
  let size = 0;
  const tHeaders = now();
  if (++streamsOpen > maxStreamsOpen) maxStreamsOpen = streamsOpen;
  stream.on('close', () => streamsOpen--);
  stream.on('data', (c) => { chunks.push(c); size += c.length; });
  stream.on('end', () => {
    receiveMs.push(now() - tHeaders);
    const body = gathered(chunks, size);
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
  if (m.type === 'reset') { spans = 0; requests = 0; latencies = []; receiveMs = []; maxStreamsOpen = streamsOpen; cpu0 = process.cpuUsage(); loopDelay.reset(); t0 = now(); process.send({ type: 'reset-done', at: t0 }); }
  if (m.type === 'stats') {
    const cpu = process.cpuUsage(cpu0);
    const at = now();
    process.send({ type: 'stats', spans, requests, latencies, at, cpuPct: Math.round(((cpu.user + cpu.system) / 1000 / (at - t0)) * 100), loopDelayP99Ms: loopDelay.percentile(99) / 1e6, receiveMs, maxStreamsOpen });
  }
  if (m.type === 'exit') { server.close(); process.exit(0); }
});
