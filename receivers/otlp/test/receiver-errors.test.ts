import * as assert from 'node:assert/strict';
import * as http from 'node:http';
import * as net from 'node:net';
import * as zlib from 'node:zlib';
import * as grpc from '@grpc/grpc-js';
import { ProtobufTraceSerializer, JsonTraceSerializer } from '@opentelemetry/otlp-transformer';
import { PermanentError, RetryableError, type Batch, type Consumer } from '@tapio/core';
import { decodeRetryDelayMs, protoToJson, Reader } from '../src/index';
import { sdkSpans } from './fixtures';
import { grpcCall, post, startReceiver, TRACES_PATH, type Running } from './helpers';

const PB = { 'Content-Type': 'application/x-protobuf' };
const JSON_CT = { 'Content-Type': 'application/json' };

/** A google.rpc.Status body: code and message. */
function rpcStatus(b: Buffer): { code: number; message: string } {
  const r = new Reader(b);
  let code = 0, message = '';
  while (r.pos < r.end) {
    const t = r.uint32();
    if (t === 8) code = r.uint32(); else if (t === 18) message = r.string(); else r.skip(t & 7);
  }
  return { code, message };
}

/** An HTTP/1.1 POST whose headers declare `body` but that sends only its first `sent` bytes; the socket stays open. */
function partialPost(port: number, body: Buffer, sent: number): { socket: net.Socket; answer: Promise<string> } {
  const socket = net.connect(port, '127.0.0.1');
  socket.on('error', () => {});
  socket.write(`POST /v1/traces HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-protobuf\r\nContent-Length: ${body.length}\r\n\r\n`);
  socket.write(body.subarray(0, sent));
  let text = '';
  const answer = new Promise<string>((resolve) => {
    socket.on('data', (d) => { text += d.toString('latin1'); if (text.includes('\r\n\r\n')) resolve(text); });
    socket.on('close', () => resolve(text));
  });
  return { socket, answer };
}

class RefusingConsumer implements Consumer {
  constructor(private readonly err: Error) {}
  consume(_b: Batch): Promise<void> { return Promise.reject(this.err); }
}

