'use strict';
// What does a gRPC server cost per OTLP-sized request, transport only (no decoding)? A bare
// grpc-js server against a bare node:http2 one (what the otlp receiver's gRPC front now is),
// same client (plain node:http2 in another process, 8 connections, 8 calls in flight), 213 KB
// messages, 3,000 measured calls after 500 warm-up calls, twice each, interleaved. Measured on
// this machine: grpc-js 670-730 µs of server CPU per request, node:http2 450-490 µs; 1,190-1,310
// vs 1,870-2,030 requests/s.
// Usage: node test/bench/otlp-grpc-server.js
const { fork } = require('child_process');
const http2 = require('http2');
const PATH = '/opentelemetry.proto.collector.trace.v1.TraceService/Export';
if (process.argv[2] === 'server') {
  const mode = process.argv[3];
  const done = (port) => process.send({ port });
  if (mode === 'grpcjs') {
    const grpc = require('@grpc/grpc-js');
    const id = (b) => b;
    const s = new grpc.Server({ 'grpc.max_receive_message_length': 8 << 20 });
    s.addService({ Export: { path: PATH, requestStream: false, responseStream: false, requestSerialize: id, requestDeserialize: id, responseSerialize: id, responseDeserialize: id } },
      { Export: (call, cb) => { const b = call.request; cb(null, Buffer.alloc(0)); } });
    s.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => done(p));
  } else {
    const s = http2.createServer({ settings: { initialWindowSize: 16 << 20 } });
    s.on('session', (ss) => ss.setLocalWindowSize(16 << 20));
    const empty = Buffer.alloc(5);
    s.on('stream', (st, h) => {
      const chunks = []; let n = 0;
      st.on('data', (c) => { chunks.push(c); n += c.length; });
      st.on('end', () => {
        const b = Buffer.concat(chunks, n); const msg = b.subarray(5);
        st.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
        st.on('wantTrailers', () => st.sendTrailers({ 'grpc-status': '0' }));
        st.end(empty);
      });
    });
    s.listen(0, '127.0.0.1', () => done(s.address().port));
  }
  process.on('message', (m) => { if (m === 'cpu0') { global.c0 = process.cpuUsage(); process.send({ ok: 1 }); } if (m === 'cpu') { const c = process.cpuUsage(global.c0); process.send({ cpu: (c.user + c.system) / 1000 }); } });
} else {
  (async () => {
    for (const mode of ['grpcjs', 'h2', 'grpcjs', 'h2']) {
      const srv = fork(__filename, ['server', mode]);
      const ask = (m) => new Promise((r) => { srv.once('message', r); if (m) srv.send(m); });
      const { port } = await ask();
      const sessions = Array.from({ length: 8 }, () => http2.connect(`http://127.0.0.1:${port}`, { settings: { initialWindowSize: 4 << 20 } }));
      const body = Buffer.alloc(213529, 7); const prefix = Buffer.alloc(5); prefix.writeUInt32BE(body.length, 1);
      let k = 0;
      const one = () => new Promise((res) => { const st = sessions[k++ % 8].request({ ':method': 'POST', ':path': PATH, 'content-type': 'application/grpc', te: 'trailers' }); st.on('data', () => {}); st.on('close', res); st.write(prefix); st.end(body); });
      const run = async (n) => { let i = 0; await Promise.all(Array.from({ length: 8 }, async () => { while (i++ < n) await one(); })); };
      await run(500);
      await ask('cpu0'); const t0 = Date.now();
      await run(3000);
      const { cpu } = await ask('cpu');
      console.log(mode.padEnd(7), 'server CPU per request', (cpu / 3000 * 1000).toFixed(0), 'µs =', (cpu / 3000 * 1000 / 500).toFixed(2), 'µs/span;', Math.round(3000 / ((Date.now() - t0) / 1000)), 'req/s');
      sessions.forEach((s) => s.close()); srv.kill();
    }
  })();
}
