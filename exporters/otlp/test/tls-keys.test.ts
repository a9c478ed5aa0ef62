import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as http2 from 'node:http2';
import * as https from 'node:https';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tls from 'node:tls';
import { testBatch, testContext, validConfig } from '@tapio/core/testing';
import { otlpExporterFactory, otlpHttpExporterFactory } from '../src/index';
import { clientTlsOptions } from '@tapio/core';
import { exporterIssues, makeCert } from './helpers';

type Pem = NonNullable<ReturnType<typeof makeCert>>;

/** An HTTPS server answering 200, recording the SNI name, cipher and client certificate of each request. */
async function httpsServer(options: https.ServerOptions): Promise<{ port: number; seen: { sni: unknown; cipher: string; clientCn?: string }[]; close(): Promise<void> }> {
  const seen: { sni: unknown; cipher: string; clientCn?: string }[] = [];
  const srv = https.createServer(options, (req, res) => {
    const s = req.socket as tls.TLSSocket;
    const peer = s.getPeerCertificate();
    seen.push({ sni: (s as { servername?: unknown }).servername, cipher: s.getCipher().standardName, clientCn: peer?.subject?.CN === undefined ? undefined : String(peer.subject.CN) });
    req.resume(); req.on('end', () => res.writeHead(200).end());
  });
  srv.on('tlsClientError', () => {});
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  return { port: (srv.address() as AddressInfo).port, seen, close: () => new Promise((r) => { srv.closeAllConnections(); srv.close(() => r()); }) };
}

const noQueue = { sending_queue: { enabled: false }, retry_on_failure: { enabled: false } };

async function send(factory: typeof otlpHttpExporterFactory | typeof otlpExporterFactory, endpoint: string, tlsCfg: Record<string, unknown>, kind: 'log' | 'span' = 'log'): Promise<void> {
  const e = await factory.create(testContext(factory.type, 'exporter'), validConfig(factory, { endpoint, tls: tlsCfg, ...noQueue }) as never);
  await e.start({} as never);
  try { await e.consume(testBatch(1, kind)); } finally { await e.shutdown(); }
}

