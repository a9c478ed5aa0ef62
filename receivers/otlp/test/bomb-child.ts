/**
 * Run in a fresh process by compression.test.ts: starts a receiver with a 16 MiB limit, sends it
 * compression bombs over HTTP and gRPC, and prints the answers and the process's peak RSS
 * (getrusage maxrss) before and after. A fresh process, so the peak is not an earlier test's.
 */
import * as crypto from 'node:crypto';
import { loadZstd, snappyFramed } from '../src/index';
import { grpcCompressedCall, snappyBlockDeclaring, snappyFramedBomb, zstdRleBomb } from './compressed-bodies';
import { post, startReceiver } from './helpers';

const MiB = 1 << 20;

async function main(): Promise<void> {
  const r = await startReceiver({ grpc: { endpoint: '127.0.0.1:0', max_recv_msg_size_mib: 16 }, http: { endpoint: '127.0.0.1:0', max_request_body_size: 16 * MiB } });
  const bombs: Record<string, { encoding: string; body: Buffer }> = {
    'zstd declaring 1 GiB': { encoding: 'zstd', body: zstdRleBomb(1024 * MiB, true) },
    'zstd without declared size, 1 GiB': { encoding: 'zstd', body: zstdRleBomb(1024 * MiB, false) },
    'snappy block declaring 1 GiB': { encoding: 'snappy', body: snappyBlockDeclaring(1024 * MiB) },
    'snappy framed, 256 MiB': { encoding: 'snappy', body: snappyFramedBomb(4096) },
  };
  // warm up: the WASM compiled and one request of each kind served before the baseline, small
  // ones here and ones big enough for the decompression worker (started then, with its own WASM)
  const zstd = await loadZstd();
  const noise = crypto.randomBytes(64 * 1024); // incompressible: over the worker's threshold compressed too
  for (const data of [Buffer.alloc(0), noise]) {
    await post(r.httpPort, '/v1/traces', zstd.compress(data), { 'Content-Type': 'application/x-protobuf', 'Content-Encoding': 'zstd' });
    await post(r.httpPort, '/v1/traces', snappyFramed(data), { 'Content-Type': 'application/x-protobuf', 'Content-Encoding': 'snappy' });
  }
  const baselineKiB = process.resourceUsage().maxRSS;
  const answers: Record<string, { http: number; grpc?: string; httpMs: number; grpcMs: number }> = {};
  for (const [name, { encoding, body }] of Object.entries(bombs)) {
    let t = Date.now();
    const h = await post(r.httpPort, '/v1/traces', body, { 'Content-Type': 'application/x-protobuf', 'Content-Encoding': encoding });
    const httpMs = Date.now() - t;
    t = Date.now();
    const g = await grpcCompressedCall(r.grpcPort, body, encoding);
    answers[name] = { http: h.status, grpc: g.grpcStatus, httpMs, grpcMs: Date.now() - t };
  }
  const peakKiB = process.resourceUsage().maxRSS;
  await r.receiver.shutdown();
  process.stdout.write(JSON.stringify({ answers, baselineMiB: baselineKiB / 1024, peakMiB: peakKiB / 1024, wireBytes: Object.fromEntries(Object.entries(bombs).map(([k, v]) => [k, v.body.length])), delivered: r.sink.events.length }));
}

main().then(() => process.exit(0), (err: unknown) => { console.error(err); process.exit(1); });
