import * as assert from 'node:assert/strict';
import * as http2 from 'node:http2';
import * as zlib from 'node:zlib';
import * as grpc from '@grpc/grpc-js';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { PermanentError, type Batch, type Consumer } from '@tapio/core';
import { freezableProxy, SinkConsumer } from '@tapio/core/testing';
import { sdkSpans } from './fixtures';
import { grpcCall, post, startReceiver, TRACES_PATH, type Running } from './helpers';

const identity = (b: Buffer): Buffer => b;

/** One gRPC call over plain node:http2: full control of framing and headers. */
function rawCall(port: number, frames: Buffer[], headers: Record<string, string> = {}, path = TRACES_PATH): Promise<{ status: number; grpcStatus?: string; grpcMessage?: string }> {
  return new Promise((resolve, reject) => {
    const session = http2.connect(`http://127.0.0.1:${port}`);
    session.on('error', reject);
    const req = session.request({ ':method': 'POST', ':path': path, 'content-type': 'application/grpc', te: 'trailers', ...headers });
    let status = 0;
    let grpcStatus: string | undefined, grpcMessage: string | undefined;
    req.on('response', (h) => { status = Number(h[':status']); grpcStatus = h['grpc-status'] as string | undefined; grpcMessage = h['grpc-message'] as string | undefined; });
    req.on('trailers', (t) => { grpcStatus = t['grpc-status'] as string; grpcMessage = t['grpc-message'] as string | undefined; });
    req.on('data', () => {});
    req.on('close', () => { session.close(); resolve({ status, grpcStatus, grpcMessage }); });
    req.on('error', () => {});
    for (const f of frames) req.write(f);
    req.end();
  });
}

function frame(message: Buffer, compressed = false): Buffer {
  const prefix = Buffer.alloc(5);
  prefix[0] = compressed ? 1 : 0;
  prefix.writeUInt32BE(message.length, 1);
  return Buffer.concat([prefix, message]);
}

class SlowConsumer implements Consumer {
  readonly sink = new SinkConsumer();
  constructor(private readonly ms: number) {}
  async consume(b: Batch): Promise<void> {
    await new Promise((r) => setTimeout(r, this.ms));
    await this.sink.consume(b);
  }
}