describe('otlp receiver: bad input and back-pressure', () => {
  const spans = sdkSpans();
  const valid = Buffer.from(ProtobufTraceSerializer.serializeRequest(spans)!);

  describe('malformed requests get the right error and other clients are unaffected', () => {
    let r: Running;
    before(async () => { r = await startReceiver({ http: { endpoint: '127.0.0.1:0', max_request_body_size: '1MiB' }, grpc: { endpoint: '127.0.0.1:0', max_recv_msg_size_mib: 1 } }); });
    after(async () => { await r.receiver.shutdown(); });

    it('HTTP: malformed and truncated protobuf → 400 with a google.rpc.Status body', async () => {
      for (const body of [Buffer.from([0x0a, 0xff, 0xff, 0xff, 0x0f, 0x01]), valid.subarray(0, valid.length - 5)]) {
        const a = await post(r.httpPort, '/v1/traces', body, PB);
        assert.equal(a.status, 400);
        assert.equal(a.headers['content-type'], 'application/x-protobuf');
        const s = rpcStatus(a.body);
        assert.equal(s.code, 3);
        assert.match(s.message, /malformed/);
      }
    });

    it('HTTP: invalid JSON and JSON of the wrong shape → 400 naming the problem', async () => {
      const bad = await post(r.httpPort, '/v1/traces', '{"resourceSpans": [', JSON_CT);
      assert.equal(bad.status, 400);
      assert.match(JSON.parse(bad.body.toString()).message, /invalid JSON/);
      const shape = await post(r.httpPort, '/v1/traces', JSON.stringify({ resourceSpans: [{ scopeSpans: [{ spans: [{ traceId: 'zz' }] }] }] }), JSON_CT);
      assert.equal(shape.status, 400);
      assert.match(JSON.parse(shape.body.toString()).message, /resourceSpans\[0\]\.scopeSpans\[0\]\.spans\[0\]\.traceId: expected a hex string/);
    });

    it('HTTP: wrong content type → 415, unknown path → 404, GET → 405', async () => {
      assert.equal((await post(r.httpPort, '/v1/traces', valid, { 'Content-Type': 'text/plain' })).status, 415);
      assert.equal((await post(r.httpPort, '/v1/nope', valid, PB)).status, 404);
      assert.equal((await post(r.httpPort, '/v1/traces', '', PB, 'GET')).status, 405);
    });

    it('HTTP: a body over max_request_body_size → 413, declared or streamed, while a valid client succeeds', async () => {
      r.sink.reset();
      const declared = await post(r.httpPort, '/v1/traces', Buffer.alloc(2 * 1024 * 1024), PB);
      assert.equal(declared.status, 413);
      // a chunked upload with no Content-Length that keeps going: cut off at the limit
      const streamed = await new Promise<number>((resolve, reject) => {
        const req = http.request({ host: '127.0.0.1', port: r.httpPort, path: '/v1/traces', method: 'POST', headers: PB }, (res) => { res.resume(); resolve(res.statusCode!); });
        req.on('error', reject);
        const chunk = Buffer.alloc(256 * 1024);
        let sent = 0;
        const pump = (): void => {
          while (sent < 100 && req.write(chunk)) sent++;
          if (sent < 100 && !req.destroyed) req.once('drain', () => { sent++; pump(); }); else req.end();
        };
        pump();
      });
      assert.equal(streamed, 413);
      const ok = await post(r.httpPort, '/v1/traces', valid, PB);
      assert.equal(ok.status, 200);
      assert.equal(r.sink.events.length, spans.length);
    });

    it('HTTP: a gzip bomb is cut at the limit with 413 and memory stays bounded', async function () {
      this.timeout(30_000);
      // 256 MiB of zeros compresses to ~250 KiB
      const gz = zlib.createGzip();
      const parts: Buffer[] = [];
      gz.on('data', (c: Buffer) => parts.push(c));
      const zeros = Buffer.alloc(1024 * 1024);
      for (let i = 0; i < 256; i++) gz.write(zeros);
      await new Promise<void>((resolve) => gz.end(resolve));
      const bomb = Buffer.concat(parts);
      assert.ok(bomb.length < 1024 * 1024);
      global.gc?.();
      const before = process.memoryUsage().rss;
      const a = await post(r.httpPort, '/v1/traces', bomb, { ...PB, 'Content-Encoding': 'gzip' });
      const grown = process.memoryUsage().rss - before;
      assert.equal(a.status, 413);
      assert.match(rpcStatus(a.body).message, /decompressed body exceeds/);
      assert.ok(grown < 128 * 1024 * 1024, `RSS grew by ${Math.round(grown / 1048576)} MiB for a 256 MiB bomb`);
      assert.equal((await post(r.httpPort, '/v1/traces', valid, PB)).status, 200);
    });

    it('HTTP: a corrupt gzip body → 400', async () => {
      const a = await post(r.httpPort, '/v1/traces', Buffer.from('not gzip at all'), { ...PB, 'Content-Encoding': 'gzip' });
      assert.equal(a.status, 400);
    });

    it('gRPC: malformed protobuf → INVALID_ARGUMENT; over max_recv_msg_size_mib → RESOURCE_EXHAUSTED; then a valid call succeeds', async () => {
      const bad = await grpcCall(r.grpcPort, valid.subarray(0, valid.length - 3));
      assert.equal(bad.err?.code, grpc.status.INVALID_ARGUMENT);
      const huge = await grpcCall(r.grpcPort, Buffer.alloc(2 * 1024 * 1024));
      assert.equal(huge.err?.code, grpc.status.RESOURCE_EXHAUSTED);
      // a gzip bomb: 64 MiB of zeros is a few KiB on the wire; the limit applies after decompression
      const bomb = await grpcCall(r.grpcPort, Buffer.alloc(64 * 1024 * 1024), TRACES_PATH, true);
      assert.equal(bomb.err?.code, grpc.status.RESOURCE_EXHAUSTED);
      r.sink.reset();
      const ok = await grpcCall(r.grpcPort, valid);
      assert.equal(ok.err, null);
      assert.equal(r.sink.events.length, spans.length);
    });

    it('partial success: invalid spans are rejected and counted in the response, the rest delivered', async () => {
      r.sink.reset();
      const doc = JSON.parse(Buffer.from(JsonTraceSerializer.serializeRequest(spans)!).toString()) as { resourceSpans: { scopeSpans: { spans: { spanId: string }[] }[] }[] };
      doc.resourceSpans[0]!.scopeSpans[0]!.spans[0]!.spanId = '';
      const a = await post(r.httpPort, '/v1/traces', JSON.stringify(doc), JSON_CT);
      assert.equal(a.status, 200);
      const body = JSON.parse(a.body.toString()) as { partialSuccess: { rejectedSpans: string; errorMessage: string } };
      assert.equal(body.partialSuccess.rejectedSpans, '1');
      assert.match(body.partialSuccess.errorMessage, /span_id/);
      assert.equal(r.sink.events.length, spans.length - 1);
      const g = await grpcCall(r.grpcPort, Buffer.from(ProtobufTraceSerializer.serializeRequest(spans)!));
      assert.equal(g.res!.length, 0, 'a fully accepted gRPC export answers an empty response');
    });
  });

  describe('back-pressure and permanent errors from the pipeline', () => {
    it('RetryableError → HTTP 503 with Retry-After and gRPC UNAVAILABLE with RetryInfo', async () => {
      const r = await startReceiver({}, new RefusingConsumer(new RetryableError('queue is full', { retryAfterMs: 3000 })));
      try {
        const a = await post(r.httpPort, '/v1/traces', valid, PB);
        assert.equal(a.status, 503);
        assert.equal(a.headers['retry-after'], '3');
        assert.equal(rpcStatus(a.body).code, 14);
        assert.equal(decodeRetryDelayMs(a.body), 3000);
        const g = await grpcCall(r.grpcPort, valid);
        assert.equal(g.err?.code, grpc.status.UNAVAILABLE);
        const details = g.err!.metadata.get('grpc-status-details-bin')[0] as Buffer;
        assert.equal(decodeRetryDelayMs(details), 3000);
      } finally { await r.receiver.shutdown(); }
    });

    it('admission: past request_limit_mib, requests are refused before decoding (503 / UNAVAILABLE), and admitted again once the pipeline drains', async () => {
      // A pipeline that blocks (a blocking sending queue under an outage) until released.
      const waiting: (() => void)[] = [];
      let consumed = 0;
      const blocking: Consumer = { consume: (b) => new Promise<void>((resolve) => { consumed += b.events.length; waiting.push(resolve); }) };
      const r = await startReceiver({}, blocking, { admission: { request_limit_mib: (valid.length * 1.5) / 1048576 } });
      try {
        const first = post(r.httpPort, '/v1/traces', valid, PB); // admitted; waits on the pipeline
        while (waiting.length === 0) await new Promise((res) => setTimeout(res, 5));
        assert.equal(r.receiver.handler.inflight, valid.length);
        const refusedHttp = await post(r.httpPort, '/v1/traces', valid, PB);
        assert.equal(refusedHttp.status, 503);
        assert.equal(refusedHttp.headers['retry-after'], '1');
        assert.match(rpcStatus(refusedHttp.body).message, /admission\.request_limit_mib/);
        const refusedGrpc = await grpcCall(r.grpcPort, valid);
        assert.equal(refusedGrpc.err?.code, grpc.status.UNAVAILABLE);
        assert.equal(consumed, spans.length, 'refused requests were not decoded into the pipeline');
        waiting.shift()!();
        assert.equal((await first).status, 200);
        assert.equal(r.receiver.handler.inflight, 0);
        const again = post(r.httpPort, '/v1/traces', valid, PB);
        while (waiting.length === 0) await new Promise((res) => setTimeout(res, 5));
        waiting.shift()!();
        assert.equal((await again).status, 200);
      } finally {
        for (const w of waiting) w();
        await r.receiver.shutdown();
      }
    });

    it('HTTP admission reads only Content-Length: past the limit a request is answered 503 before its body is sent; a client that vanishes mid-body gives its reservation back', async () => {
      const waiting: (() => void)[] = [];
      const blocking: Consumer = { consume: () => new Promise<void>((resolve) => { waiting.push(resolve); }) };
      const big = Buffer.from(ProtobufTraceSerializer.serializeRequest(Array.from({ length: 40 }, () => sdkSpans()).flat())!);
      const r = await startReceiver({ grpc: undefined }, blocking, { admission: { request_limit_mib: (big.length * 1.5) / 1048576 } });
      const until = async (cond: () => boolean, what: string): Promise<void> => {
        for (let i = 0; i < 400 && !cond(); i++) await new Promise((res) => setTimeout(res, 5));
        assert.ok(cond(), what);
      };
      try {
        // reserved from the headers; given back when the client goes away without its body
        const gone = partialPost(r.httpPort, big, 1000);
        await until(() => r.receiver.handler.inflight === big.length, 'Content-Length reserved on arrival');
        gone.socket.destroy();
        await until(() => r.receiver.handler.inflight === 0, 'the vanished client\'s reservation was given back');
        const first = post(r.httpPort, '/v1/traces', big, PB); // admitted; waits on the blocked pipeline
        await until(() => waiting.length === 1, 'the first request reached the pipeline');
        const refused = partialPost(r.httpPort, big, 1000); // and never the rest
        const head = await Promise.race([refused.answer, new Promise<string>((res) => setTimeout(() => res('no answer'), 2000))]);
        assert.match(head, /^HTTP\/1\.1 503 /);
        assert.match(head, /\r\nretry-after: 1\r\n/i);
        assert.match(head, /\r\nconnection: close\r\n/i);
        refused.socket.destroy();
        assert.equal(r.receiver.handler.inflight, big.length, 'only the admitted request holds a reservation');
        waiting.shift()!();
        assert.equal((await first).status, 200);
        assert.equal(r.receiver.handler.inflight, 0);
      } finally {
        for (const w of waiting) w();
        await r.receiver.shutdown();
      }
    });

    it('PermanentError → HTTP 500 and gRPC INTERNAL, as the Collector (server-side, not retried); malformed input stays 400 / INVALID_ARGUMENT', async () => {
      const r = await startReceiver({}, new RefusingConsumer(new PermanentError('rejected by policy')));
      try {
        const a = await post(r.httpPort, '/v1/traces', valid, PB);
        assert.equal(a.status, 500);
        assert.deepEqual(rpcStatus(a.body), { code: grpc.status.INTERNAL, message: 'rejected by policy' });
        const j = await post(r.httpPort, '/v1/traces', Buffer.from(JsonTraceSerializer.serializeRequest(spans)!), JSON_CT);
        assert.equal(j.status, 500);
        assert.deepEqual(JSON.parse(j.body.toString()), { code: grpc.status.INTERNAL, message: 'rejected by policy' });
        const g = await grpcCall(r.grpcPort, valid);
        assert.equal(g.err?.code, grpc.status.INTERNAL);
        assert.equal(g.err?.details, 'rejected by policy');
        assert.equal((await post(r.httpPort, '/v1/traces', valid.subarray(0, valid.length - 5), PB)).status, 400);
        assert.equal((await grpcCall(r.grpcPort, valid.subarray(0, valid.length - 5))).err?.code, grpc.status.INVALID_ARGUMENT);
      } finally { await r.receiver.shutdown(); }
    });
  });

  describe('CORS and protocol selection', () => {
    it('answers a preflight from an allowed origin and refuses others', async () => {
      const r = await startReceiver({ grpc: undefined, http: { endpoint: '127.0.0.1:0', cors: { allowed_origins: ['https://*.shop.example'], allowed_headers: ['X-Tenant'] } } });
      try {
        const ok = await post(r.httpPort, '/v1/traces', '', { Origin: 'https://web.shop.example', 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'content-type,x-tenant' }, 'OPTIONS');
        assert.equal(ok.status, 204);
        assert.equal(ok.headers['access-control-allow-origin'], 'https://web.shop.example');
        assert.match(String(ok.headers['access-control-allow-headers']), /x-tenant/);
        const no = await post(r.httpPort, '/v1/traces', '', { Origin: 'https://evil.example', 'Access-Control-Request-Method': 'POST' }, 'OPTIONS');
        assert.equal(no.status, 403);
        assert.equal(no.headers['access-control-allow-origin'], undefined);
        const sent = await post(r.httpPort, '/v1/traces', valid, { ...PB, Origin: 'https://web.shop.example' });
        assert.equal(sent.status, 200);
        assert.equal(sent.headers['access-control-allow-origin'], 'https://web.shop.example');
      } finally { await r.receiver.shutdown(); }
    });

    it('runs only the protocols that are configured', async () => {
      const r = await startReceiver({ grpc: undefined });
      try {
        assert.equal(r.receiver.grpc, undefined);
        assert.ok(r.httpPort > 0);
      } finally { await r.receiver.shutdown(); }
    });

    it('a JSON request gets a JSON answer; an empty export is a plain success', async () => {
      const r = await startReceiver({ grpc: undefined });
      try {
        const a = await post(r.httpPort, '/v1/logs', '{}', JSON_CT);
        assert.equal(a.status, 200);
        assert.deepEqual(JSON.parse(a.body.toString()), {});
        assert.deepEqual(protoToJson('ExportLogsServiceResponse', Buffer.alloc(0)), {});
      } finally { await r.receiver.shutdown(); }
    });
  });
});
