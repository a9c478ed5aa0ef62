import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as https from 'node:https';
import * as os from 'node:os';
import * as path from 'node:path';
import { AuthenticationError, STATUS_SERVICE, type Extension, type Host, type StatusSource } from '@tapio/core';
import { testContext, validConfig } from '@tapio/core/testing';
import factory, { listeningAddresses, pathMatches } from '../src/index';

/** A host whose collector is healthy or not, as the test says, with the given extensions. */
function fakeHost(healthy: () => boolean, extensions: Record<string, unknown> = {}): Host {
  const status: StatusSource = { ready: healthy, phase: () => 'running', components: () => ({}) } as unknown as StatusSource;
  return {
    getExtension: <T>(id: string) => extensions[id] as T | undefined,
    getService: <T>(name: string) => (name === STATUS_SERVICE ? status as T : undefined),
    registerService: () => undefined, onService: () => undefined, reportStatus: () => undefined,
  };
}

async function started(id: string, overrides: Record<string, unknown>, host: Host): Promise<{ ext: Extension; address: string }> {
  const ext = factory.create(testContext(id, 'extension'), validConfig(factory, { endpoint: '127.0.0.1:0', ...overrides })) as Extension;
  await ext.start(host);
  return { ext, address: listeningAddresses.get(id)! };
}

describe('health_check with the Collector\'s confighttp settings', () => {
  it('answers paths as the Collector\'s ServeMux does: the default / answers every path (a probe at /healthz), /health/ its subtree, /health only itself', async () => {
    const probes = async (configured: string, paths: string[]) => {
      const { ext, address } = await started(`health_check/path${configured.replace(/\//g, '_')}`, { path: configured }, fakeHost(() => true));
      try { return await Promise.all(paths.map(async (p) => (await fetch(`http://${address}${p}`)).status)); } finally { await ext.shutdown(); }
    };
    assert.deepEqual(await probes('/', ['/', '/healthz', '/health/status']), [200, 200, 200]);
    assert.deepEqual(await probes('/health/', ['/health/', '/health/live', '/healthz']), [200, 200, 404]);
    assert.deepEqual(await probes('/health', ['/health', '/health/live', '/']), [200, 404, 404]);
    assert.equal(pathMatches('/status/', '/status/x/y'), true);
  });

  it('sends response_body.healthy / .unhealthy as the body, with response_headers on every answer', async () => {
    let healthy = true;
    const { ext, address } = await started('health_check/body', {
      response_body: { healthy: "I'm OK", unhealthy: "I'm not OK" }, response_headers: { 'X-Served-By': 'tapio' },
    }, fakeHost(() => healthy));
    try {
      const ok = await fetch(`http://${address}/`);
      assert.deepEqual([ok.status, await ok.text(), ok.headers.get('x-served-by')], [200, "I'm OK", 'tapio']);
      healthy = false;
      const bad = await fetch(`http://${address}/`);
      assert.deepEqual([bad.status, await bad.text(), bad.headers.get('x-served-by')], [503, "I'm not OK", 'tapio']);
    } finally { await ext.shutdown(); }
  });

  it('with auth, refuses a request the authenticator refuses (401) and answers one it accepts', async () => {
    const authenticator = {
      async start() {}, async shutdown() {},
      authenticate(h: Record<string, unknown>) { if (h.authorization !== 'Bearer good') throw new AuthenticationError('bad token'); },
    };
    const { ext, address } = await started('health_check/auth', { auth: { authenticator: 'bearertokenauth' } }, fakeHost(() => true, { bearertokenauth: authenticator }));
    try {
      const refused = await fetch(`http://${address}/`);
      assert.deepEqual([refused.status, (await refused.text()).trim()], [401, 'bad token']);
      const ok = await fetch(`http://${address}/`, { headers: { authorization: 'Bearer good' } });
      assert.equal(ok.status, 200);
    } finally { await ext.shutdown(); }
  });

  it('answers a CORS preflight from an allowed origin', async () => {
    const { ext, address } = await started('health_check/cors', { cors: { allowed_origins: ['https://*.example.com'] } }, fakeHost(() => true));
    try {
      const pre = await fetch(`http://${address}/`, { method: 'OPTIONS', headers: { origin: 'https://ui.example.com', 'access-control-request-method': 'GET' } });
      assert.equal(pre.status, 204);
      assert.equal(pre.headers.get('access-control-allow-origin'), 'https://ui.example.com');
      const other = await fetch(`http://${address}/`, { headers: { origin: 'https://evil.test' } });
      assert.equal(other.headers.get('access-control-allow-origin'), null);
    } finally { await ext.shutdown(); }
  });

  it('serves HTTPS with tls.cert_file / key_file', async function () {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hc-tls-'));
    const cert = path.join(dir, 'cert.pem');
    const key = path.join(dir, 'key.pem');
    try {
      execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=localhost'], { stdio: 'ignore' });
    } catch { this.skip(); return; }
    const { ext, address } = await started('health_check/tls', { tls: { cert_file: cert, key_file: key, min_version: '1.2' } }, fakeHost(() => true));
    try {
      const status = await new Promise<number>((resolve, reject) => {
        https.get(`https://${address}/`, { ca: fs.readFileSync(cert), servername: 'localhost', checkServerIdentity: () => undefined }, (res) => { res.resume(); resolve(res.statusCode ?? 0); }).on('error', reject);
      });
      assert.equal(status, 200);
    } finally {
      await ext.shutdown();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('accepts the Collector\'s health_check keys; TLS without a key is refused by name', () => {
    assert.doesNotThrow(() => validConfig(factory, {
      check_collector_pipeline: { enabled: false, interval: '5m', exporter_failure_threshold: 5 },
      read_header_timeout: '10s', idle_timeout: '1m', read_timeout: '30s', write_timeout: '30s', include_metadata: false, max_request_body_size: 1024,
    }));
    assert.deepEqual(factory.validate!(validConfig(factory, { tls: { cert_file: '/x.pem' } })), [{ path: ['tls'], message: 'a TLS server needs its private key: set key_file or key_pem' }]);
  });
});
