import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { SinkConsumer, testBatch, testContext, validConfig } from '@tapio/core/testing';
import receiverFactory, { type OtlpReceiver } from '@tapio/receiver-otlp';
import { otlpExporterFactory, otlpHttpExporterFactory } from '../src/index';

/** A self-signed certificate for localhost/127.0.0.1, made with the openssl CLI. */
function makeCert(dir: string): { cert: string; key: string } | undefined {
  const cert = path.join(dir, 'cert.pem');
  const key = path.join(dir, 'key.pem');
  try {
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1',
      '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1'], { stdio: 'ignore' });
    return { cert, key };
  } catch {
    return undefined;
  }
}

describe('otlp over TLS: receiver with a certificate, exporters trusting its CA', () => {
  let dir: string;
  let pem: { cert: string; key: string } | undefined;
  let receiver: OtlpReceiver;
  const sink = new SinkConsumer();

  before(async function () {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tapio-otlp-tls-'));
    pem = makeCert(dir);
    if (!pem) { this.skip(); return; }
    const tls = { cert_file: pem.cert, key_file: pem.key };
    const cfg = validConfig(receiverFactory, { protocols: { grpc: { endpoint: '127.0.0.1:0', tls }, http: { endpoint: '127.0.0.1:0', tls } } });
    receiver = (await receiverFactory.create(testContext('otlp', 'receiver'), cfg as never, sink)) as OtlpReceiver;
    await receiver.start();
  });
  after(async () => {
    await receiver?.shutdown();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  beforeEach(() => sink.reset());

  it('otlp (gRPC) delivers over TLS when given the CA', async () => {
    const e = await otlpExporterFactory.create(testContext('otlp', 'exporter'), validConfig(otlpExporterFactory, {
      endpoint: `https://localhost:${receiver.grpc!.port}`, tls: { ca_file: pem!.cert }, sending_queue: { enabled: false },
    }) as never);
    await e.start({} as never);
    await e.consume(testBatch(3, 'span'));
    await e.shutdown();
    assert.equal(sink.events.length, 3);
  });

  it('otlp (gRPC) fails the certificate check without the CA, and skips it with insecure_skip_verify', async () => {
    const make = async (tls: Record<string, unknown>) => {
      const e = await otlpExporterFactory.create(testContext('otlp', 'exporter'), validConfig(otlpExporterFactory, {
        endpoint: `https://localhost:${receiver.grpc!.port}`, tls, sending_queue: { enabled: false }, retry_on_failure: { enabled: false },
      }) as never);
      await e.start({} as never);
      return e;
    };
    const untrusted = await make({});
    await assert.rejects(untrusted.consume(testBatch(1, 'span')), /certificate/);
    await untrusted.shutdown();
    assert.equal(sink.events.length, 0);
    const skipping = await make({ insecure_skip_verify: true });
    await skipping.consume(testBatch(2, 'span'));
    await skipping.shutdown();
    assert.equal(sink.events.length, 2);
  });

  it('mTLS: a receiver with client_ca_file takes the gRPC exporter that presents its certificate, and refuses one that does not', async () => {
    const tls = { cert_file: pem!.cert, key_file: pem!.key, client_ca_file: pem!.cert };
    const cfg = validConfig(receiverFactory, { protocols: { grpc: { endpoint: '127.0.0.1:0', tls } } });
    const strict = (await receiverFactory.create(testContext('otlp/mtls', 'receiver'), cfg as never, sink)) as OtlpReceiver;
    await strict.start();
    try {
      const make = async (client: Record<string, unknown>) => {
        const e = await otlpExporterFactory.create(testContext('otlp', 'exporter'), validConfig(otlpExporterFactory, {
          endpoint: `https://localhost:${strict.grpc!.port}`, tls: { ca_file: pem!.cert, ...client }, sending_queue: { enabled: false }, retry_on_failure: { enabled: false },
        }) as never);
        await e.start({} as never);
        return e;
      };
      const anonymous = await make({});
      await assert.rejects(anonymous.consume(testBatch(1, 'span')), /certificate required/);
      await anonymous.shutdown();
      assert.equal(sink.events.length, 0);
      const known = await make({ cert_file: pem!.cert, key_file: pem!.key });
      await known.consume(testBatch(3, 'span'));
      await known.shutdown();
      assert.equal(sink.events.length, 3);
    } finally { await strict.shutdown(); }
  });

  it('min_version / max_version: a receiver that wants TLS 1.3 refuses exporters capped at 1.2 (both protocols) and takes the others', async () => {
    const tls = { cert_file: pem!.cert, key_file: pem!.key, min_version: '1.3' };
    const cfg = validConfig(receiverFactory, { protocols: { grpc: { endpoint: '127.0.0.1:0', tls }, http: { endpoint: '127.0.0.1:0', tls } } });
    const modern = (await receiverFactory.create(testContext('otlp/tls13', 'receiver'), cfg as never, sink)) as OtlpReceiver;
    await modern.start();
    try {
      for (const [factory, endpoint, kind] of [
        [otlpExporterFactory, `https://localhost:${modern.grpc!.port}`, 'span'],
        [otlpHttpExporterFactory, `https://localhost:${modern.http!.port}`, 'log'],
      ] as const) {
        const make = async (maxVersion: string) => {
          const e = await factory.create(testContext(factory.type, 'exporter'), validConfig(factory, {
            endpoint, tls: { ca_file: pem!.cert, max_version: maxVersion }, sending_queue: { enabled: false }, retry_on_failure: { enabled: false },
          }) as never);
          await e.start({} as never);
          return e;
        };
        const old = await make('1.2');
        await assert.rejects(old.consume(testBatch(1, kind)), /protocol version|version/i);
        await old.shutdown();
        const current = await make('1.3');
        const before = sink.events.length;
        await current.consume(testBatch(2, kind));
        await current.shutdown();
        assert.equal(sink.events.length, before + 2, `${factory.type} over TLS 1.3`);
      }
    } finally { await modern.shutdown(); }
  });

  it('otlphttp delivers over HTTPS when given the CA, and fails the certificate check without it', async () => {
    const ok = await otlpHttpExporterFactory.create(testContext('otlphttp', 'exporter'), validConfig(otlpHttpExporterFactory, {
      endpoint: `https://localhost:${receiver.http!.port}`, tls: { ca_file: pem!.cert }, sending_queue: { enabled: false },
    }) as never);
    await ok.start({} as never);
    await ok.consume(testBatch(2, 'log'));
    await ok.shutdown();
    assert.equal(sink.events.length, 2);
    const untrusted = await otlpHttpExporterFactory.create(testContext('otlphttp', 'exporter'), validConfig(otlpHttpExporterFactory, {
      endpoint: `https://localhost:${receiver.http!.port}`, sending_queue: { enabled: false }, retry_on_failure: { enabled: false },
    }) as never);
    await untrusted.start({} as never);
    await assert.rejects(untrusted.consume(testBatch(1, 'log')), /certificate/);
    await untrusted.shutdown();
    assert.equal(sink.events.length, 2);
  });
});
