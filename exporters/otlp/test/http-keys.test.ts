import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { testBatch, testContext, validConfig } from '@tapio/core/testing';
import { otlpHttpExporterFactory } from '../src/index';
import { clearProxyEnvironment, connectProxy, restoreEnvironment, exporterIssues, makeCert } from './helpers';
import { proxyFromEnvironment } from '../src/proxy-env';

type Seen = { url: string; headers: http.IncomingHttpHeaders; socket: number };

/** An HTTP server answering 200 after `delayMs`, recording each request, the socket it came on, and how many were in flight at most. */
async function server(o: { delayMs?: number; setCookie?: string } = {}, make: (h: http.RequestListener) => net.Server = (h) => http.createServer(h)): Promise<{ port: number; seen: Seen[]; maxInFlight: () => number; openSockets: () => number; srv: net.Server; close(): Promise<void> }> {
  const seen: Seen[] = [];
  const sockets = new Map<net.Socket, number>();
  let inFlight = 0;
  let max = 0;
  const srv = make((req, res) => {
    const socket = sockets.get(req.socket) ?? sockets.set(req.socket, sockets.size + 1).get(req.socket)!;
    inFlight++; max = Math.max(max, inFlight);
    req.resume();
    req.on('end', () => setTimeout(() => {
      inFlight--;
      seen.push({ url: req.url ?? '', headers: req.headers, socket });
      if (o.setCookie) res.setHeader('Set-Cookie', o.setCookie);
      res.writeHead(200).end();
    }, o.delayMs ?? 0));
  });
  const open = new Set<net.Socket>();
  srv.on('connection', (s: net.Socket) => { open.add(s); s.on('close', () => open.delete(s)); });
  srv.on('secureConnection', (s: net.Socket) => { open.add(s); s.on('close', () => open.delete(s)); });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  return {
    port: (srv.address() as net.AddressInfo).port, seen, srv, maxInFlight: () => max, openSockets: () => open.size,
    close: () => new Promise((r) => { for (const s of open) s.destroy(); srv.close(() => r()); }),
  };
}

const noQueue = { sending_queue: { enabled: false }, retry_on_failure: { enabled: false } };

async function exporter(cfg: Record<string, unknown>) {
  const e = await otlpHttpExporterFactory.create(testContext('otlphttp', 'exporter'), validConfig(otlpHttpExporterFactory, { ...cfg, ...noQueue }) as never);
  await e.start({} as never);
  return e;
}

