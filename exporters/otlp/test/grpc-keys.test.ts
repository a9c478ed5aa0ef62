import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { testBatch, testContext, validConfig } from '@tapio/core/testing';
import { GrpcChannel } from '../src/grpc-channel';
import { otlpExporterFactory } from '../src/index';
import { clearProxyEnvironment, connectProxy, restoreEnvironment, exporterIssues, freePort, grpcOkServer, makeCert } from './helpers';

const noQueue = { sending_queue: { enabled: false }, retry_on_failure: { enabled: false } };

describe('otlp (gRPC) exporter: the Collector\'s configgrpc client keys', () => {
  it('authority replaces the :authority the server sees (default: the endpoint host:port)', async () => {
    const s = await grpcOkServer();
    try {
      for (const authority of [undefined, 'backend.example.com']) {
        const e = await otlpExporterFactory.create(testContext('otlp', 'exporter'), validConfig(otlpExporterFactory, { endpoint: `127.0.0.1:${s.port}`, ...(authority ? { authority } : {}), ...noQueue }) as never);
        await e.start({} as never);
        await e.consume(testBatch(1, 'span'));
        await e.shutdown();
      }
      assert.deepEqual(s.calls.map((c) => c.authority), [`127.0.0.1:${s.port}`, 'backend.example.com']);
    } finally { await s.close(); }
  });

  it('wait_for_ready: an export waits for a server that comes up within the timeout; without it the attempt fails at once', async () => {
    const port = await freePort();
    const make = async (wait_for_ready: boolean) => {
      const e = await otlpExporterFactory.create(testContext('otlp', 'exporter'), validConfig(otlpExporterFactory, { endpoint: `127.0.0.1:${port}`, wait_for_ready, timeout: '10s', ...noQueue }) as never);
      await e.start({} as never);
      return e;
    };
    const failFast = await make(false);
    const t0 = Date.now();
    await assert.rejects(failFast.consume(testBatch(1, 'span')), /ECONNREFUSED|UNAVAILABLE/);
    assert.ok(Date.now() - t0 < 2000, 'failed at once');
    await failFast.shutdown();

    const patient = await make(true);
    const sending = patient.consume(testBatch(1, 'span'));
    await new Promise((r) => setTimeout(r, 400)); // a few refused connection attempts
    const s = await grpcOkServer(port);
    try {
      await sending;
      assert.equal(s.calls.length, 1, 'delivered once the server was up');
    } finally { await patient.shutdown(); await s.close(); }
  });

  it('wait_for_ready: with no server until the deadline the attempt fails with DEADLINE_EXCEEDED', async () => {
    const port = await freePort();
    const e = await otlpExporterFactory.create(testContext('otlp', 'exporter'), validConfig(otlpExporterFactory, { endpoint: `127.0.0.1:${port}`, wait_for_ready: true, timeout: '300ms', ...noQueue }) as never);
    await e.start({} as never);
    await assert.rejects(e.consume(testBatch(1, 'span')), /DEADLINE_EXCEEDED/);
    await e.shutdown();
  });

  it('balancer_name round_robin: connections go to every address the name resolves to, calls spread over them', async () => {
    const s = await grpcOkServer(0, '0.0.0.0');
    const ch = new GrpcChannel({
      target: `backends.test:${s.port}`, secure: false, headers: {}, connections: 2, roundRobin: true,
      // the DNS answer for the name: two loopback addresses, as two backends
      lookupAll: async () => [{ address: '127.0.0.1', family: 4 }, { address: '127.0.0.2', family: 4 }],
    });
    try {
      for (let i = 0; i < 4; i++) await ch.unary('/opentelemetry.proto.collector.trace.v1.TraceService/Export', Buffer.alloc(0), 5000, undefined, () => {});
      assert.deepEqual(s.calls.map((c) => c.local).sort(), ['127.0.0.1', '127.0.0.1', '127.0.0.2', '127.0.0.2']);
    } finally { ch.close(); await s.close(); }
  });

  it('HTTPS_PROXY: calls go through the proxy\'s CONNECT tunnel (plain text and TLS inside it), NO_PROXY and loopback connect directly', async function () {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tapio-grpc-proxy-'));
    const pem = makeCert(dir, 'server', 'DNS:otlp.backend.test', 'otlp.backend.test');
    if (!pem) { this.skip(); return; }
    const plain = await grpcOkServer();
    const secure = await grpcOkServer(0, '127.0.0.1', { cert: pem.certPem, key: pem.keyPem });
    const proxy = await connectProxy();
    const saved = clearProxyEnvironment(); // whatever the machine running the tests has set
    process.env.HTTPS_PROXY = `http://127.0.0.1:${proxy.port}`;
    const send = async (cfg: Record<string, unknown>) => {
      const e = await otlpExporterFactory.create(testContext('otlp', 'exporter'), validConfig(otlpExporterFactory, { ...cfg, ...noQueue }) as never);
      await e.start({} as never);
      try { await e.consume(testBatch(1, 'span')); } finally { await e.shutdown(); }
    };
    try {
      // the names do not resolve here: only the proxy (which sends every tunnel to 127.0.0.1) can reach them
      await send({ endpoint: `otlp.backend.test:${plain.port}`, tls: { insecure: true } });
      await send({ endpoint: `https://otlp.backend.test:${secure.port}`, tls: { ca_file: pem.cert } });
      assert.deepEqual(proxy.connects, [`otlp.backend.test:${plain.port}`, `otlp.backend.test:${secure.port}`]);
      assert.equal(plain.calls.length, 1);
      assert.equal(secure.calls.length, 1, 'TLS end to end through the tunnel, the certificate checked for the endpoint name');
      await send({ endpoint: `127.0.0.1:${plain.port}` });
      process.env.NO_PROXY = 'backend.test';
      await assert.rejects(send({ endpoint: `otlp.backend.test:${plain.port}`, tls: { insecure: true } }), /UNAVAILABLE/);
      assert.equal(proxy.connects.length, 2, 'loopback and NO_PROXY names went direct');
      assert.equal(plain.calls.length, 2);
    } finally {
      restoreEnvironment(saved);
      await Promise.all([plain.close(), secure.close(), proxy.close()]);
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('accepts the Collector keys: balancer_name, read/write_buffer_size (each with a no-effect notice); rejects an unknown balancer; keepalive defaults are gRPC-Go\'s', () => {
    const ok = exporterIssues('otlp', 'balancer_name: round_robin\nread_buffer_size: 0\nwrite_buffer_size: 524288\nwait_for_ready: true\nauthority: a.example');
    assert.deepEqual(ok.issues, []);
    assert.equal(ok.notices.filter((n) => /buffer_size.*no effect/.test(n)).length, 2);
    assert.match(exporterIssues('otlp', 'balancer_name: grpclb').issues.join('\n'), /balancer_name.*must be one of/);
    const cfg = validConfig<{ keepalive: Record<string, unknown> }>(otlpExporterFactory, { keepalive: {} });
    assert.deepEqual(cfg.keepalive, { time: '10s', timeout: '20s', permit_without_stream: false });
  });
});

describe('otlp exporters: the exporterhelper keys of older and newer Collector configs', () => {
  it('the pre-0.130 `batcher` section batches: 10 single-span consumes leave as one call', async () => {
    const s = await grpcOkServer();
    try {
      const e = await otlpExporterFactory.create(testContext('otlp', 'exporter'), validConfig(otlpExporterFactory, {
        endpoint: `127.0.0.1:${s.port}`, batcher: { enabled: true, flush_timeout: '200ms', min_size_items: 10 }, ...noQueue,
      }) as never);
      await e.start({} as never);
      await Promise.all(Array.from({ length: 10 }, () => e.consume(testBatch(1, 'span'))));
      await e.shutdown();
      assert.equal(s.calls.length, 1);
    } finally {
      await s.close();
    }
  });

  it('sending_queue rules the schema cannot say are config errors with their paths', () => {
    const { issues } = exporterIssues('otlp', 'sending_queue: { sizer: items, queue_size: 100, batch: { min_size: 500 } }');
    assert.ok(issues.some((i) => i.startsWith('exporters.otlp.sending_queue.batch') && /queue_size/.test(i)), JSON.stringify(issues));
  });
});
