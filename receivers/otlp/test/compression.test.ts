import * as assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import * as http2 from 'node:http2';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { testBatch } from '@tapio/core/testing';
import { DecodeWorkerError, encodeTraces, inflateCapped, InflateError, loadZstd, snappyBlock, snappyFramed } from '../src/index';
import { inflateOffload } from '../src/compression/offload';
import { grpcCompressedCall, snappyBlockDeclaring, zstdWithoutContentSize } from './compressed-bodies';
import { asOtlp, post, startReceiver, TRACES_PATH, type Running } from './helpers';

const PB = { 'Content-Type': 'application/x-protobuf' };
const GRPC_OK = '0', GRPC_INVALID_ARGUMENT = '3', GRPC_RESOURCE_EXHAUSTED = '8';

/** ~300 KB of OTLP: several snappy chunks (64 KiB) and zstd blocks (128 KiB). */
const EVENTS = testBatch(5000, 'span').events;
const REQUEST = Buffer.from(encodeTraces(EVENTS));
const EXPECTED = asOtlp('traces', EVENTS);

describe('otlp receiver: zstd and snappy bodies', () => {
  let r: Running;
  before(async () => { r = await startReceiver(); });
  after(async () => { await r.receiver.shutdown(); });
  beforeEach(() => r.sink.reset());

  it('HTTP: zstd (with and without a declared content size), snappy framed, snappy block and x-snappy-framed each deliver every span unchanged', async () => {
    assert.ok(REQUEST.length > 200_000, `request of ${REQUEST.length} bytes spans several chunks and blocks`);
    const zstd = await loadZstd();
    const framed = zstd.compress(REQUEST);
    const bodies: [string, string, Buffer][] = [
      ['zstd, content size declared', 'zstd', framed],
      ['zstd, no content size (as Go streams it)', 'zstd', zstdWithoutContentSize(framed)],
      ['snappy, framing format', 'snappy', snappyFramed(REQUEST)],
      ['snappy, block format (the Collector since its framedSnappy gate)', 'snappy', snappyBlock(REQUEST)],
      ['x-snappy-framed', 'x-snappy-framed', snappyFramed(REQUEST)],
    ];
    for (const [name, encoding, body] of bodies) {
      r.sink.reset();
      const a = await post(r.httpPort, '/v1/traces', body, { ...PB, 'Content-Encoding': encoding });
      assert.equal(a.status, 200, `${name}: ${a.body.toString('latin1')}`);
      assert.deepEqual(asOtlp('traces', r.sink.events), EXPECTED, name);
    }
  });

  it('gRPC: grpc-encoding zstd and snappy (framing format) deliver every span unchanged, and both are advertised', async () => {
    const zstd = await loadZstd();
    for (const [encoding, body] of [['zstd', zstd.compress(REQUEST)], ['snappy', snappyFramed(REQUEST)]] as const) {
      r.sink.reset();
      const a = await grpcCompressedCall(r.grpcPort, body, encoding);
      assert.equal(a.grpcStatus, GRPC_OK, `${encoding}: ${a.grpcMessage}`);
      assert.deepEqual(asOtlp('traces', r.sink.events), EXPECTED, encoding);
    }
    const accepted = await new Promise<string>((resolve, reject) => {
      const session = http2.connect(`http://127.0.0.1:${r.grpcPort}`);
      session.on('error', reject);
      const req = session.request({ ':method': 'POST', ':path': TRACES_PATH, 'content-type': 'application/grpc', te: 'trailers' });
      req.on('response', (h) => resolve(String(h['grpc-accept-encoding'])));
      req.on('close', () => session.close());
      req.on('data', () => {});
      req.end(); // no message: refused, but every answer carries grpc-accept-encoding
    });
    assert.match(accepted, /zstd/);
    assert.match(accepted, /snappy/);
  });

  it('corrupt zstd and snappy bodies → 400 / INVALID_ARGUMENT with the reason, nothing delivered, while another client is served at the same time', async () => {
    const zstd = await loadZstd();
    const good = zstd.compress(REQUEST);
    const badCrc = snappyFramed(REQUEST);
    badCrc[badCrc.length - 7] ^= 0xff;
    const corrupt: [string, string, Buffer, RegExp][] = [
      ['zstd truncated', 'zstd', good.subarray(0, good.length - 100), /zstd.*truncated/],
      ['zstd garbage', 'zstd', Buffer.from('definitely not zstd at all'), /zstd.*unknown frame magic/],
      ['snappy framed, a chunk\'s CRC does not match', 'snappy', badCrc, /checksum mismatch/],
      ['snappy block, copy before the start of the output', 'snappy', Buffer.from([100, (63 << 2) | 2, 0x05, 0x00]), /copy outside the output/],
      ['snappy block declaring less than its copies write', 'snappy', snappyBlockDeclaring(20), /overruns|outside/],
      ['x-snappy-framed without the stream identifier', 'x-snappy-framed', snappyBlock(REQUEST), /stream identifier/],
    ];
    const served = post(r.httpPort, '/v1/traces', zlib.gzipSync(REQUEST), { ...PB, 'Content-Encoding': 'gzip' });
    const answers = await Promise.all(corrupt.map(([, encoding, body]) => post(r.httpPort, '/v1/traces', body, { ...PB, 'Content-Encoding': encoding })));
    const grpcAnswers = await Promise.all(corrupt.filter(([, enc]) => enc !== 'x-snappy-framed').map(([, encoding, body]) => grpcCompressedCall(r.grpcPort, body, encoding)));
    corrupt.forEach(([name, , , why], i) => {
      assert.equal(answers[i]!.status, 400, name);
      assert.match(answers[i]!.body.toString('latin1'), why, name);
    });
    for (const g of grpcAnswers) assert.equal(g.grpcStatus, GRPC_INVALID_ARGUMENT, g.grpcMessage);
    assert.equal((await served).status, 200, 'the other client is served');
    assert.deepEqual(asOtlp('traces', r.sink.events), EXPECTED, 'only the good request delivered');
  });

  it('zstd and snappy bodies are decoded in a worker thread, not on the event loop (which keeps serving meanwhile); a worker that dies leaves its jobs decoded here', async () => {
    const zstd = await loadZstd();
    const big = Buffer.concat(Array.from({ length: 8 }, () => REQUEST)); // ~2.4 MB
    for (const [encoding, body] of [['zstd', zstd.compress(big)], ['x-snappy-framed', snappyFramed(big)], ['snappy', snappyBlock(big)]] as const) {
      let turned = false;
      setImmediate(() => { turned = true; });
      const out = await inflateCapped(body, encoding, 64 << 20);
      assert.ok(out.equals(big), `${encoding}: the same bytes back`);
      // decoded on this thread, the promise would settle before the event loop turned once
      assert.ok(turned, `${encoding}: the event loop turned while the body was decoded elsewhere`);
    }
    await assert.rejects(inflateCapped(zstd.compress(big), 'zstd', 1 << 20), (e: unknown) => e instanceof InflateError && e.tooLarge, 'the limit holds in the worker');
    assert.ok(inflateOffload.thread, 'a worker is running');
    const job = inflateCapped(snappyFramed(big), 'x-snappy-framed', 64 << 20);
    await inflateOffload.thread!.terminate(); // dies with the job unanswered
    assert.ok((await job).equals(big), 'the job of a dead worker is decoded on the main thread');
    assert.ok((await inflateCapped(snappyFramed(big), 'x-snappy-framed', 64 << 20)).equals(big), 'the next job starts a new worker');
    // an owned body is moved to the worker, not copied: when that worker dies its bytes are gone, and the request is retryable
    const owned = Buffer.from(snappyFramed(big)); // its own ArrayBuffer
    const moved = inflateCapped(owned, 'x-snappy-framed', 64 << 20, true);
    assert.equal(owned.byteLength, 0, 'moved: detached here');
    await inflateOffload.thread!.terminate();
    await assert.rejects(moved, DecodeWorkerError);
    const again = Buffer.from(snappyFramed(big));
    assert.ok((await inflateCapped(again, 'x-snappy-framed', 64 << 20, true)).equals(big), 'an owned body decodes in the (new) worker');
    assert.ok(inflateOffload.thread);
  });

  it('HTTP: lz4 is still answered 415 naming what is accepted (the Collector\'s default list less lz4)', async () => {
    const a = await post(r.httpPort, '/v1/traces', Buffer.from([0x04, 0x22, 0x4d, 0x18]), { ...PB, 'Content-Encoding': 'lz4' });
    assert.equal(a.status, 415);
    assert.match(a.body.toString('latin1'), /accepted: identity, gzip, zstd, zlib, snappy, deflate, x-snappy-framed/);
    assert.equal(r.sink.events.length, 0);
  });

  it('bombs (1 GiB zstd with and without a declared size, 1 GiB snappy block, 256 MiB snappy framed) → 413 / RESOURCE_EXHAUSTED; peak RSS grows by under 96 MiB', async function () {
    this.timeout(60_000);
    // a fresh process: its peak RSS (getrusage) is this test's alone
    const out = await new Promise<string>((resolve, reject) => {
      execFile(process.execPath, [path.join(__dirname, 'bomb-child.js')], { timeout: 50_000 }, (err, stdout, stderr) => (err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout)));
    });
    const report = JSON.parse(out) as { answers: Record<string, { http: number; grpc: string }>; baselineMiB: number; peakMiB: number; wireBytes: Record<string, number>; delivered: number };
    for (const [name, a] of Object.entries(report.answers)) {
      assert.equal(a.http, 413, `HTTP ${name}`);
      // gRPC's snappy is the framing format only (as go-grpc-compression): a bare block is not snappy there
      assert.equal(a.grpc, name.startsWith('snappy block') ? GRPC_INVALID_ARGUMENT : GRPC_RESOURCE_EXHAUSTED, `gRPC ${name}`);
    }
    assert.equal(report.delivered, 0);
    const grewMiB = report.peakMiB - report.baselineMiB;
    console.log(`      bombs: peak RSS ${report.peakMiB.toFixed(0)} MiB, ${grewMiB.toFixed(0)} MiB over the baseline (limit 16 MiB; on the wire ${JSON.stringify(report.wireBytes)})`);
    assert.ok(grewMiB < 96, `peak RSS grew by ${grewMiB.toFixed(0)} MiB`);
  });
});
