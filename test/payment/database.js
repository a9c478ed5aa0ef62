'use strict';
// The database stand-in: a line-protocol TCP server ("QUERY <text>" → "OK <rows>") on
// DB_HOST:DB_PORT (port 0 = any). It prints {"listening": {address, port}, "pid"} on stdout once
// bound. SIGUSR2 starts a memory leak: it keeps allocating and touching 8 MiB buffers until
// the kernel's OOM killer ends it — run it in a memory-limited cgroup.
const net = require('node:net');

const host = process.env.DB_HOST ?? '127.0.0.1';
const port = Number(process.env.DB_PORT ?? 0);
const leaked = [];

const server = net.createServer((socket) => {
  socket.setEncoding('utf8');
  let partial = '';
  socket.on('data', (chunk) => {
    partial += chunk;
    let nl;
    while ((nl = partial.indexOf('\n')) >= 0) {
      const line = partial.slice(0, nl);
      partial = partial.slice(nl + 1);
      if (line.startsWith('QUERY ')) socket.write(`OK ${1 + (line.length % 5)}\n`);
      else socket.write('ERR unknown command\n');
    }
  });
  socket.on('error', () => { /* a client that goes away is not our problem */ });
});

function leak() {
  // Buffers live outside the V8 heap, so no heap limit stops this before the cgroup limit does.
  const chunk = Buffer.alloc(8 * 1024 * 1024, 0x5a);
  leaked.push(chunk);
  setImmediate(leak);
}

process.on('SIGUSR2', () => { process.stdout.write(JSON.stringify({ leaking: true }) + '\n'); leak(); });
process.on('SIGTERM', () => server.close(() => process.exit(0)));

server.listen(port, host, () => {
  const a = server.address();
  process.stdout.write(JSON.stringify({ listening: { address: a.address, port: a.port }, pid: process.pid }) + '\n');
});
