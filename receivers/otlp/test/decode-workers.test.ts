import * as assert from 'node:assert/strict';
import * as zlib from 'node:zlib';
import * as grpc from '@grpc/grpc-js';
import { OTLPTraceExporter as TraceGrpc } from '@opentelemetry/exporter-trace-otlp-grpc';
import { OTLPTraceExporter as TraceProto } from '@opentelemetry/exporter-trace-otlp-proto';
import { JsonTraceSerializer, ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { TO_PLAIN, type MaybeLazyEvent, type UnifiedEvent } from '@tapio/core';
import { buildTraces, decodeTraces, indexTraces } from '../src/codec/decode';
import { SinkConsumer, testContext } from '@tapio/core/testing';
import { DecodePool, DecodeWorkerError, ExportHandler, jsonToProto, MalformedError } from '../src/index';
import { sdkSpans } from './fixtures';
import { asOtlp, grpcCall, post, sdkExport, startReceiver, type Running } from './helpers';
import { normalize, parseJson } from './normalize';

const PB = { 'Content-Type': 'application/x-protobuf' };

/** An event as plain data without its (per-decode) id. */
function plain(e: UnifiedEvent): Record<string, unknown> {
  const p = JSON.parse(JSON.stringify((e as MaybeLazyEvent)[TO_PLAIN]?.() ?? e)) as Record<string, unknown>;
  delete p.id;
  return p;
}

/** A trace request whose first span has a 4-byte span id (rejected: partial success). */
function requestWithBadSpan(): Buffer {
  const doc = JSON.parse(Buffer.from(JsonTraceSerializer.serializeRequest(sdkSpans())!).toString()) as { resourceSpans: { scopeSpans: { spans: { spanId: string }[] }[] }[] };
  doc.resourceSpans[0]!.scopeSpans[0]!.spans[0]!.spanId = 'abcd0123';
  return jsonToProto('ExportTraceServiceRequest', doc);
}

describe('decode workers (decode_workers)', () => {
  describe('checking in one place and building in another gives the same events', () => {
    it('indexTraces + buildTraces = decodeTraces, rejected spans and their message included', () => {
      for (const buf of [Buffer.from(ProtobufTraceSerializer.serializeRequest(sdkSpans())!), requestWithBadSpan()]) {
        const direct = decodeTraces(buf, 'otlp', 42);
        const index = indexTraces(buf);
        const built = buildTraces(buf, index, 'otlp', 42);
        assert.deepEqual(built.events.map(plain), direct.events.map(plain));
        assert.equal(built.rejected, direct.rejected);
        assert.equal(built.errorMessage, direct.errorMessage);
      }
      assert.equal(decodeTraces(requestWithBadSpan(), 'otlp', 1).rejected, 1);
    });

    it('a malformed request fails the check', () => {
      const valid = Buffer.from(ProtobufTraceSerializer.serializeRequest(sdkSpans())!);
      assert.throws(() => indexTraces(valid.subarray(0, valid.length - 3)), MalformedError);
    });
  });

  describe('when a worker fails or the pool closes, requests fail retryably', () => {
    it('a request whose worker dies mid-decode is rejected with DecodeWorkerError, and the next one succeeds', async () => {
      const ctx = testContext('otlp', 'receiver');
      const pool = DecodePool.create(1, ctx.logger)!;
      try {
        const one = ProtobufTraceSerializer.serializeRequest(sdkSpans())!;
        const big = Buffer.concat(Array.from({ length: 20000 }, () => Buffer.from(one))); // ~100 ms of checking
        const pending = pool.decodeTraces(big, false, 'otlp', 1);
        void pool.workers[0]!.terminate();
        await assert.rejects(pending, DecodeWorkerError);
        const ok = await pool.decodeTraces(Buffer.from(one), false, 'otlp', 1);
        assert.equal(ok.events.length, sdkSpans().length);
      } finally {
        await pool.close();
      }
    });

    it('workers that keep dying before serving anything are given up on: the receiver decodes on the main thread', async () => {
      const ctx = testContext('otlp', 'receiver');
      const pool = DecodePool.create(1, ctx.logger)!;
      const sink = new SinkConsumer();
      const handler = new ExportHandler(ctx, sink, Infinity, pool);
      try {
        for (let i = 0; i < 3; i++) {
          const w = pool.workers[0]!;
          await w.terminate();
          while (pool.workers[0] === w && pool.usable) await new Promise((r) => setTimeout(r, 5));
        }
        assert.equal(pool.usable, false);
        const outcome = await handler.export('traces', Buffer.from(ProtobufTraceSerializer.serializeRequest(sdkSpans())!));
        assert.equal(outcome.status, 'ok');
        assert.equal(sink.events.length, sdkSpans().length);
      } finally {
        await pool.close();
      }
    });

    it('the receiver answers such a request as unavailable (503 / UNAVAILABLE), not as an internal error', async () => {
      const ctx = testContext('otlp', 'receiver');
      const pool = DecodePool.create(1, ctx.logger)!;
      const sink = new SinkConsumer();
      const handler = new ExportHandler(ctx, sink, Infinity, pool);
      await pool.close();
      const outcome = await handler.export('traces', Buffer.from(ProtobufTraceSerializer.serializeRequest(sdkSpans())!));
      assert.equal(outcome.status, 'unavailable');
      assert.equal(sink.events.length, 0);
      assert.equal(handler.inflight, 0);
    });
  });

  describe('a receiver with two decode workers', () => {
    let r: Running;
    const pool = (): DecodePool => r.receiver.pool!;
    before(async () => { r = await startReceiver({}, undefined, { decode_workers: 2 }); });
    after(async () => { await r.receiver.shutdown(); });
    beforeEach(() => r.sink.reset());

    it('runs the workers', () => {
      assert.equal(pool().workers.length, 2);
    });

    for (const t of ['grpc', 'http/protobuf'] as const) {
      it(`${t}: SDK traces arrive with every field intact`, async () => {
        const spans = sdkSpans();
        const exporter = t === 'grpc' ? new TraceGrpc({ url: `http://127.0.0.1:${r.grpcPort}` }) : new TraceProto({ url: `http://127.0.0.1:${r.httpPort}/v1/traces` });
        await sdkExport(exporter, spans);
        await exporter.shutdown();
        assert.equal(r.sink.events.length, spans.length);
        assert.deepEqual(asOtlp('traces', r.sink.events), normalize(parseJson(JsonTraceSerializer.serializeRequest(spans)!)));
      });
    }

    it('gzip and JSON bodies (buffers the receiver moves to the worker) arrive intact', async () => {
      const spans = sdkSpans();
      const reference = normalize(parseJson(JsonTraceSerializer.serializeRequest(spans)!));
      const pb = Buffer.from(ProtobufTraceSerializer.serializeRequest(spans)!);
      assert.equal((await post(r.httpPort, '/v1/traces', zlib.gzipSync(pb), { ...PB, 'Content-Encoding': 'gzip' })).status, 200);
      assert.deepEqual(asOtlp('traces', r.sink.events), reference);
      r.sink.reset();
      assert.equal((await post(r.httpPort, '/v1/traces', Buffer.from(JsonTraceSerializer.serializeRequest(spans)!), { 'Content-Type': 'application/json' })).status, 200);
      assert.deepEqual(asOtlp('traces', r.sink.events), reference);
    });

    it('many concurrent requests of both protocols: every span arrives once, with its own request\'s data', async () => {
      const bodies = Array.from({ length: 40 }, (_, i) => {
        const spans = sdkSpans();
        for (const s of spans) (s as unknown as { name: string }).name = `request-${i}`;
        return Buffer.from(ProtobufTraceSerializer.serializeRequest(spans)!);
      });
      const perRequest = sdkSpans().length;
      const answers = await Promise.all(bodies.map((b, i) => (i % 2 ? grpcCall(r.grpcPort, b).then((x) => (x.err ? 500 : 200)) : post(r.httpPort, '/v1/traces', b, PB).then((a) => a.status))));
      assert.deepEqual(answers, bodies.map(() => 200));
      const byName = new Map<string, number>();
      for (const e of r.sink.events) byName.set(e.span!.name, (byName.get(e.span!.name) ?? 0) + 1);
      assert.equal(byName.size, 40);
      assert.ok([...byName.values()].every((n) => n === perRequest));
    });

    it('malformed → HTTP 400 and gRPC INVALID_ARGUMENT; bad span ids → partial success; other requests unaffected', async () => {
      const valid = Buffer.from(ProtobufTraceSerializer.serializeRequest(sdkSpans())!);
      const [bad, badGrpc, ok] = await Promise.all([
        post(r.httpPort, '/v1/traces', valid.subarray(0, valid.length - 5), PB),
        grpcCall(r.grpcPort, valid.subarray(0, valid.length - 3)),
        post(r.httpPort, '/v1/traces', valid, PB),
      ]);
      assert.equal(bad.status, 400);
      assert.equal(badGrpc.err?.code, grpc.status.INVALID_ARGUMENT);
      assert.equal(ok.status, 200);
      assert.equal(r.sink.events.length, sdkSpans().length);
      const partial = await grpcCall(r.grpcPort, requestWithBadSpan());
      assert.equal(partial.err, null);
      assert.ok(partial.res!.length > 0, 'the answer carries partial_success');
      assert.equal(r.sink.events.length, 2 * sdkSpans().length - 1);
    });

    it('a worker that dies is replaced, and requests keep succeeding', async () => {
      const before = pool().workers[0]!;
      await before.terminate();
      await new Promise((resolve) => setTimeout(resolve, 50));
      assert.notEqual(pool().workers[0], before);
      const valid = Buffer.from(ProtobufTraceSerializer.serializeRequest(sdkSpans())!);
      const answers = await Promise.all([0, 1, 2, 3].map(() => post(r.httpPort, '/v1/traces', valid, PB)));
      assert.deepEqual(answers.map((a) => a.status), [200, 200, 200, 200]);
      assert.equal(r.sink.events.length, 4 * sdkSpans().length);
    });
  });
});
