import * as assert from 'node:assert/strict';
import * as http from 'node:http';
import * as http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import * as grpc from '@grpc/grpc-js';
import { isPermanent, type Exporter } from '@tapio/core';
import { conformance, resolveYaml, testBatch, testContext, testEvent, until, validConfig } from '@tapio/core/testing';
import receiverFactory, { encodeRpcStatus } from '@tapio/receiver-otlp';
import { encodeBatch, otlpExporterFactory, otlpHttpExporterFactory, parseRetryAfter } from '../src/index';
import { startDownstream } from './helpers';

const downstream = { grpc: { endpoint: '127.0.0.1:1', tls: { insecure: true } }, http: { endpoint: 'http://127.0.0.1:1' } };
let b: Awaited<ReturnType<typeof startDownstream>>;
before(async () => {
  b = await startDownstream();
  downstream.grpc.endpoint = `127.0.0.1:${b.grpcPort}`;
  downstream.http.endpoint = `http://127.0.0.1:${b.httpPort}`;
});
after(async () => { await b.receiver.shutdown(); });

conformance(otlpExporterFactory, { config: downstream.grpc });
conformance(otlpHttpExporterFactory, { config: downstream.http });

const FAST_RETRY = { initial_interval: '10ms', max_interval: '20ms', max_elapsed_time: '5s' };
/** consume() awaits delivery, so a test sees the outcome of each export directly. */
const NO_QUEUE = { enabled: false };

async function create(factory: typeof otlpExporterFactory | typeof otlpHttpExporterFactory, cfg: Record<string, unknown>): Promise<Exporter> {
  const e = await factory.create(testContext(factory.type, 'exporter'), validConfig(factory, cfg) as never);
  await e.start({} as never);
  return e;
}

/** An HTTP server that answers each request with the next status from `answers`. */
async function scriptedHttp(answers: { status: number; headers?: Record<string, string> }[]): Promise<{ url: string; hits: () => number; close: () => Promise<void> }> {
  let hits = 0;
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const a = answers[Math.min(hits++, answers.length - 1)]!;
      res.writeHead(a.status, a.headers).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    hits: () => hits,
    close: () => new Promise((r) => { server.closeAllConnections(); server.close(() => r()); }),
  };
}

/** A gRPC OTLP trace service that answers each call with the next status. */
async function scriptedGrpc(codes: { code: grpc.status; retryMs?: number }[]): Promise<{ endpoint: string; hits: () => number; close: () => Promise<void> }> {
  let hits = 0;
  const server = new grpc.Server();
  const id = (x: Buffer): Buffer => x;
  server.addService({ Export: { path: '/opentelemetry.proto.collector.trace.v1.TraceService/Export', requestStream: false, responseStream: false, requestSerialize: id, requestDeserialize: id, responseSerialize: id, responseDeserialize: id } }, {
    Export: (_call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) => {
      const c = codes[Math.min(hits++, codes.length - 1)]!;
      if (c.code === grpc.status.OK) { cb(null, Buffer.alloc(0)); return; }
      const metadata = new grpc.Metadata();
      if (c.retryMs !== undefined) metadata.set('grpc-status-details-bin', encodeRpcStatus(c.code, 'busy', c.retryMs));
      cb({ code: c.code, details: 'scripted', metadata });
    },
  });
  const port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))));
  return { endpoint: `127.0.0.1:${port}`, hits: () => hits, close: () => new Promise((r) => server.tryShutdown(() => r())) };
}

