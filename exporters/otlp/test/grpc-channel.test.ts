import * as assert from 'node:assert/strict';
import * as http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import * as zlib from 'node:zlib';
import * as grpc from '@grpc/grpc-js';
import { isPermanent } from '@tapio/core';
import { freezableProxy, testBatch, testContext, validConfig } from '@tapio/core/testing';
import { encodePartialSuccess, GRPC_STATUS, loadZstd, snappyFramed } from '@tapio/receiver-otlp';
import { GrpcCallError, GrpcChannel } from '../src/grpc-channel';
import { otlpExporterFactory } from '../src/index';

const TRACES = '/opentelemetry.proto.collector.trace.v1.TraceService/Export';
const id = (x: Buffer): Buffer => x;

/** A grpc-js OTLP trace service whose handler the test supplies (the reference gRPC implementation as the peer). */
async function grpcJsServer(handler: (call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) => void, port = 0): Promise<{ port: number; close: () => Promise<void> }> {
  const server = new grpc.Server();
  server.addService({ Export: { path: TRACES, requestStream: false, responseStream: false, requestSerialize: id, requestDeserialize: id, responseSerialize: id, responseDeserialize: id } }, { Export: handler });
  const bound = await new Promise<number>((resolve, reject) => server.bindAsync(`127.0.0.1:${port}`, grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))));
  return { port: bound, close: () => new Promise((r) => server.tryShutdown(() => r())) };
}

/** A bare HTTP/2 server answering every stream with `respond` (for answers grpc-js would never give). */
async function rawHttp2(respond: (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders) => void): Promise<{ port: number; close: () => Promise<void> }> {
  const server = http2.createServer();
  const sessions = new Set<http2.ServerHttp2Session>();
  server.on('session', (s) => { sessions.add(s); s.on('close', () => sessions.delete(s)); });
  server.on('stream', (stream, headers) => { stream.on('error', () => {}); stream.resume(); stream.on('end', () => respond(stream, headers)); });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { port: (server.address() as AddressInfo).port, close: () => new Promise((r) => { for (const s of sessions) s.destroy(); server.close(() => r()); }) };
}

const GZIP = { encoding: 'gzip', compress: (b: Buffer) => new Promise<Buffer>((res, rej) => zlib.gzip(b, (e, out) => (e ? rej(e) : res(out)))) };

function channel(port: number, o: { gzip?: boolean; headers?: Record<string, string> } = {}): GrpcChannel {
  return new GrpcChannel({ target: `127.0.0.1:${port}`, secure: false, headers: o.headers ?? {}, compressor: o.gzip ? GZIP : undefined, connections: 2 });
}

async function callError(p: Promise<unknown>): Promise<GrpcCallError> {
  try { await p; } catch (err) { assert.ok(err instanceof GrpcCallError, `expected a GrpcCallError, got ${String(err)}`); return err; }
  assert.fail('the call succeeded');
}