describe('otlphttp exporter: the Collector\'s confighttp client keys', () => {
  it('timeout defaults to 30s, as confighttp', () => {
    assert.equal(validConfig<{ timeout: string }>(otlpHttpExporterFactory, {}).timeout, '30s');
  });

  it('max_conns_per_host caps the connections (and so the requests in flight); the default is num_connections (1)', async () => {
    for (const [extra, cap] of [[{}, 1], [{ max_conns_per_host: 3 }, 3]] as const) {
      const s = await server({ delayMs: 80 });
      const e = await exporter({ endpoint: `http://127.0.0.1:${s.port}`, ...extra });
      try {
        await Promise.all(Array.from({ length: 8 }, () => e.consume(testBatch(1, 'log'))));
        assert.equal(s.seen.length, 8);
        assert.equal(s.maxInFlight(), cap, `at most ${cap} in flight`);
        assert.equal(new Set(s.seen.map((x) => x.socket)).size, cap, `${cap} connection(s) used`);
      } finally { await e.shutdown(); await s.close(); }
    }
  });

  it('disable_keep_alives: each request says Connection: close and gets its own connection', async () => {
    const s = await server();
    const e = await exporter({ endpoint: `http://127.0.0.1:${s.port}`, disable_keep_alives: true });
    try {
      for (let i = 0; i < 3; i++) await e.consume(testBatch(1, 'log'));
      assert.deepEqual(s.seen.map((x) => x.headers.connection), ['close', 'close', 'close']);
      assert.equal(new Set(s.seen.map((x) => x.socket)).size, 3);
    } finally { await e.shutdown(); await s.close(); }
  });

  it('idle_conn_timeout closes a connection left idle that long; with the default (90s) it stays open', async () => {
    for (const [idle, open] of [['150ms', 0], [undefined, 1]] as const) {
      const s = await server();
      const e = await exporter({ endpoint: `http://127.0.0.1:${s.port}`, ...(idle ? { idle_conn_timeout: idle } : {}) });
      try {
        await e.consume(testBatch(1, 'log'));
        await new Promise((r) => setTimeout(r, 600));
        assert.equal(s.openSockets(), open, `idle_conn_timeout ${idle ?? 'default'}`);
      } finally { await e.shutdown(); await s.close(); }
    }
  });

  it('cookies.enabled: a cookie the server set is sent back on later requests (and not without it)', async () => {
    for (const enabled of [true, false]) {
      const s = await server({ setCookie: 'lb=backend-2; Path=/; HttpOnly' });
      const e = await exporter({ endpoint: `http://127.0.0.1:${s.port}`, cookies: { enabled } });
      try {
        await e.consume(testBatch(1, 'log'));
        await e.consume(testBatch(1, 'log'));
        assert.deepEqual(s.seen.map((x) => x.headers.cookie), [undefined, enabled ? 'lb=backend-2' : undefined]);
      } finally { await e.shutdown(); await s.close(); }
    }
  });

  it('proxy_url, http endpoint: the request goes to the proxy in absolute-form, with Proxy-Authorization from the URL', async () => {
    const proxy = await server(); // stands in for the proxy: answers itself
    const e = await exporter({ endpoint: 'http://otlp.backend.test:4318', proxy_url: `http://user:p%40ss@127.0.0.1:${proxy.port}` });
    try {
      await e.consume(testBatch(1, 'log'));
      assert.equal(proxy.seen[0]!.url, 'http://otlp.backend.test:4318/v1/logs');
      assert.equal(proxy.seen[0]!.headers.host, 'otlp.backend.test:4318');
      assert.equal(proxy.seen[0]!.headers['proxy-authorization'], `Basic ${Buffer.from('user:p@ss').toString('base64')}`);
    } finally { await e.shutdown(); await proxy.close(); }
  });

  it('proxy_url, https endpoint: a CONNECT tunnel to the target, TLS end to end through it', async function () {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tapio-otlp-proxy-'));
    const pem = makeCert(dir, 'server', 'DNS:localhost,IP:127.0.0.1');
    if (!pem) { this.skip(); return; }
    const target = await server({}, (h) => https.createServer({ cert: pem.certPem, key: pem.keyPem }, h));
    const proxy = await connectProxy();
    const e = await exporter({ endpoint: `https://localhost:${target.port}`, tls: { ca_file: pem.cert }, proxy_url: `http://127.0.0.1:${proxy.port}` });
    try {
      await e.consume(testBatch(2, 'log'));
      assert.deepEqual(proxy.connects, [`localhost:${target.port}`]);
      assert.equal(target.seen.length, 1, 'the target got the request through the tunnel');
    } finally {
      await e.shutdown(); await target.close();
      await proxy.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('an https:// proxy (proxy_url or HTTPS_PROXY): TLS to the proxy, checked with the exporter\'s CA; https targets tunnel through it, http ones go in absolute-form over that TLS', async function () {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tapio-otlp-tlsproxy-'));
    // the proxy's certificate names localhost and 127.0.0.1, the target's only otlp.backend.test
    const proxyPem = makeCert(dir, 'proxy', 'DNS:localhost,IP:127.0.0.1');
    const targetPem = makeCert(dir, 'target', 'DNS:otlp.backend.test', 'otlp.backend.test');
    if (!proxyPem || !targetPem) { this.skip(); return; }
    const bundle = path.join(dir, 'bundle.crt');
    fs.writeFileSync(bundle, proxyPem.certPem + targetPem.certPem);
    const target = await server({}, (h) => https.createServer({ cert: targetPem.certPem, key: targetPem.keyPem }, h));
    const proxy = await connectProxy({ cert: proxyPem.certPem, key: proxyPem.keyPem });
    const saved = clearProxyEnvironment();
    try {
      for (const proxyHost of ['localhost', '127.0.0.1']) {
        const viaConfig = await exporter({ endpoint: `https://otlp.backend.test:${target.port}`, tls: { ca_file: bundle }, proxy_url: `https://${proxyHost}:${proxy.port}` });
        try { await viaConfig.consume(testBatch(1, 'log')); } finally { await viaConfig.shutdown(); }
      }
      assert.deepEqual(proxy.connects, [`otlp.backend.test:${target.port}`, `otlp.backend.test:${target.port}`]);
      assert.equal(target.seen.length, 2, 'TLS to the target inside the TLS tunnel, each certificate checked for its own name');
      process.env.HTTPS_PROXY = `https://127.0.0.1:${proxy.port}`;
      process.env.HTTP_PROXY = `https://127.0.0.1:${proxy.port}`;
      const plainTarget = await exporter({ endpoint: 'http://otlp.backend.test:4318', tls: { ca_file: bundle } });
      try { await plainTarget.consume(testBatch(1, 'log')); } finally { await plainTarget.shutdown(); }
      assert.deepEqual(proxy.requests, ['http://otlp.backend.test:4318/v1/logs'], 'absolute-form, to the proxy over TLS');
      const untrusted = await exporter({ endpoint: 'http://otlp.backend.test:4318' });
      try { await assert.rejects(untrusted.consume(testBatch(1, 'log')), /self[- ]signed|unable to verify|certificate/i); } finally { await untrusted.shutdown(); }
    } finally {
      restoreEnvironment(saved);
      await target.close(); await proxy.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('each signal\'s endpoint decides http or https for itself (traces over TLS, logs in the clear)', async function () {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tapio-otlp-schemes-'));
    const pem = makeCert(dir, 'server', 'DNS:localhost,IP:127.0.0.1');
    if (!pem) { this.skip(); return; }
    const secure = await server({}, (h) => https.createServer({ cert: pem.certPem, key: pem.keyPem }, h));
    const plain = await server();
    const e = await exporter({ endpoint: `http://127.0.0.1:${plain.port}`, traces_endpoint: `https://localhost:${secure.port}/v1/traces`, tls: { ca_file: pem.cert } });
    try {
      await e.consume({ events: [...testBatch(2, 'span').events, ...testBatch(3, 'log').events] });
      assert.deepEqual(secure.seen.map((r) => r.url), ['/v1/traces']);
      assert.deepEqual(plain.seen.map((r) => r.url), ['/v1/logs']);
    } finally {
      await e.shutdown(); await secure.close(); await plain.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('endpoints must be http:// or https:// URLs; each wrong one is named', () => {
    const r = exporterIssues('otlphttp', 'endpoint: localhost:4318\nlogs_endpoint: "http://[bad"\ntraces_endpoint: grpc://collector:4317/v1/traces').issues.join('\n');
    assert.match(r, /exporters\.otlphttp\.endpoint.*must be an http:\/\/ or https:\/\/ URL \(got "localhost:4318"\)/);
    assert.match(r, /exporters\.otlphttp\.logs_endpoint.*not a URL/);
    assert.match(r, /exporters\.otlphttp\.traces_endpoint.*must be an http:\/\/ or https:\/\//);
    assert.doesNotMatch(r, /metrics_endpoint/);
  });

  it('without proxy_url, HTTP_PROXY is used for an http endpoint unless NO_PROXY matches it (as Go reads them)', async () => {
    const proxy = await server();
    const saved = clearProxyEnvironment(); // whatever the machine running the tests has set
    process.env.HTTP_PROXY = `127.0.0.1:${proxy.port}`; // no scheme: http://
    try {
      process.env.NO_PROXY = 'other.test,.backend.test';
      const direct = await exporter({ endpoint: 'http://otlp.backend.test:4318' });
      // a NO_PROXY host is connected to directly: the name does not resolve and the proxy saw nothing
      try { await assert.rejects(direct.consume(testBatch(1, 'log')), /otlp\.backend\.test:4318.*(ENOTFOUND|EAI_AGAIN)/); } finally { await direct.shutdown(); }
      assert.equal(proxy.seen.length, 0);
      delete process.env.NO_PROXY;
      const e = await exporter({ endpoint: 'http://otlp.backend.test:4318' });
      try {
        await e.consume(testBatch(1, 'log'));
        assert.equal(proxy.seen.length, 1);
        assert.equal(proxy.seen[0]!.url, 'http://otlp.backend.test:4318/v1/logs');
      } finally { await e.shutdown(); }
      process.env.HTTP_PROXY = 'socks5://127.0.0.1:1080';
      await assert.rejects(exporter({ endpoint: 'http://otlp.backend.test:4318' }), /HTTP_PROXY names a socks5:\/\/ proxy; only http:\/\/ and https:\/\/ proxies/);
    } finally {
      restoreEnvironment(saved);
      await proxy.close();
    }
  });

  it('proxy environment: HTTPS_PROXY for https targets, loopback never proxied, NO_PROXY names / suffixes / IPs / CIDRs / ports', () => {
    const env = { HTTP_PROXY: 'http://p:3128', HTTPS_PROXY: 'http://sp:3128', NO_PROXY: 'internal.example, .corp.test, 10.0.0.0/8, 192.168.1.5, gw.test:8443' };
    const via = (u: string) => proxyFromEnvironment(new URL(u), env)?.host;
    assert.equal(via('http://collector.example:4318'), 'p:3128');
    assert.equal(via('https://collector.example:4318'), 'sp:3128');
    assert.equal(via('http://localhost:4318'), undefined);
    assert.equal(via('http://127.0.0.2:4318'), undefined);
    assert.equal(via('http://[::1]:4318'), undefined);
    assert.equal(via('https://internal.example'), undefined, 'the name itself');
    assert.equal(via('https://api.internal.example'), undefined, 'and its subdomains');
    assert.equal(via('https://corp.test'), 'sp:3128', 'a leading dot: subdomains only');
    assert.equal(via('https://a.corp.test'), undefined);
    assert.equal(via('http://10.1.2.3:4318'), undefined, 'CIDR');
    assert.equal(via('http://11.1.2.3:4318'), 'p:3128');
    assert.equal(via('http://192.168.1.5'), undefined);
    assert.equal(via('https://gw.test:8443'), undefined, 'with its port');
    assert.equal(via('https://gw.test'), 'sp:3128', 'another port');
    assert.equal(proxyFromEnvironment(new URL('http://x.test'), { ...env, NO_PROXY: '*' }), undefined);
    assert.equal(proxyFromEnvironment(new URL('http://x.test'), { http_proxy: 'http://lower:1' })?.host, 'lower:1');
    assert.equal(proxyFromEnvironment(new URL('http://x.test'), { HTTP_PROXY: 'http://p:1', REQUEST_METHOD: 'GET' }), undefined, 'CGI: HTTP_PROXY is a request header there');
    assert.throws(() => proxyFromEnvironment(new URL('https://x.test'), { HTTPS_PROXY: 'http://[bad' }), /HTTPS_PROXY is not a proxy URL/);
  });

  it('accepts the remaining confighttp keys, the HTTP/2 and buffer ones with a no-effect notice', () => {
    const r = exporterIssues('otlphttp', 'max_idle_conns: 100\nmax_idle_conns_per_host: 10\nmax_conns_per_host: 20\nidle_conn_timeout: 90s\ndisable_keep_alives: false\nread_buffer_size: 0\nwrite_buffer_size: 524288\nhttp2_read_idle_timeout: 10s\nhttp2_ping_timeout: 15s\ncookies: { enabled: true }\nproxy_url: http://proxy.internal:3128');
    assert.deepEqual(r.issues, []);
    assert.equal(r.notices.filter((n) => /no effect/.test(n)).length, 4);
    assert.match(exporterIssues('otlphttp', 'proxy_url: socks5://proxy:1080').issues.join('\n'), /only http:\/\/ and https:\/\/ proxies/);
  });
});
