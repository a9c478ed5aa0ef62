// Collector receiver settings beyond the basics: unix sockets, include_metadata, response headers,
// accepted encodings, TLS from inline PEM with cipher suites, certificate reloading, HTTP timeouts.
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tls from 'node:tls';
import * as zlib from 'node:zlib';
import { OTLPTraceExporter as TraceGrpc } from '@opentelemetry/exporter-trace-otlp-grpc';
import { credentials, Metadata } from '@grpc/grpc-js';
import { testBatch } from '@tapio/core/testing';
import factory, { encodeLogs, encodeTraces } from '../src/index';
import { validateConfig } from '../src/config';
import { sdkSpans } from './fixtures';
import { grpcCall, post, sdkExport, startReceiver, type Running } from './helpers';

const TRACES = encodeTraces(testBatch(1, 'span').events);

function makeCert(dir: string, cn: string): { cert: string; key: string } | undefined {
  const cert = path.join(dir, `${cn}.crt`), key = path.join(dir, `${cn}.key`);
  try {
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1',
      '-subj', `/CN=${cn}`, '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1'], { stdio: 'ignore' });
    return { cert, key };
  } catch {
    return undefined;
  }
}

/** The certificate a TLS server presents to a new connection, and the cipher it chose. */
function handshake(port: number, ciphers?: string): Promise<{ cn: string; cipher: string }> {
  return new Promise((resolve, reject) => {
    const s = tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false, maxVersion: 'TLSv1.2', ...(ciphers ? { ciphers } : {}) }, () => {
      const cn = String(s.getPeerCertificate().subject.CN);
      const cipher = s.getCipher().standardName;
      s.end();
      resolve({ cn, cipher });
    });
    s.on('error', reject);
  });
}

