'use strict';
// The project's own distributions, built with tapio-builder from the repo's packages and run:
// `components` lists exactly the manifest's components, and each default config passes events end
// to end. Also: `npm start`'s embedded default stops cleanly on SIGTERM, and the Kubernetes manifests
// for tapio-k8s pass a schema check and `tapio validate`.
const assert = require('node:assert/strict');
const { spawn, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const YAML = require('yaml');
const { ROOT, TAPIO, tmpDir } = require('./lib/cli');

const BUILDER = path.join(ROOT, 'builder', 'dist', 'src', 'bin.js');
const PORT_ENV = {
  TAPIO_OTLP_GRPC_ENDPOINT: '127.0.0.1:0', TAPIO_OTLP_HTTP_ENDPOINT: '127.0.0.1:0',
  TAPIO_HEALTH_ENDPOINT: '127.0.0.1:0', TAPIO_METRICS_ENDPOINT: '127.0.0.1:0',
  TAPIO_API_HTTP_ENDPOINT: '127.0.0.1:0', TAPIO_API_GRPC_ENDPOINT: '127.0.0.1:0',
};

function manifestComponents(manifestFile) {
  const m = YAML.parse(fs.readFileSync(manifestFile, 'utf8'));
  const out = [];
  for (const list of ['receivers', 'processors', 'exporters', 'extensions']) {
    for (const entry of m[list] ?? []) {
      const pkg = JSON.parse(fs.readFileSync(path.resolve(path.dirname(manifestFile), entry.path, 'package.json'), 'utf8'));
      for (const t of [].concat(pkg.tapio)) out.push(`${t.kind}/${t.type}`);
    }
  }
  return out.sort();
}

/** Starts a collector process; resolves once it logged "ready", with helpers to read its logs. */
function start(cmd, args, env, cwd) {
  const t0 = process.hrtime.bigint();
  const child = spawn(process.execPath, [cmd, ...args], { cwd, env: { ...process.env, ...PORT_ENV, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const s = { child, stdout: '', stderr: '', logs: [] };
  child.stdout.setEncoding('utf8').on('data', (d) => { s.stdout += d; });
  child.stderr.setEncoding('utf8').on('data', (d) => {
    s.stderr += d;
    for (const line of d.split('\n')) { try { s.logs.push(JSON.parse(line)); } catch { /* partial line */ } }
  });
  s.exited = new Promise((resolve) => child.on('exit', (code) => resolve(code)));
  s.ready = new Promise((resolve, reject) => {
    const deadline = Date.now() + 60_000;
    const poll = () => {
      if (s.logs.some((l) => l.msg === 'everything is ready; pipelines running')) return resolve(Number(process.hrtime.bigint() - t0) / 1e6);
      if (child.exitCode !== null || Date.now() > deadline) return reject(new Error(`not ready (exit ${child.exitCode}):\n${s.stderr}`));
      setTimeout(poll, 25);
    };
    poll();
  });
  return s;
}

const SPAN_REQUEST = {
  resourceSpans: [{
    resource: { attributes: [{ key: 'service.name', value: { stringValue: 'checkout' } }] },
    scopeSpans: [{ scope: { name: 'dist-test' }, spans: [{
      traceId: '5b8efff798038103d269b633813fc60c', spanId: 'eee19b7ec3c1b174', name: 'POST /pay-from-dist-test', kind: 2,
      startTimeUnixNano: String(BigInt(Date.now()) * 1000000n), endTimeUnixNano: String(BigInt(Date.now() + 120) * 1000000n), status: { code: 2, message: 'boom' },
    }] }],
  }],
};

async function sendSpanAndExpectDebugLine(s) {
  const http = s.logs.find((l) => l.msg === 'OTLP/HTTP receiver listening');
  assert.ok(http, 'the OTLP/HTTP receiver logged its endpoint');
  const res = await fetch(`http://${http.endpoint}/v1/traces`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(SPAN_REQUEST) });
  assert.equal(res.status, 200, await res.text());
  const deadline = Date.now() + 20_000;
  while (!s.stdout.includes('POST /pay-from-dist-test') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  assert.match(s.stdout, /span +(service\/)?checkout: POST \/pay-from-dist-test trace=5b8efff798038103d269b633813fc60c/);
}

describe('distributions', function () {
  this.timeout(240_000);
  const measured = [];
  after(() => { if (measured.length) console.log('    distribution figures:', JSON.stringify(measured)); });

  for (const name of ['tapio-core', 'tapio-k8s']) {
    it(`${name}: builds from the repo's packages, lists exactly its manifest's components, and passes events end to end`, async () => {
      const manifest = path.join(ROOT, 'distributions', name, 'manifest.yaml');
      const b = spawnSync(process.execPath, [BUILDER, 'build', '--manifest', manifest, '--offline'], { encoding: 'utf8', cwd: ROOT, timeout: 180_000 });
      assert.equal(b.status, 0, b.stderr);
      const bin = path.join(ROOT, 'distributions', name, 'dist', `${name}.js`);
      const comps = JSON.parse(spawnSync(process.execPath, [bin, 'components', '--output', 'json'], { encoding: 'utf8' }).stdout);
      assert.deepEqual(comps.map((c) => `${c.kind}/${c.type}`).sort(), manifestComponents(manifest));

      const work = tmpDir('tapio-dist-run-');
      // tapio-core also runs with decode_workers: a bundle has no separate worker script, so the
      // receiver must say so and decode on the main thread (the span below still has to arrive)
      const extra = name === 'tapio-k8s' ? ['--set', 'exporters.debug.verbosity=normal'] : ['--set', 'receivers.otlp.decode_workers=1'];
      const s = start(bin, extra, { TAPIO_DEBUG_VERBOSITY: 'normal' }, work);
      try {
        const readyMs = await s.ready;
        await sendSpanAndExpectDebugLine(s);
        if (name === 'tapio-core') assert.ok(s.logs.some((l) => /decode_workers ignored/.test(l.msg)), 'the bundle warns that decode_workers falls back to the main thread');
        s.child.kill('SIGTERM');
        assert.equal(await s.exited, 0, s.stderr.slice(-2000));
        measured.push({ name, bundle_mb: +(fs.statSync(bin).size / 1e6).toFixed(2), cold_start_to_ready_ms: Math.round(readyMs) });
      } finally {
        s.child.kill('SIGKILL');
      }
    });
  }

  it('npm start (the tapio-k8s embedded default, from source) starts and stops cleanly on SIGTERM', async () => {
    const work = tmpDir('tapio-start-');
    const s = start(TAPIO, ['--manifest', path.join(ROOT, 'distributions/tapio-k8s/manifest.yaml')], {}, work);
    try {
      await s.ready;
      s.child.kill('SIGTERM');
      assert.equal(await s.exited, 0, s.stderr.slice(-2000));
      assert.ok(s.logs.some((l) => l.msg === 'shutdown complete'));
    } finally {
      s.child.kill('SIGKILL');
    }
  });

  it('the tapio-k8s Kubernetes manifests pass a schema check, and the agent config passes tapio validate', () => {
    const dir = path.join(ROOT, 'distributions/tapio-k8s/kubernetes');
    const models = {
      Namespace: require('kubernetes-models/v1/Namespace').Namespace,
      ServiceAccount: require('kubernetes-models/v1/ServiceAccount').ServiceAccount,
      ConfigMap: require('kubernetes-models/v1/ConfigMap').ConfigMap,
      DaemonSet: require('kubernetes-models/apps/v1/DaemonSet').DaemonSet,
      ClusterRole: require('kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRole').ClusterRole,
      ClusterRoleBinding: require('kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRoleBinding').ClusterRoleBinding,
      Role: require('kubernetes-models/rbac.authorization.k8s.io/v1/Role').Role,
      RoleBinding: require('kubernetes-models/rbac.authorization.k8s.io/v1/RoleBinding').RoleBinding,
    };
    const kinds = [];
    let agentConfig;
    for (const f of fs.readdirSync(dir).filter((x) => x.endsWith('.yaml'))) {
      for (const doc of YAML.parseAllDocuments(fs.readFileSync(path.join(dir, f), 'utf8'))) {
        const obj = doc.toJS();
        const Model = models[obj.kind];
        assert.ok(Model, `${f}: no schema for kind ${obj.kind}`);
        assert.doesNotThrow(() => new Model(obj).validate(), `${f}: ${obj.kind} ${obj.metadata?.name}`);
        kinds.push(obj.kind);
        if (obj.kind === 'ConfigMap') agentConfig = obj.data['config.yaml'];
      }
    }
    assert.deepEqual([...new Set(kinds)].sort(), ['ClusterRole', 'ClusterRoleBinding', 'ConfigMap', 'DaemonSet', 'Namespace', 'Role', 'RoleBinding', 'ServiceAccount']);
    const cfg = path.join(tmpDir(), 'agent.yaml');
    fs.writeFileSync(cfg, agentConfig);
    const v = spawnSync(process.execPath, [TAPIO, 'validate', '--manifest', path.join(ROOT, 'distributions/tapio-k8s/manifest.yaml'), '--config', cfg], { encoding: 'utf8', env: { ...process.env, K8S_NODE_NAME: 'node-1', K8S_POD_NAME: 'tapio-agent-x' } });
    assert.equal(v.status, 0, v.stderr);
  });
});