describe('otlp exporter: gRPC over node:http2 (GrpcChannel)', () => {
  it('sends the message (plain and gzip) with metadata to a grpc-js server and returns its answer; the body is handed back once', async () => {
    const seen: { body: string; tenant: unknown }[] = [];
    const s = await grpcJsServer((call, cb) => { seen.push({ body: call.request.toString(), tenant: call.metadata.get('x-tenant')[0] }); cb(null, Buffer.from('ok:' + call.request.toString())); });
    try {
      for (const gzip of [false, true]) {
        const ch = channel(s.port, { gzip, headers: { 'x-tenant': 'acme' } });
        let released = 0;
        const answer = await ch.unary(TRACES, Buffer.from('hello'.repeat(1000)), 5000, undefined, () => released++);
        assert.equal(answer.toString(), 'ok:' + 'hello'.repeat(1000));
        assert.equal(released, 1);
        ch.close();
      }
      assert.deepEqual(seen.map((x) => x.tenant), ['acme', 'acme']);
      assert.ok(seen.every((x) => x.body === 'hello'.repeat(1000)));
    } finally { await s.close(); }
  });

  it('reads responses the server compressed with any encoding it advertises (gzip, deflate, zstd, snappy)', async () => {
    const answer = Buffer.from('partial-success '.repeat(200));
    const zstd = await loadZstd();
    const encoders: Record<string, (b: Buffer) => Buffer> = { gzip: zlib.gzipSync, deflate: zlib.deflateSync, zstd: (b) => zstd.compress(b), snappy: snappyFramed };
    let advertised = '';
    const s = await rawHttp2((stream, headers) => {
      advertised = String(headers['grpc-accept-encoding']);
      const encoding = String(headers['x-want']);
      const body = encoders[encoding]!(answer);
      const prefix = Buffer.alloc(5); prefix[0] = 1; prefix.writeUInt32BE(body.length, 1);
      stream.respond({ ':status': 200, 'content-type': 'application/grpc', 'grpc-encoding': encoding }, { waitForTrailers: true });
      stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
      stream.end(Buffer.concat([prefix, body]));
    });
    try {
      for (const encoding of Object.keys(encoders)) {
        const ch = channel(s.port, { headers: { 'x-want': encoding } });
        assert.ok((await ch.unary(TRACES, Buffer.from('x'), 5000, undefined, () => {})).equals(answer), encoding);
        ch.close();
      }
      assert.equal(advertised, 'identity,gzip,deflate,zstd,snappy');
    } finally { await s.close(); }
  });

  it('carries the status, message and RetryInfo details of a failed call', async () => {
    const s = await grpcJsServer((_call, cb) => {
      const metadata = new grpc.Metadata();
      metadata.set('grpc-status-details-bin', Buffer.from([8, 14]));
      cb({ code: grpc.status.UNAVAILABLE, details: 'busy: 50 % full', metadata });
    });
    try {
      const ch = channel(s.port);
      const err = await callError(ch.unary(TRACES, Buffer.from('x'), 5000, undefined, () => {}));
      assert.equal(err.code, GRPC_STATUS.UNAVAILABLE);
      assert.equal(err.details, 'busy: 50 % full');
      assert.deepEqual([...err.statusDetails!], [8, 14]);
      ch.close();
    } finally { await s.close(); }
  });

  it('a call past its deadline fails with DEADLINE_EXCEEDED; an aborted one with CANCELLED', async () => {
    // a bare server that never answers and ignores grpc-timeout: only the client's own timer ends the call
    let timeoutHeader: unknown;
    const s = await rawHttp2((_stream, headers) => { timeoutHeader ??= headers['grpc-timeout']; });
    try {
      const ch = channel(s.port);
      const t0 = Date.now();
      assert.equal((await callError(ch.unary(TRACES, Buffer.from('x'), 150, undefined, () => {}))).code, GRPC_STATUS.DEADLINE_EXCEEDED);
      assert.ok(Date.now() - t0 < 2000, 'the deadline ended the call');
      // what is left of the 150 ms when the request leaves (a busy machine takes a few ms before)
      const toldMs = /^(\d+)m$/.exec(String(timeoutHeader))?.[1];
      assert.ok(toldMs !== undefined && Number(toldMs) <= 150 && Number(toldMs) >= 50, `the server is told the deadline (grpc-timeout ${String(timeoutHeader)})`);
      const abort = new AbortController();
      setTimeout(() => abort.abort(), 50);
      assert.equal((await callError(ch.unary(TRACES, Buffer.from('x'), 0, abort.signal, () => {}))).code, GRPC_STATUS.CANCELLED);
      ch.close();
    } finally { await s.close(); }
  });

  it('maps answers without grpc-status from their HTTP status, and a refused stream to UNAVAILABLE', async () => {
    let answer = 503;
    const s = await rawHttp2((stream) => {
      if (answer === 0) { stream.close(http2.constants.NGHTTP2_REFUSED_STREAM); return; }
      stream.respond({ ':status': answer }); stream.end();
    });
    try {
      const ch = channel(s.port);
      assert.equal((await callError(ch.unary(TRACES, Buffer.from('x'), 5000, undefined, () => {}))).code, GRPC_STATUS.UNAVAILABLE);
      answer = 404;
      assert.equal((await callError(ch.unary(TRACES, Buffer.from('x'), 5000, undefined, () => {}))).code, GRPC_STATUS.UNIMPLEMENTED);
      answer = 0;
      assert.equal((await callError(ch.unary(TRACES, Buffer.from('x'), 5000, undefined, () => {}))).code, GRPC_STATUS.UNAVAILABLE);
      ch.close();
    } finally { await s.close(); }
  });

  it('a refused connection is UNAVAILABLE; after the server comes back the channel reconnects', async () => {
    const s = await grpcJsServer((_c, cb) => cb(null, Buffer.alloc(0)));
    const port = s.port;
    await s.close();
    const ch = channel(port);
    let released = 0;
    assert.equal((await callError(ch.unary(TRACES, Buffer.from('x'), 2000, undefined, () => released++))).code, GRPC_STATUS.UNAVAILABLE);
    assert.equal(released, 1, 'the body is handed back when the call fails before it was sent');
    const again = await grpcJsServer((_c, cb) => cb(null, Buffer.from('back')), port);
    try {
      // both connections were dropped and come back on their next use
      for (let i = 0; i < 2; i++) assert.equal((await ch.unary(TRACES, Buffer.from('x'), 2000, undefined, () => {})).toString(), 'back');
      ch.close();
    } finally { await again.close(); }
  });

  it('a connection whose peer went silent (TCP open, nothing answered) is dropped after a missed deadline; the next call reconnects', async () => {
    const s = await grpcJsServer((_c, cb) => cb(null, Buffer.from('alive')));
    const proxy = await freezableProxy(s.port);
    const conns = proxy.conns;
    const ch = new GrpcChannel({ target: `127.0.0.1:${proxy.port}`, secure: false, headers: {}, connections: 1 });
    try {
      assert.equal((await ch.unary(TRACES, Buffer.from('x'), 1000, undefined, () => {})).toString(), 'alive');
      for (const c of conns) c.frozen = true;
      assert.equal((await callError(ch.unary(TRACES, Buffer.from('x'), 200, undefined, () => {}))).code, GRPC_STATUS.DEADLINE_EXCEEDED);
      // the PING gets no answer either; after PING_TIMEOUT_MS the connection is dropped
      await new Promise((r) => setTimeout(r, 2300));
      assert.ok(conns[0]!.client.destroyed, 'the silent connection was closed');
      // new connections through the proxy work again
      assert.equal((await ch.unary(TRACES, Buffer.from('x'), 1000, undefined, () => {})).toString(), 'alive');
      assert.equal(conns.length, 2);
    } finally {
      ch.close();
      proxy.close();
      await s.close();
    }
  });

  it('keepalive: PINGs find a silent connection with no call in flight (permit_without_stream); without it an idle connection is left alone', async () => {
    const s = await grpcJsServer((_c, cb) => cb(null, Buffer.from('alive')));
    const proxy = await freezableProxy(s.port);
    const channels = [true, false].map((withoutCalls) => new GrpcChannel({
      target: `127.0.0.1:${proxy.port}`, secure: false, headers: {}, connections: 1, keepalive: { timeMs: 100, timeoutMs: 200, withoutCalls },
    }));
    try {
      for (const ch of channels) assert.equal((await ch.unary(TRACES, Buffer.from('x'), 1000, undefined, () => {})).toString(), 'alive');
      assert.equal(proxy.conns.length, 2);
      for (const c of proxy.conns) c.frozen = true;
      await new Promise((r) => setTimeout(r, 800));
      assert.ok(proxy.conns[0]!.client.destroyed, 'the PINGed connection was found dead and closed');
      assert.ok(!proxy.conns[1]!.client.destroyed, 'no PING without a call in flight');
    } finally {
      for (const ch of channels) ch.close();
      proxy.close();
      await s.close();
    }
  });

  it('the exporter counts what the server rejected in a partial success, and classifies failures for the retry helper', async () => {
    const s = await grpcJsServer((_c, cb) => cb(null, encodePartialSuccess(3, 'three spans had bad ids')));
    const dropped: [number, string][] = [];
    try {
      const ctx = testContext('otlp', 'exporter');
      ctx.telemetry.dropped = (n: number, reason: string) => { dropped.push([n, reason]); };
      const e = await otlpExporterFactory.create(ctx, validConfig(otlpExporterFactory, { endpoint: `127.0.0.1:${s.port}`, sending_queue: { enabled: false } }) as never);
      await e.start({} as never);
      await e.consume(testBatch(5, 'span'));
      await e.shutdown();
      assert.deepEqual(dropped, [[3, 'rejected_by_server']]);
    } finally { await s.close(); }
    // trailers-only UNAVAILABLE, then OK: retried; HTTP 404 (UNIMPLEMENTED): permanent, sent once
    let hits = 0;
    const refusedOnce = await rawHttp2((stream) => {
      const status = hits++ === 0 ? '14' : '0';
      stream.respond({ ':status': 200, 'content-type': 'application/grpc', 'grpc-status': status, 'grpc-message': 'full' }, { endStream: true });
    });
    let notFoundHits = 0;
    const notFound = await rawHttp2((stream) => { notFoundHits++; stream.respond({ ':status': 404 }); stream.end(); });
    try {
      const config = (port: number): never => validConfig(otlpExporterFactory, {
        endpoint: `127.0.0.1:${port}`, sending_queue: { enabled: false }, retry_on_failure: { initial_interval: '10ms', max_interval: '20ms', max_elapsed_time: '5s' },
      }) as never;
      const retried = await otlpExporterFactory.create(testContext('otlp', 'exporter'), config(refusedOnce.port));
      await retried.start({} as never);
      await retried.consume(testBatch(1, 'span'));
      await retried.shutdown();
      assert.equal(hits, 2);
      const permanent = await otlpExporterFactory.create(testContext('otlp', 'exporter'), config(notFound.port));
      await permanent.start({} as never);
      await assert.rejects(permanent.consume(testBatch(1, 'span')), (err) => isPermanent(err));
      await permanent.shutdown();
      assert.equal(notFoundHits, 1);
    } finally { await refusedOnce.close(); await notFound.close(); }
  });
});