describe('otlp receiver: the gRPC front (node:http2)', () => {
  const spans = sdkSpans();
  const valid = Buffer.from(ProtobufTraceSerializer.serializeRequest(spans)!);

  describe('protocol', () => {
    let r: Running;
    before(async () => { r = await startReceiver({ http: undefined }); });
    after(async () => { await r.receiver.shutdown(); });
    beforeEach(() => r.sink.reset());

    it('a message in several DATA frames, split anywhere (even inside the prefix), is read whole', async () => {
      const f = frame(valid);
      const parts = [f.subarray(0, 2), f.subarray(2, 7), f.subarray(7, 1000), f.subarray(1000)];
      const a = await rawCall(r.grpcPort, parts);
      assert.equal(a.grpcStatus, '0');
      assert.equal(r.sink.events.length, spans.length);
    });

    it('deflate and gzip messages from a grpc-js client arrive intact', async () => {
      for (const algo of [grpc.compressionAlgorithms.deflate, grpc.compressionAlgorithms.gzip]) {
        r.sink.reset();
        const client = new grpc.Client(`127.0.0.1:${r.grpcPort}`, grpc.credentials.createInsecure(), { 'grpc.default_compression_algorithm': algo });
        const err = await new Promise<grpc.ServiceError | null>((resolve) => client.makeUnaryRequest(TRACES_PATH, identity, identity, valid, (e) => { client.close(); resolve(e); }));
        assert.equal(err, null);
        assert.equal(r.sink.events.length, spans.length);
      }
    });

    it('unknown method and unsupported grpc-encoding → UNIMPLEMENTED', async () => {
      const unknown = await grpcCall(r.grpcPort, valid, '/opentelemetry.proto.collector.profiles.v1development.ProfilesService/Export');
      assert.equal(unknown.err?.code, grpc.status.UNIMPLEMENTED);
      const lz4 = await rawCall(r.grpcPort, [frame(valid, true)], { 'grpc-encoding': 'lz4' });
      assert.equal(lz4.grpcStatus, String(grpc.status.UNIMPLEMENTED));
      assert.match(decodeURIComponent(lz4.grpcMessage!), /lz4.*zstd,snappy/);
    });

    it('no message, a truncated one, two messages, or a compressed flag without grpc-encoding → INVALID_ARGUMENT; nothing delivered', async () => {
      const cases = [
        [],
        [frame(valid).subarray(0, 3)],
        [frame(valid).subarray(0, 100)],
        [frame(valid), frame(valid)],
        [frame(zlib.gzipSync(valid), true)],
      ];
      for (const frames of cases) {
        const a = await rawCall(r.grpcPort, frames);
        assert.equal(a.grpcStatus, String(grpc.status.INVALID_ARGUMENT), `${frames.length} frame(s): ${a.grpcMessage}`);
      }
      assert.equal(r.sink.events.length, 0);
      assert.equal(r.receiver.handler.inflight, 0, 'failed calls gave their admission reservation back');
      const ok = await rawCall(r.grpcPort, [frame(zlib.gzipSync(valid), true)], { 'grpc-encoding': 'gzip' });
      assert.equal(ok.grpcStatus, '0');
      assert.equal(r.sink.events.length, spans.length);
    });

    it('non-gRPC requests get HTTP errors: GET → 405, another content type → 415', async () => {
      const get = await rawCall(r.grpcPort, [], { ':method': 'GET' });
      assert.equal(get.status, 405);
      const json = await rawCall(r.grpcPort, [valid], { 'content-type': 'application/json' });
      assert.equal(json.status, 415);
    });
  });

  it('admission reads only the length prefix: under a blocked pipeline, large calls are refused UNAVAILABLE before their body is read, and reservations are given back', async () => {
    const waiting: (() => void)[] = [];
    const blocking: Consumer = { consume: () => new Promise<void>((resolve) => waiting.push(resolve)) };
    const big = Buffer.from(ProtobufTraceSerializer.serializeRequest(Array.from({ length: 40 }, () => sdkSpans()).flat())!);
    const limit = big.length * 2.5;
    const r = await startReceiver({ http: undefined }, blocking, { admission: { request_limit_mib: limit / 1048576 } });
    let peak = 0;
    const watch = setInterval(() => { peak = Math.max(peak, r.receiver.handler.inflight); }, 1);
    try {
      const calls = Array.from({ length: 30 }, () => rawCall(r.grpcPort, [frame(big)]));
      while (waiting.length < 2) await new Promise((res) => setTimeout(res, 5));
      await new Promise((res) => setTimeout(res, 200)); // the others arrive and are refused meanwhile
      assert.ok(r.receiver.handler.inflight <= limit, `held ${r.receiver.handler.inflight} bytes, limit ${limit}`);
      // refused from the prefix alone: a client that has sent 5 bytes + a little gets its answer
      const partial = await new Promise<string | undefined>((resolve, reject) => {
        const session = http2.connect(`http://127.0.0.1:${r.grpcPort}`);
        const req = session.request({ ':method': 'POST', ':path': TRACES_PATH, 'content-type': 'application/grpc', te: 'trailers' });
        const timer = setTimeout(() => reject(new Error('no answer before the body was complete')), 2000);
        req.on('response', (h) => { clearTimeout(timer); resolve(h['grpc-status'] as string | undefined); session.destroy(); });
        req.on('error', () => {});
        req.write(frame(big).subarray(0, 1000)); // and never the rest
      });
      assert.equal(partial, '14');
      for (const w of waiting.splice(0)) w();
      const answers = await Promise.all(calls);
      const byStatus: Record<string, number> = {};
      for (const a of answers) byStatus[a.grpcStatus!] = (byStatus[a.grpcStatus!] ?? 0) + 1;
      assert.ok((byStatus['14'] ?? 0) >= 25, `refused: ${JSON.stringify(byStatus)}`);
      assert.equal((byStatus['0'] ?? 0) + (byStatus['14'] ?? 0), 30, JSON.stringify(byStatus));
      assert.ok(peak <= limit, `peak ${peak} bytes held, limit ${limit}`);
      assert.equal(r.receiver.handler.inflight, 0, 'every reservation given back');
    } finally {
      clearInterval(watch);
      for (const w of waiting) w();
      await r.receiver.shutdown();
    }
  });

  it('a compressed request admitted on its wire size is refused when what it inflates to does not fit (gRPC and HTTP); alone it is served', async () => {
    const waiting: (() => void)[] = [];
    let consumed = 0;
    const blocking: Consumer = { consume: (b) => new Promise<void>((resolve) => { consumed += b.events.length; waiting.push(resolve); }) };
    const big = Buffer.from(ProtobufTraceSerializer.serializeRequest(Array.from({ length: 40 }, () => sdkSpans()).flat())!);
    const gz = zlib.gzipSync(big);
    assert.ok(gz.length * 4 < big.length, `the request compresses well (${gz.length} of ${big.length} bytes)`);
    const r = await startReceiver({}, blocking, { admission: { request_limit_mib: (big.length * 1.5) / 1048576 } });
    try {
      const first = rawCall(r.grpcPort, [frame(big)]); // admitted; holds big.length while the pipeline blocks
      while (waiting.length === 0) await new Promise((res) => setTimeout(res, 5));
      const held = consumed;
      // big + gz fits the limit, big + big does not
      const g = await rawCall(r.grpcPort, [frame(gz, true)], { 'grpc-encoding': 'gzip' });
      assert.equal(g.grpcStatus, '14');
      const h = await post(r.httpPort, '/v1/traces', gz, { 'Content-Type': 'application/x-protobuf', 'Content-Encoding': 'gzip' });
      assert.equal(h.status, 503);
      assert.equal(consumed, held, 'neither was decoded into the pipeline');
      assert.equal(r.receiver.handler.inflight, big.length, 'the refused requests gave back what they reserved');
      waiting.shift()!();
      assert.equal((await first).grpcStatus, '0');
      // alone, a compressed request is admitted whatever it inflates to, even past the limit
      const huge = Buffer.from(ProtobufTraceSerializer.serializeRequest(Array.from({ length: 80 }, () => sdkSpans()).flat())!);
      const alone = rawCall(r.grpcPort, [frame(zlib.gzipSync(huge), true)], { 'grpc-encoding': 'gzip' });
      while (waiting.length === 0) await new Promise((res) => setTimeout(res, 5));
      assert.equal(r.receiver.handler.inflight, huge.length, 'it counts its inflated size');
      waiting.shift()!();
      assert.equal((await alone).grpcStatus, '0');
      assert.equal(r.receiver.handler.inflight, 0);
    } finally {
      for (const w of waiting) w();
      await r.receiver.shutdown();
    }
  });

  describe('keepalive, as configgrpc: server_parameters and enforcement_policy', () => {
    const until = async (cond: () => boolean, ms: number): Promise<boolean> => {
      for (const end = Date.now() + ms; !cond() && Date.now() < end;) await new Promise((res) => setTimeout(res, 10));
      return cond();
    };

    it('max_connection_age sends GOAWAY while a call is in flight; the call still completes; the grace then cuts what is left', async () => {
      const waiting: (() => void)[] = [];
      const blocking: Consumer = { consume: () => new Promise<void>((resolve) => { waiting.push(resolve); }) };
      const r = await startReceiver({ http: undefined, grpc: { endpoint: '127.0.0.1:0', keepalive: { server_parameters: { max_connection_age: '300ms', max_connection_age_grace: '700ms' } } } }, blocking);
      try {
        const session = http2.connect(`http://127.0.0.1:${r.grpcPort}`);
        let goaway = false;
        session.on('goaway', () => { goaway = true; });
        session.on('error', () => {});
        const req = session.request({ ':method': 'POST', ':path': TRACES_PATH, 'content-type': 'application/grpc', te: 'trailers' });
        let status: string | undefined;
        req.on('trailers', (t) => { status = t['grpc-status'] as string; });
        req.on('error', () => {});
        req.resume();
        req.end(frame(valid));
        assert.ok(await until(() => goaway, 2000), 'GOAWAY after max_connection_age');
        assert.equal(waiting.length, 1, 'the call was still in flight');
        waiting.shift()!();
        assert.ok(await until(() => status !== undefined, 2000));
        assert.equal(status, '0', 'the call in flight finished after the GOAWAY');
        // a call held past the grace is cut: it ends without a status, age (270-330 ms) + grace (700 ms) after connecting
        const stuck = http2.connect(`http://127.0.0.1:${r.grpcPort}`);
        stuck.on('error', () => {});
        const t0 = Date.now();
        const call = stuck.request({ ':method': 'POST', ':path': TRACES_PATH, 'content-type': 'application/grpc', te: 'trailers' });
        let stuckStatus: string | undefined;
        call.on('trailers', (t) => { stuckStatus = t['grpc-status'] as string; });
        call.on('error', () => {});
        call.resume();
        const cut = new Promise<number>((res) => call.on('close', () => res(Date.now() - t0)));
        call.end(frame(valid));
        const after = await cut;
        assert.equal(stuckStatus, undefined, 'the held call got no status: it was cut');
        assert.ok(after >= 900 && after < 3000, `cut ${after} ms after connecting`);
        session.destroy();
      } finally {
        for (const w of waiting) w();
        await r.receiver.shutdown();
      }
    });

    it('max_connection_idle closes a connection that has made no call for that long', async () => {
      const r = await startReceiver({ http: undefined, grpc: { endpoint: '127.0.0.1:0', keepalive: { server_parameters: { max_connection_idle: '200ms' } } } });
      try {
        const session = http2.connect(`http://127.0.0.1:${r.grpcPort}`);
        session.on('error', () => {});
        const t0 = Date.now();
        assert.equal((await rawCall(r.grpcPort, [frame(valid)])).grpcStatus, '0');
        let closedAt = 0;
        session.on('close', () => { closedAt = Date.now(); });
        assert.ok(await until(() => closedAt > 0, 2000), 'the idle connection was closed');
        assert.ok(closedAt - t0 >= 150, `closed after ${closedAt - t0} ms`);
      } finally { await r.receiver.shutdown(); }
    });

    it('time/timeout: a client that stops answering PINGs is disconnected', async () => {
      const r = await startReceiver({ http: undefined, grpc: { endpoint: '127.0.0.1:0', keepalive: { server_parameters: { time: '100ms', timeout: '200ms' } } } });
      const proxy = await freezableProxy(r.grpcPort);
      try {
        assert.equal((await rawCall(proxy.port, [frame(valid)])).grpcStatus, '0');
        const live = http2.connect(`http://127.0.0.1:${proxy.port}`);
        live.on('error', () => {});
        await new Promise((res) => live.once('connect', res));
        await new Promise((res) => setTimeout(res, 400));
        assert.ok(!live.destroyed && !live.closed, 'a client that answers PINGs stays connected');
        for (const c of proxy.conns) c.frozen = true;
        assert.ok(await until(() => proxy.conns.every((c) => c.upstream.destroyed), 2000), 'the receiver closed the silent connections');
        live.destroy();
      } finally {
        proxy.close();
        await r.receiver.shutdown();
      }
    });

    it('enforcement_policy: a client that PINGs more often than min_time gets GOAWAY ENHANCE_YOUR_CALM "too_many_pings"', async () => {
      const r = await startReceiver({ http: undefined, grpc: { endpoint: '127.0.0.1:0', keepalive: { enforcement_policy: { min_time: '1s' } } } });
      try {
        const session = http2.connect(`http://127.0.0.1:${r.grpcPort}`);
        session.on('error', () => {});
        const away = new Promise<{ code: number; data: string }>((res) => session.on('goaway', (code, _last, data) => res({ code, data: data?.toString() ?? '' })));
        await new Promise((res) => session.once('connect', res));
        for (let i = 0; i < 5 && !session.destroyed; i++) {
          session.ping(() => {});
          await new Promise((res) => setTimeout(res, 20));
        }
        const g = await away;
        assert.equal(g.code, http2.constants.NGHTTP2_ENHANCE_YOUR_CALM);
        assert.equal(g.data, 'too_many_pings');
        session.destroy();
        // without the policy, the same PINGs are fine
        const lenient = await startReceiver({ http: undefined });
        try {
          const s2 = http2.connect(`http://127.0.0.1:${lenient.grpcPort}`);
          let told = false;
          s2.on('goaway', () => { told = true; });
          await new Promise((res) => s2.once('connect', res));
          for (let i = 0; i < 5; i++) { s2.ping(() => {}); await new Promise((res) => setTimeout(res, 20)); }
          await new Promise((res) => setTimeout(res, 100));
          assert.equal(told, false);
          s2.destroy();
        } finally { await lenient.receiver.shutdown(); }
      } finally { await r.receiver.shutdown(); }
    });
  });

  it('an error message with non-ASCII text reaches the client as it was written', async () => {
    const refusing: Consumer = { consume: () => Promise.reject(new PermanentError('zahlung abgelehnt: ungültige Spanne ✗ 100 %')) };
    const r = await startReceiver({ http: undefined }, refusing);
    try {
      const a = await grpcCall(r.grpcPort, valid);
      assert.equal(a.err?.code, grpc.status.INTERNAL);
      assert.equal(a.err?.details, 'zahlung abgelehnt: ungültige Spanne ✗ 100 %');
    } finally {
      await r.receiver.shutdown();
    }
  });

  it('shutdown lets calls in flight finish, then refuses new ones', async () => {
    const slow = new SlowConsumer(300);
    const r = await startReceiver({ http: undefined }, slow);
    const inFlight = grpcCall(r.grpcPort, valid);
    await new Promise((resolve) => setTimeout(resolve, 100));
    const stopped = r.receiver.shutdown();
    const a = await inFlight;
    await stopped;
    assert.equal(a.err, null);
    assert.equal(slow.sink.events.length, spans.length);
    const after = await grpcCall(r.grpcPort, valid);
    assert.equal(after.err?.code, grpc.status.UNAVAILABLE);
  });
});