describe('otlp exporters: the Collector\'s configtls client keys', () => {
  let dir: string;
  let backend: Pem | undefined; // valid for backend.example.com only
  let other: Pem | undefined;
  let client: Pem | undefined;

  before(function () {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tapio-otlp-tlskeys-'));
    backend = makeCert(dir, 'backend', 'DNS:backend.example.com', 'backend.example.com');
    other = makeCert(dir, 'other', 'DNS:localhost,IP:127.0.0.1');
    client = makeCert(dir, 'client', 'DNS:exporter.example.com', 'exporter-a');
    if (!backend || !other || !client) this.skip();
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('server_name_override: the server sees it as the SNI name and the certificate is checked against it (otlphttp), ca_pem as inline PEM', async () => {
    const s = await httpsServer({ cert: backend!.certPem, key: backend!.keyPem });
    try {
      await assert.rejects(send(otlpHttpExporterFactory, `https://127.0.0.1:${s.port}`, { ca_pem: backend!.certPem }), /IP: 127.0.0.1 is not in the cert's list|altnames|certificate/);
      await send(otlpHttpExporterFactory, `https://127.0.0.1:${s.port}`, { ca_pem: backend!.certPem, server_name_override: 'backend.example.com' });
      assert.deepEqual(s.seen.map((x) => x.sni), ['backend.example.com']);
    } finally { await s.close(); }
  });

  it('server_name_override on the gRPC exporter: SNI, certificate name and, as in gRPC-Go, the :authority (an explicit authority wins)', async () => {
    const srv = http2.createSecureServer({ cert: backend!.certPem, key: backend!.keyPem });
    const seen: { sni: unknown; authority: unknown }[] = [];
    srv.on('stream', (stream, headers) => {
      seen.push({ sni: (stream.session?.socket as tls.TLSSocket | undefined as { servername?: unknown } | undefined)?.servername, authority: headers[':authority'] });
      stream.resume();
      stream.on('end', () => { stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true }); stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' })); stream.end(); });
    });
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    const port = (srv.address() as AddressInfo).port;
    try {
      await send(otlpExporterFactory, `https://127.0.0.1:${port}`, { ca_file: backend!.cert, server_name_override: 'backend.example.com' }, 'span');
      const e = await otlpExporterFactory.create(testContext('otlp', 'exporter'), validConfig(otlpExporterFactory, {
        endpoint: `https://127.0.0.1:${port}`, authority: 'tenant-a.backend.example.com', tls: { ca_file: backend!.cert, server_name_override: 'backend.example.com' }, ...noQueue,
      }) as never);
      await e.start({} as never);
      await e.consume(testBatch(1, 'span'));
      await e.shutdown();
      assert.deepEqual(seen, [{ sni: 'backend.example.com', authority: 'backend.example.com' }, { sni: 'backend.example.com', authority: 'tenant-a.backend.example.com' }]);
    } finally { await new Promise((r) => srv.close(r)); }
  });

  it('cert_pem / key_pem: the client certificate given inline is the one the server sees (mTLS)', async () => {
    const s = await httpsServer({ cert: other!.certPem, key: other!.keyPem, ca: client!.certPem, requestCert: true, rejectUnauthorized: true });
    try {
      await send(otlpHttpExporterFactory, `https://localhost:${s.port}`, { ca_file: other!.cert, cert_pem: client!.certPem, key_pem: client!.keyPem });
      assert.equal(s.seen[0]!.clientCn, 'exporter-a');
    } finally { await s.close(); }
    assert.match(exporterIssues('otlphttp', `tls: { cert_file: /a.crt, cert_pem: "x", key_file: /a.key }`).issues.join('\n'), /either cert_file or cert_pem/);
    assert.match(exporterIssues('otlphttp', `tls: { cert_pem: "x" }`).issues.join('\n'), /needs its key/);
  });

  it('include_system_ca_certs_pool: Node\'s root store is trusted as well as ca_file, and ca_file still works', async () => {
    const o = clientTlsOptions({ ca_file: other!.cert, include_system_ca_certs_pool: true });
    assert.equal((o.ca as unknown[]).length, tls.rootCertificates.length + 1);
    assert.equal(clientTlsOptions({ ca_file: other!.cert }).ca instanceof Buffer, true, 'without it only ca_file is trusted');
    const s = await httpsServer({ cert: other!.certPem, key: other!.keyPem });
    try {
      await send(otlpHttpExporterFactory, `https://localhost:${s.port}`, { ca_file: other!.cert, include_system_ca_certs_pool: true });
      assert.equal(s.seen.length, 1);
    } finally { await s.close(); }
  });

  it('cipher_suites (Go/IANA names): the suite negotiated is the one offered; a suite the server lacks fails; an unknown name is a config error listing the valid ones', async () => {
    const s = await httpsServer({ cert: other!.certPem, key: other!.keyPem, maxVersion: 'TLSv1.2', ciphers: 'ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-AES128-GCM-SHA256' });
    try {
      const base = { ca_file: other!.cert, max_version: '1.2' };
      await send(otlpHttpExporterFactory, `https://localhost:${s.port}`, { ...base, cipher_suites: ['TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256'] });
      await send(otlpHttpExporterFactory, `https://localhost:${s.port}`, { ...base, cipher_suites: ['TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384'] });
      assert.deepEqual(s.seen.map((x) => x.cipher), ['TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256', 'TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384']);
      await assert.rejects(send(otlpHttpExporterFactory, `https://localhost:${s.port}`, { ...base, cipher_suites: ['TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256'] }), /handshake|cipher|alert/i);
    } finally { await s.close(); }
    assert.match(exporterIssues('otlp', 'tls: { cipher_suites: [TLS_RSA_WITH_RC4_128_SHA] }').issues.join('\n'), /must be one of: .*"TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"/);
  });

  it('curve_preferences: a server that only has P-384 refuses an exporter offering P256 only, and takes one offering P384', async () => {
    const s = await httpsServer({ cert: other!.certPem, key: other!.keyPem, ecdhCurve: 'secp384r1' });
    try {
      await assert.rejects(send(otlpHttpExporterFactory, `https://localhost:${s.port}`, { ca_file: other!.cert, curve_preferences: ['P256'] }), /handshake|alert|group|curve/i);
      await send(otlpHttpExporterFactory, `https://localhost:${s.port}`, { ca_file: other!.cert, curve_preferences: ['P384', 'X25519'] });
      assert.equal(s.seen.length, 1);
    } finally { await s.close(); }
  });

  it('reload_interval: a CA file replaced on disk is used by the next connection once the interval passed; without it the old one stays', async () => {
    const s = await httpsServer({ cert: other!.certPem, key: other!.keyPem });
    const caFile = path.join(dir, 'rotating-ca.crt');
    try {
      for (const reload_interval of ['200ms', undefined]) {
        fs.writeFileSync(caFile, backend!.certPem); // the wrong CA
        const e = await otlpHttpExporterFactory.create(testContext('otlphttp', 'exporter'), validConfig(otlpHttpExporterFactory, {
          endpoint: `https://localhost:${s.port}`, tls: { ca_file: caFile, ...(reload_interval ? { reload_interval } : {}) }, ...noQueue,
        }) as never);
        await e.start({} as never);
        try {
          await assert.rejects(e.consume(testBatch(1, 'log')), /certificate/);
          fs.writeFileSync(caFile, other!.certPem); // rotated to the right one
          await new Promise((r) => setTimeout(r, 300));
          if (reload_interval) await e.consume(testBatch(1, 'log'));
          else await assert.rejects(e.consume(testBatch(1, 'log')), /certificate/);
        } finally { await e.shutdown(); }
      }
      assert.equal(s.seen.length, 1);
    } finally { await s.close(); }
  });
});