describe('otlp receiver: Collector settings', () => {
  let dir: string;
  let running: Running | undefined;
  before(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tapio-otlp-settings-')); });
  afterEach(async () => { await running?.receiver.shutdown(); running = undefined; });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('serves gRPC on a unix socket (transport: unix) to the official SDK exporter', async () => {
    const socket = path.join(dir, 'otlp.sock');
    running = await startReceiver({ grpc: { transport: 'unix', endpoint: socket }, http: undefined });
    const exporter = new TraceGrpc({ url: `unix://${socket}`, credentials: credentials.createInsecure() });
    await sdkExport(exporter, sdkSpans());
    await exporter.shutdown();
    assert.equal(running.sink.events.length, sdkSpans().length);
    assert.ok(fs.statSync(socket).isSocket());
  });

  it('transport tcp4 / tcp6 listen on that family only, as Go\'s net.Listen (a name resolved in it, tcp6 v6-only)', async function () {
    running = await startReceiver({ grpc: { transport: 'tcp4', endpoint: 'localhost:0' }, http: undefined });
    assert.equal(running.receiver.grpc?.address?.family, 'IPv4');
    assert.equal(running.receiver.grpc?.address?.address, '127.0.0.1');
    await running.receiver.shutdown();
    if (!os.networkInterfaces().lo?.some((a) => a.family === 'IPv6')) { running = undefined; this.skip(); return; }
    running = await startReceiver({ grpc: { transport: 'tcp6', endpoint: '[::1]:0' }, http: undefined });
    assert.deepEqual([running.receiver.grpc?.address?.family, running.receiver.grpc?.address?.address], ['IPv6', '::1']);
    await running.receiver.shutdown();
    running = await startReceiver({ grpc: { transport: 'tcp6', endpoint: ':0' }, http: undefined });
    const port = running.grpcPort;
    // v6-only: an IPv4 client is refused even though the any-address is bound
    await assert.rejects(new Promise<void>((resolve, reject) => { const c = net.connect(port, '127.0.0.1', () => { c.destroy(); resolve(); }); c.on('error', reject); }), /ECONNREFUSED/);
    await new Promise<void>((resolve, reject) => { const c = net.connect(port, '::1', () => { c.destroy(); resolve(); }); c.on('error', reject); });
  });

  it('an endpoint with no host (":4317") or 0.0.0.0 listens on every address of both families, as Go does for the Collector (IPv4 and IPv6 clients both get in)', async function () {
    if (!os.networkInterfaces().lo?.some((a) => a.family === 'IPv6')) { this.skip(); return; }
    const connects = (port: number, host: string) => new Promise<void>((resolve, reject) => { const c = net.connect(port, host, () => { c.destroy(); resolve(); }); c.on('error', reject); });
    for (const endpoint of [':0', '0.0.0.0:0']) {
      running = await startReceiver({ grpc: { endpoint }, http: { endpoint } });
      for (const port of [running.grpcPort, running.httpPort]) {
        await connects(port, '127.0.0.1');
        await connects(port, '::1');
      }
      await running.receiver.shutdown();
      running = undefined;
    }
  });

  it('include_metadata passes the request headers on with its events, over gRPC and HTTP; without it, none', async () => {
    running = await startReceiver({ grpc: { endpoint: '127.0.0.1:0', include_metadata: true }, http: { endpoint: '127.0.0.1:0', include_metadata: true } });
    const md = new Metadata();
    md.set('x-tenant', 'acme');
    const exporter = new TraceGrpc({ url: `http://127.0.0.1:${running.grpcPort}`, metadata: md });
    await sdkExport(exporter, sdkSpans());
    await exporter.shutdown();
    const viaHttp = await post(running.httpPort, '/v1/traces', TRACES, { 'Content-Type': 'application/x-protobuf', 'X-Tenant': 'globex' });
    assert.equal(viaHttp.status, 200);
    const tenants = running.sink.batches.map((b) => b.metadata?.['x-tenant']);
    assert.deepEqual(tenants, [['acme'], ['globex']]);
    assert.equal(running.sink.batches[0]!.metadata?.[':path'], undefined, 'HTTP/2 pseudo-headers are not metadata');
    await running.receiver.shutdown();

    running = await startReceiver({ grpc: undefined, http: { endpoint: '127.0.0.1:0' } });
    await post(running.httpPort, '/v1/traces', TRACES, { 'Content-Type': 'application/x-protobuf', 'X-Tenant': 'globex' });
    assert.equal(running.sink.batches[0]!.metadata, undefined);
  });

  it('HTTP: response_headers on every answer; compression_algorithms limits Content-Encoding; zlib is accepted by default', async () => {
    running = await startReceiver({ grpc: undefined, http: { endpoint: '127.0.0.1:0', response_headers: { 'X-Served-By': 'tapio' }, compression_algorithms: ['', 'gzip'] } });
    const pb = { 'Content-Type': 'application/x-protobuf' };
    const gz = await post(running.httpPort, '/v1/traces', zlib.gzipSync(TRACES), { ...pb, 'Content-Encoding': 'gzip' });
    assert.equal(gz.status, 200);
    assert.equal(gz.headers['x-served-by'], 'tapio');
    const deflated = await post(running.httpPort, '/v1/traces', zlib.deflateSync(TRACES), { ...pb, 'Content-Encoding': 'deflate' });
    assert.equal(deflated.status, 415);
    assert.equal(deflated.headers['x-served-by'], 'tapio', 'error answers carry them too');
    assert.match(JSON.stringify(deflated.body.toString('latin1')), /accepted: identity, gzip/);
    assert.equal(running.sink.events.length, 1);
    await running.receiver.shutdown();

    running = await startReceiver({ grpc: undefined, http: { endpoint: '127.0.0.1:0' } });
    const z = await post(running.httpPort, '/v1/traces', zlib.deflateSync(TRACES), { ...pb, 'Content-Encoding': 'zlib' });
    assert.equal(z.status, 200);
    assert.equal(running.sink.events.length, 1);
  });

  it('HTTP: *_url_path without a leading "/" is served at "/" + path, as the Collector sanitizes it', async () => {
    running = await startReceiver({ grpc: undefined, http: { endpoint: '127.0.0.1:0', traces_url_path: 'v1/traces', logs_url_path: 'ingest/logs' } });
    const pb = { 'Content-Type': 'application/x-protobuf' };
    assert.equal((await post(running.httpPort, '/v1/traces', TRACES, pb)).status, 200);
    assert.equal((await post(running.httpPort, '/ingest/logs', encodeLogs(testBatch(1, 'log').events), pb)).status, 200);
    assert.equal((await post(running.httpPort, '/v1/logs', TRACES, pb)).status, 404, 'the default logs path is replaced, not added');
    assert.equal(running.sink.events.length, 2);
  });

  it('TLS from inline PEM with cipher_suites: only the listed suite is negotiated, a client offering another fails', async function () {
    const pem = makeCert(dir, 'inline');
    if (!pem) { this.skip(); return; }
    const t = { cert_pem: fs.readFileSync(pem.cert, 'utf8'), key_pem: fs.readFileSync(pem.key, 'utf8'), cipher_suites: ['TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384'], max_version: '1.2' };
    running = await startReceiver({ grpc: undefined, http: { endpoint: '127.0.0.1:0', tls: t } });
    const ok = await handshake(running.httpPort);
    assert.deepEqual(ok, { cn: 'inline', cipher: 'TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384' });
    await assert.rejects(handshake(running.httpPort, 'ECDHE-RSA-AES128-GCM-SHA256'), /handshake failure|no shared cipher|alert/i);
  });

  it('reload_interval: a new connection gets the certificate that replaced the files', async function () {
    const first = makeCert(dir, 'first');
    const second = first && makeCert(dir, 'second');
    if (!first || !second) { this.skip(); return; }
    const cert = path.join(dir, 'live.crt'), key = path.join(dir, 'live.key');
    fs.copyFileSync(first.cert, cert);
    fs.copyFileSync(first.key, key);
    running = await startReceiver({ grpc: undefined, http: { endpoint: '127.0.0.1:0', tls: { cert_file: cert, key_file: key, reload_interval: '1s' } } });
    assert.equal((await handshake(running.httpPort)).cn, 'first');
    fs.copyFileSync(second.cert, cert);
    fs.copyFileSync(second.key, key);
    const deadline = Date.now() + 10_000;
    let cn = 'first';
    while (cn === 'first' && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 200));
      cn = (await handshake(running.httpPort)).cn;
    }
    assert.equal(cn, 'second');
  });

  it('idle_timeout closes an idle keep-alive connection', async () => {
    running = await startReceiver({ grpc: undefined, http: { endpoint: '127.0.0.1:0', idle_timeout: '300ms' } });
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const closed = await new Promise<number>((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port: running!.httpPort, path: '/v1/traces', method: 'POST', agent, headers: { 'Content-Type': 'application/x-protobuf', 'Content-Length': TRACES.length } }, (res) => {
        res.resume();
        res.on('end', () => {
          const started = Date.now();
          req.socket!.once('close', () => resolve(Date.now() - started));
        });
      });
      req.on('error', reject);
      req.end(TRACES);
    });
    agent.destroy();
    assert.ok(closed < 5000, `closed after ${closed} ms (Node's default would be 65 s)`);
  });

  it('config: a unix endpoint needs transport unix (and back), TLS needs a certificate, cipher names are checked', () => {
    const problems = validateConfig({
      protocols: {
        grpc: { endpoint: '/run/x.sock', max_recv_msg_size_mib: 4, tls: { key_pem: 'k', cipher_suites: ['TLS_RSA_WITH_RC4_128_SHA'] } },
        http: { endpoint: 'localhost:4318', max_request_body_size: 1, traces_url_path: '/', metrics_url_path: '/', logs_url_path: '/', tls: { cert_file: 'c', cert_pem: 'c', key_file: 'k' } },
      },
    });
    assert.deepEqual(problems.map((p) => `${p.path.join('.')}: ${p.message.slice(0, 40)}`), [
      'protocols.grpc.endpoint: a socket path needs transport: unix',
      'protocols.grpc.tls: a TLS server needs its certificate: set ',
      'protocols.grpc.tls.cipher_suites.0: unknown cipher suite "TLS_RSA_WITH_RC4_1',
      'protocols.http.tls.cert_pem: set cert_file or cert_pem, not both',
    ]);
    assert.deepEqual(validateConfig({ protocols: { grpc: { transport: 'unix', endpoint: 'localhost:4317', max_recv_msg_size_mib: 4 } } }).map((p) => p.message),
      ['with transport unix, endpoint must be a socket path (/run/tapio/otlp.sock)']);
    assert.ok(factory.validate);
  });

  it('a raw gRPC call still works with every new setting at its default', async () => {
    running = await startReceiver();
    const { err } = await grpcCall(running.grpcPort, TRACES);
    assert.equal(err, null);
    assert.equal(running.sink.events.length, 1);
  });
});
