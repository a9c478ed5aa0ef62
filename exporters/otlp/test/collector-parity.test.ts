import * as assert from 'node:assert/strict';
import * as http from 'node:http';
import * as http2 from 'node:http2';
import * as net from 'node:net';
import { testBatch, testContext, validConfig } from '@tapio/core/testing';
import type { Batch, Exporter } from '@tapio/core';
import { otlpExporterFactory, otlpHttpExporterFactory } from '../src/index';
import { exporterIssues, grpcOkServer } from './helpers';

const FAST_RETRY = { initial_interval: '10ms', max_interval: '10ms', randomization_factor: 0 };

async function exporter(factory: typeof otlpHttpExporterFactory | typeof otlpExporterFactory, cfg: Record<string, unknown>): Promise<Exporter> {
  const e = await factory.create(testContext(factory.type, 'exporter'), validConfig(factory, { sending_queue: { enabled: false }, ...cfg }) as never);
  await e.start({} as never);
  return e;
}

/** Two spans and three log records in one batch, as an `events` pipeline hands them over. */
const mixed = (): Batch => ({ events: [...testBatch(2, 'span').events, ...testBatch(3, 'log').events] });

interface Seen { method: string; url: string; headers: http.IncomingHttpHeaders; body: Buffer }

/** An HTTP server that answers each request with `answer(request, its number for that path)`. */
async function backend(answer: (seen: Seen, nth: number, res: http.ServerResponse) => void): Promise<{ url: string; host: string; seen: Seen[]; close(): Promise<void> }> {
  const seen: Seen[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const s = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks) };
      seen.push(s);
      answer(s, seen.filter((x) => x.url === s.url).length, res);
    });
  });
  const sockets = new Set<net.Socket>();
  server.on('connection', (c) => { sockets.add(c); c.on('close', () => sockets.delete(c)); });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const host = `127.0.0.1:${(server.address() as net.AddressInfo).port}`;
  return { url: `http://${host}`, host, seen, close: () => new Promise((r) => { for (const c of sockets) c.destroy(); server.close(() => r()); }) };
}

const count = (seen: Seen[], url: string): number => seen.filter((s) => s.url === url).length;

describe('otlp exporters: delivery as the Collector does it', () => {
  it('otlphttp: a mixed batch whose logs are refused twice sends its spans once (each signal is retried on its own)', async () => {
    const b = await backend((s, nth, res) => res.writeHead(s.url === '/v1/logs' && nth <= 2 ? 503 : 200).end());
    const e = await exporter(otlpHttpExporterFactory, { endpoint: b.url, retry_on_failure: FAST_RETRY });
    try {
      await e.consume(mixed());
      assert.equal(count(b.seen, '/v1/traces'), 1, 'the spans went once');
      assert.equal(count(b.seen, '/v1/logs'), 3, 'the logs were retried until accepted');
    } finally { await e.shutdown(); await b.close(); }
  });

  it('otlp (gRPC): the same with UNAVAILABLE for the logs', async () => {
    const calls: string[] = [];
    const server = http2.createServer();
    server.on('stream', (stream, headers) => {
      const path = String(headers[':path']);
      calls.push(path);
      stream.on('data', () => {});
      stream.on('end', () => {
        const refuse = path.includes('LogsService') && calls.filter((p) => p === path).length <= 2;
        stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
        stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': refuse ? '14' : '0' }));
        stream.end();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const e = await exporter(otlpExporterFactory, { endpoint: `127.0.0.1:${(server.address() as net.AddressInfo).port}`, tls: { insecure: true }, retry_on_failure: FAST_RETRY });
    try {
      await e.consume(mixed());
      assert.equal(calls.filter((p) => p.includes('TraceService')).length, 1);
      assert.equal(calls.filter((p) => p.includes('LogsService')).length, 3);
    } finally { await e.shutdown(); await new Promise((r) => server.close(r)); }
  });

  it('otlphttp: a 2xx answer whose body is not OTLP (a proxy\'s "OK", garbage labelled protobuf) is a delivery, not a drop', async () => {
    for (const [type, body] of [['text/plain', 'OK'], ['application/x-protobuf', '\xff\xff\xff'], ['application/json', 'not json']] as const) {
      const b = await backend((_s, _n, res) => res.writeHead(200, { 'content-type': type }).end(body));
      const e = await exporter(otlpHttpExporterFactory, { endpoint: b.url, retry_on_failure: { enabled: false } });
      try {
        await e.consume(testBatch(2, 'log'));
        assert.equal(b.seen.length, 1, `${type}: sent once, not retried`);
      } finally { await e.shutdown(); await b.close(); }
    }
  });

  it('otlphttp: timeout bounds the whole request, not only the pauses between bytes', async () => {
    // answers at once, then sends its body a byte every 200 ms for 3 s: never idle for a second
    const b = await backend((_s, _n, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      let left = 15;
      const drip = setInterval(() => { res.write('.'); if (--left === 0) { clearInterval(drip); res.end(); } }, 200);
      res.on('close', () => clearInterval(drip));
    });
    const e = await exporter(otlpHttpExporterFactory, { endpoint: b.url, timeout: '1s', retry_on_failure: { enabled: false } });
    try {
      await assert.rejects(e.consume(testBatch(1, 'log')), /timed out after 1000 ms/);
    } finally { await e.shutdown(); await b.close(); }
  });

  it('otlphttp: follows 307 / 308 with the same POST body; credentials go along only to the same host', async () => {
    const target = await backend((_s, _n, res) => res.writeHead(200).end());
    const origin = await backend((s, _n, res) => {
      if (s.url === '/v1/logs') res.writeHead(307, { location: '/moved/logs' }).end();
      else if (s.url === '/moved/logs') res.writeHead(308, { location: `${target.url}/v1/logs` }).end();
      else res.writeHead(404).end();
    });
    const e = await exporter(otlpHttpExporterFactory, { endpoint: origin.url, headers: { authorization: 'Bearer secret', 'x-tenant': 'acme' }, retry_on_failure: { enabled: false } });
    try {
      await e.consume(testBatch(3, 'log'));
      const [first, moved] = origin.seen;
      const last = target.seen[0]!;
      assert.deepEqual([first!.url, moved!.url, last.url], ['/v1/logs', '/moved/logs', '/v1/logs']);
      assert.equal(last.method, 'POST');
      assert.ok(last.body.length > 0 && last.body.equals(first!.body), 'the same body at every hop');
      assert.equal(moved!.headers.authorization, 'Bearer secret', 'same host: kept');
      assert.equal(last.headers.authorization, undefined, 'another host: dropped, as Go does');
      assert.equal(last.headers['x-tenant'], 'acme');
    } finally { await e.shutdown(); await origin.close(); await target.close(); }
  });

  it('otlp (gRPC): takes gRPC\'s dns:///host:port name; a unix socket target is a config error, not a failure at every export', async () => {
    const s = await grpcOkServer();
    const e = await exporter(otlpExporterFactory, { endpoint: `dns:///127.0.0.1:${s.port}`, tls: { insecure: true }, retry_on_failure: { enabled: false } });
    try {
      await e.consume(testBatch(1, 'log'));
      assert.equal(s.calls.length, 1);
    } finally { await e.shutdown(); await s.close(); }
    assert.match(exporterIssues('otlp', 'endpoint: unix:///run/otel.sock').issues.join('\n'), /exporters\.otlp\.endpoint.*not a gRPC endpoint.*unix sockets are not supported/);
    assert.deepEqual(exporterIssues('otlp', 'endpoint: dns:///collector.monitoring:4317').issues, []);
  });
});