describe('otlp exporters', () => {
  beforeEach(() => b.sink.reset());

  it('exports kernel, k8s and network events as OTLP log records with tapio.* attributes', async () => {
    const e = await create(otlpExporterFactory, { ...downstream.grpc, sending_queue: NO_QUEUE });
    const kernel = testEvent('kernel', { severity: 'fatal', entity: { kind: 'pod', name: 'payment-7d8f9', namespace: 'prod' } });
    kernel.kernel = { event: 'oom_kill', pid: 4242, comm: 'payment', cgroupPath: '/kubepods/pod1' };
    kernel.semantic = { intent: 'oom_kill', category: 'resource', tags: ['memory'], narrative: 'payment OOM-killed', confidence: 0.9, suggestedActions: ['raise the memory limit'] };
    await e.consume({ events: [kernel, testEvent('k8s'), testEvent('network')] });
    await e.shutdown();
    assert.equal(b.sink.events.length, 3);
    const got = b.sink.events.find((x) => x.attributes['tapio.kind'] === 'kernel')!;
    assert.equal(got.kind, 'log');
    assert.equal(got.severity, 'fatal');
    assert.equal(got.log!.body, 'payment OOM-killed');
    assert.equal(got.attributes['tapio.kernel.event'], 'oom_kill');
    assert.equal(got.attributes['tapio.kernel.pid'], 4242);
    assert.deepEqual((got.attributes['tapio.semantic'] as Record<string, unknown>).suggestedActions, ['raise the memory limit']);
    assert.equal((got.attributes['tapio.entity'] as Record<string, unknown>).name, 'payment-7d8f9');
    assert.equal(got.resource['k8s.pod.name'], 'payment-7d8f9');
    assert.equal(got.log!.eventName, 'tapio.kernel');
    const k8s = b.sink.events.find((x) => x.attributes['tapio.kind'] === 'k8s')!;
    assert.equal(k8s.attributes['tapio.k8s.reason'], 'BackOff');
    assert.equal(k8s.log!.body, 'Back-off restarting failed container');
  });

  it('an encoded body stays intact until it is released, however many exports are encoded meanwhile', () => {
    const first = encodeBatch(testBatch(20, 'span').events);
    const snapshot = Buffer.from(first[0]!.body);
    const others = Array.from({ length: 20 }, () => encodeBatch(testBatch(30, 'log').events));
    assert.deepEqual(first[0]!.body, snapshot);
    for (const o of others) o.forEach((r) => r.release());
    first[0]!.release();
  });

  for (const [name, factory, cfg] of [['gRPC', otlpExporterFactory, downstream.grpc], ['HTTP', otlpHttpExporterFactory, downstream.http]] as const) {
    it(`${name}: concurrent exports sent from pooled buffers each arrive whole`, async () => {
      const e = await create(factory, { ...cfg, sending_queue: { enabled: true, num_consumers: 4, queue_size: 64 } });
      const batches = Array.from({ length: 24 }, (_, i) => testBatch(10 + i, i % 2 ? 'span' : 'log'));
      batches.forEach((x, i) => x.events.forEach((ev, j) => { ev.attributes = { 'test.batch': i, 'test.item': j }; }));
      await Promise.all(batches.map((x) => e.consume(x)));
      await e.shutdown();
      const sent = batches.flatMap((x) => x.events.map((ev) => `${ev.kind}:${JSON.stringify(ev.attributes)}`)).sort();
      const got = b.sink.events.map((ev) => `${ev.kind}:${JSON.stringify(ev.attributes)}`).sort();
      const missing = sent.filter((k) => !got.includes(k));
      const extra = got.filter((k) => !sent.includes(k));
      assert.deepEqual({ missing, extra, count: got.length }, { missing: [], extra: [], count: sent.length });
    });
  }

  for (const protocol of ['gRPC', 'HTTP'] as const) {
    it(`${protocol}: a refused export is retried with its own bytes, encoded once, while other exports reuse the pool meanwhile`, async () => {
      // The backend refuses the first request it gets and takes every later one; it records each body.
      const bodies: Buffer[] = [];
      let server: http.Server | http2.Http2Server;
      if (protocol === 'gRPC') {
        const s2 = http2.createServer();
        s2.on('stream', (stream) => {
          const chunks: Buffer[] = [];
          stream.on('data', (c: Buffer) => chunks.push(c));
          stream.on('end', () => {
            bodies.push(Buffer.concat(chunks).subarray(5));
            stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
            stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': bodies.length === 1 ? '14' : '0' }));
            stream.end();
          });
        });
        server = s2;
      } else {
        server = http.createServer((req, res) => {
          const chunks: Buffer[] = [];
          req.on('data', (c: Buffer) => chunks.push(c));
          req.on('end', () => {
            bodies.push(Buffer.concat(chunks));
            res.writeHead(bodies.length === 1 ? 503 : 200, { 'content-type': 'application/x-protobuf' }).end();
          });
        });
      }
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      const port = (server.address() as AddressInfo).port;
      const endpoint = protocol === 'gRPC' ? { endpoint: `127.0.0.1:${port}`, tls: { insecure: true } } : { endpoint: `http://127.0.0.1:${port}` };
      const factory = protocol === 'gRPC' ? otlpExporterFactory : otlpHttpExporterFactory;
      const e = await create(factory, { ...endpoint, compression: 'none', retry_on_failure: { initial_interval: '300ms', randomization_factor: 0 }, sending_queue: { enabled: true, num_consumers: 2, queue_size: 64 } });
      const batches = Array.from({ length: 8 }, (_, i) => testBatch(40 + i, 'span'));
      batches.forEach((x, i) => x.events.forEach((ev, j) => { ev.attributes = { 'test.batch': `batch-${i}-of-8`, 'test.item': j }; }));
      try {
        await e.consume(batches[0]!);
        await until(() => bodies.length === 1, 'the first attempt');
        // encoded into pooled buffers while batch 0 waits for its retry
        for (const x of batches.slice(1)) await e.consume(x);
        await until(() => bodies.length === 9, 'every batch to arrive', 10_000);
      } finally { await e.shutdown(); await new Promise((r) => server.close(r)); }
      const refused = bodies[0]!;
      const batchOf = (body: Buffer): number[] => batches.map((_, i) => i).filter((i) => body.includes(`batch-${i}-of-8`));
      assert.deepEqual(batchOf(refused), [0]);
      const retried = bodies.slice(1).filter((x) => batchOf(x).includes(0));
      assert.equal(retried.length, 1);
      assert.ok(retried[0]!.equals(refused), 'the retry sent other bytes than the first attempt');
      assert.deepEqual(bodies.slice(1).map(batchOf).sort((x, y) => x[0]! - y[0]!), batches.map((_, i) => [i]));
    });
  }

  it('a mixed batch is split by signal: spans to traces, points to metrics, the rest to logs', async () => {
    const e = await create(otlpHttpExporterFactory, { ...downstream.http, sending_queue: NO_QUEUE });
    await e.consume({ events: [...testBatch(2, 'span').events, ...testBatch(3, 'metric').events, ...testBatch(4, 'log').events] });
    await e.shutdown();
    const kinds: Record<string, number> = {};
    for (const x of b.sink.events) kinds[x.kind] = (kinds[x.kind] ?? 0) + 1;
    assert.deepEqual(kinds, { span: 2, metric: 3, log: 4 });
    const metric = b.sink.events.find((x) => x.kind === 'metric')!;
    assert.equal(metric.metric!.name, 'process.cpu.utilization');
    assert.equal(metric.metric!.value, 0.5);
  });

  describe('OTLP retry semantics', () => {
    it('HTTP 503 with Retry-After is retried until it succeeds', async () => {
      const s = await scriptedHttp([{ status: 503, headers: { 'Retry-After': '0' } }, { status: 429 }, { status: 200 }]);
      try {
        const e = await create(otlpHttpExporterFactory, { endpoint: s.url, retry_on_failure: FAST_RETRY, sending_queue: NO_QUEUE });
        await e.consume(testBatch(2, 'log'));
        await e.shutdown();
        assert.equal(s.hits(), 3);
      } finally { await s.close(); }
    });

    it('HTTP 400 is permanent: not retried, dropped with a PermanentError', async () => {
      const s = await scriptedHttp([{ status: 400 }]);
      try {
        const e = await create(otlpHttpExporterFactory, { endpoint: s.url, retry_on_failure: FAST_RETRY, sending_queue: NO_QUEUE });
        await assert.rejects(e.consume(testBatch(2, 'log')), (err) => isPermanent(err) && /HTTP 400/.test((err as Error).message));
        await e.shutdown();
        assert.equal(s.hits(), 1);
      } finally { await s.close(); }
    });

    it('gRPC UNAVAILABLE (and RESOURCE_EXHAUSTED with RetryInfo) is retried; INVALID_ARGUMENT is permanent', async () => {
      const s = await scriptedGrpc([{ code: grpc.status.UNAVAILABLE }, { code: grpc.status.RESOURCE_EXHAUSTED, retryMs: 5 }, { code: grpc.status.OK }]);
      try {
        const e = await create(otlpExporterFactory, { endpoint: s.endpoint, tls: { insecure: true }, retry_on_failure: FAST_RETRY, sending_queue: NO_QUEUE });
        await e.consume(testBatch(2, 'span'));
        await e.shutdown();
        assert.equal(s.hits(), 3);
      } finally { await s.close(); }
      const p = await scriptedGrpc([{ code: grpc.status.INVALID_ARGUMENT }]);
      try {
        const e = await create(otlpExporterFactory, { endpoint: p.endpoint, tls: { insecure: true }, retry_on_failure: FAST_RETRY, sending_queue: NO_QUEUE });
        await assert.rejects(e.consume(testBatch(1, 'span')), (err) => isPermanent(err));
        await e.shutdown();
        assert.equal(p.hits(), 1);
      } finally { await p.close(); }
    });

    it('RESOURCE_EXHAUSTED without RetryInfo is permanent', async () => {
      const s = await scriptedGrpc([{ code: grpc.status.RESOURCE_EXHAUSTED }]);
      try {
        const e = await create(otlpExporterFactory, { endpoint: s.endpoint, tls: { insecure: true }, retry_on_failure: FAST_RETRY, sending_queue: NO_QUEUE });
        await assert.rejects(e.consume(testBatch(1, 'span')), (err) => isPermanent(err));
        await e.shutdown();
        assert.equal(s.hits(), 1);
      } finally { await s.close(); }
    });

    it('reads Retry-After as seconds or as an HTTP date', () => {
      assert.equal(parseRetryAfter('7'), 7000);
      const inFuture = parseRetryAfter(new Date(Date.now() + 60_000).toUTCString())!;
      assert.ok(inFuture > 50_000 && inFuture <= 60_000);
      assert.equal(parseRetryAfter('soon'), undefined);
    });
  });

  it('a header name that is not an HTTP token is a config error at its key, not a failure at send time', () => {
    const { config, issues } = resolveYaml(`receivers: { otlp: {} }
exporters:
  otlp:
    headers:
      x-ok: fine
      "x tenant": acme
service: { pipelines: { traces: { receivers: [otlp], exporters: [otlp] } } }
`, [receiverFactory, otlpExporterFactory], 'headers.yaml');
    assert.equal(config, undefined);
    assert.equal(issues.length, 1);
    assert.equal(issues[0]!.path, 'exporters.otlp.headers.x tenant');
    assert.deepEqual(issues[0]!.location, { file: 'headers.yaml', line: 6, col: 7 });
    assert.match(issues[0]!.message, /"x tenant" is not a valid key/);
  });

  it('accepts the OpenTelemetry Collector keepalive sections of the otlp receiver and exporter as written', () => {
    const { config, issues } = resolveYaml(`receivers:
  otlp:
    protocols:
      grpc:
        keepalive:
          server_parameters: { max_connection_idle: 11s, max_connection_age: 12s, max_connection_age_grace: 5s, time: 30s, timeout: 5s }
          enforcement_policy: { min_time: 10s, permit_without_stream: true }
exporters:
  otlp:
    endpoint: collector:4317
    keepalive: { time: 20s, timeout: 4s, permit_without_stream: true }
service: { pipelines: { traces: { receivers: [otlp], exporters: [otlp] } } }
`, [receiverFactory, otlpExporterFactory], 'keepalive.yaml');
    assert.deepEqual(issues, []);
    const exporter = config!.exporters.get('otlp')!.config as { keepalive: unknown };
    assert.deepEqual(exporter.keepalive, { time: '20s', timeout: '4s', permit_without_stream: true });
  });

  it('sends the configured headers', async () => {
    let seen: http.IncomingHttpHeaders = {};
    const server = http.createServer((req, res) => { seen = req.headers; req.resume(); req.on('end', () => res.writeHead(200).end()); });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const e = await create(otlpHttpExporterFactory, { endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, headers: { 'X-Tenant': 'acme' }, sending_queue: NO_QUEUE });
      await e.consume(testBatch(1, 'log'));
      await e.shutdown();
      assert.equal(seen['x-tenant'], 'acme');
      assert.equal(seen['content-encoding'], 'gzip');
      assert.equal(seen['content-type'], 'application/x-protobuf');
    } finally { server.closeAllConnections(); server.close(); }
  });
});
