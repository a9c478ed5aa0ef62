'use strict';
// Why grpc-js throughput is erratic with big OTLP requests: grpc-js servers keep Node's HTTP/2
// default receive window (64 KiB per stream and per connection), so a client can have only
// 64 KiB in flight before waiting for WINDOW_UPDATE frames, and concurrent streams on one
// connection share that 64 KiB. This measures a bare grpc-js server (no decoding) with the
// default window and with the window the otlp receiver sets, at 1 and 8 requests in flight.
// Usage: node test/bench/otlp-grpc-window.js   (client and server in separate processes)
const { fork } = require('node:child_process');
const grpc = require('@grpc/grpc-js');

const PATH = '/opentelemetry.proto.collector.trace.v1.TraceService/Export';
const id = (b) => b;

if (process.argv[2] === 'server') {
  const win = Number(process.argv[3]);
  const server = new grpc.Server({ 'grpc.max_receive_message_length': 64 << 20 });
  server.addService({ Export: { path: PATH, requestStream: false, responseStream: false, requestSerialize: id, requestDeserialize: id, responseSerialize: id, responseDeserialize: id } }, { Export: (_c, cb) => cb(null, Buffer.alloc(0)) });
  server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, port) => {
    if (win) for (const h2 of server.http2Servers.keys()) h2.on('session', (s) => { s.settings({ initialWindowSize: win }); s.setLocalWindowSize(win); });
    process.send({ port });
  });
  process.on('message', () => process.exit(0));
} else {
  (async () => {
    const body = Buffer.alloc(200 * 1024, 7); // ~ a 500-span OTLP request
    const rows = [];
    for (const win of [0, 4 << 20]) {
      const srv = fork(__filename, ['server', String(win)]);
      const port = await new Promise((r) => srv.once('message', (m) => r(m.port)));
      for (const inflight of [1, 8]) {
        const client = new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure(), { 'grpc-node.flow_control_window': 4 << 20, 'grpc.x': inflight });
        const end = Date.now() + 2500;
        let n = 0;
        const worker = async () => { while (Date.now() < end) { await new Promise((r) => client.makeUnaryRequest(PATH, id, id, body, () => r())); n++; } };
        const t0 = Date.now();
        await Promise.all(Array.from({ length: inflight }, worker));
        const perSec = n / ((Date.now() - t0) / 1000);
        rows.push({ window: win ? `${win >> 20} MiB` : '64 KiB (default)', inflight, requestsPerSec: Math.round(perSec), mbPerSec: Math.round(perSec * 0.2) });
        client.close();
      }
      srv.send('exit');
    }
    for (const r of rows) process.stdout.write(`server window ${r.window.padEnd(17)} in flight ${r.inflight}: ${String(r.requestsPerSec).padStart(5)} requests/s (${r.mbPerSec} MB/s)\n`);
    process.stdout.write(`load average ${require('node:os').loadavg()[0].toFixed(2)}\n`);
  })();
}
