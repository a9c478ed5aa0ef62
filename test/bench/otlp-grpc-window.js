'use strict';
// Is HTTP/2 flow control what makes grpc-js throughput erratic with big OTLP requests? grpc-js
// servers keep Node's default receive window (64 KiB per stream and connection), so a client
// waits for WINDOW_UPDATEs every 64 KiB. This measures a bare grpc-js server (no decoding) with
// that default and with a 4 MiB window (the receiver's `initial_window_size`), at 1 and 8
// requests in flight, interleaved, medians of five rounds. On this machine the default was
// faster; the swings between identical rounds came from CPU scheduling, not the window.
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
    // Five interleaved rounds per setting, median reported: on a shared machine single runs swing widely.
    const body = Buffer.alloc(200 * 1024, 7); // ~ a 500-span OTLP request
    const servers = {};
    for (const win of [0, 4 << 20]) {
      const srv = fork(__filename, ['server', String(win)]);
      servers[win] = { srv, port: await new Promise((r) => srv.once('message', (m) => r(m.port))) };
    }
    const samples = {};
    for (let round = 0; round < 5; round++) {
      for (const win of round % 2 ? [4 << 20, 0] : [0, 4 << 20]) { // alternate the order against drifting load
        for (const inflight of [1, 8]) {
          const client = new grpc.Client(`127.0.0.1:${servers[win].port}`, grpc.credentials.createInsecure(), { 'grpc-node.flow_control_window': 4 << 20, 'grpc.x': `${inflight}-${round}` });
          const end = Date.now() + 1200;
          let n = 0;
          const worker = async () => { while (Date.now() < end) { await new Promise((r) => client.makeUnaryRequest(PATH, id, id, body, () => r())); n++; } };
          const t0 = Date.now();
          await Promise.all(Array.from({ length: inflight }, worker));
          (samples[`${win}/${inflight}`] ??= []).push(n / ((Date.now() - t0) / 1000));
          client.close();
        }
      }
    }
    for (const { srv } of Object.values(servers)) srv.send('exit');
    const figures = {};
    for (const [k, v] of Object.entries(samples)) {
      const [win, inflight] = k.split('/');
      const sorted = v.sort((a, b) => a - b);
      const median = sorted[2];
      figures[`window_${win === '0' ? '64KiB' : '4MiB'}_inflight_${inflight}_req_per_s`] = Math.round(median);
      process.stdout.write(`server window ${(win === '0' ? '64 KiB (default)' : '4 MiB').padEnd(17)} in flight ${inflight}: median ${String(Math.round(median)).padStart(5)} requests/s of 200 KiB (range ${Math.round(sorted[0])}–${Math.round(sorted[4])})\n`);
    }
    process.stdout.write(`load average ${require('node:os').loadavg()[0].toFixed(2)}\n`);
  })();
}
