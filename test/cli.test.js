'use strict';
// The `tapio` command line, run as a real process: validate, components, print-config, plugins,
// SIGTERM drain and SIGHUP reload.
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { spawn } = require('node:child_process');
const { ROOT, EXAMPLE_PLUGIN, DEBUG_EXPORTER, tmpDir, writeFile, tapioSync, startTapio } = require('./lib/cli');

const PLUGINS = ['--plugin', EXAMPLE_PLUGIN, '--plugin', DEBUG_EXPORTER];

function pipelineConfig({ exporterVerbosity = 'normal', tagKey = 'example.tagged' } = {}) {
  return `
receivers:
  example_http:
    endpoint: 127.0.0.1:0
processors:
  example_tag:
    key: ${tagKey}
exporters:
  debug:
    verbosity: ${exporterVerbosity}
    use_internal_logger: false   # the events on stdout, where these tests read them
service:
  telemetry:
    metrics: {address: "127.0.0.1:0"}
  pipelines:
    logs:
      receivers: [example_http]
      processors: [example_tag]
      exporters: [debug]
`;
}

async function post(address, lines) {
  const res = await fetch(`http://${address.address}:${address.port}/events`, { method: 'POST', body: lines.map((l) => JSON.stringify(l)).join('\n') });
  return res.status;
}

describe('tapio CLI', function () {
  this.timeout(60_000);

  it('validate prints all three mistakes with path and file:line:col and exits non-zero', () => {
    const dir = tmpDir();
    const file = writeFile(dir, 'broken.yaml', [
      'receivers:',
      '  example_htp:',                  // 2: unknown type (typo)
      'processors:',
      '  example_tag:',
      '    key: 42',                     // 5: wrong type
      'exporters:',
      '  debug:',
      'service:',
      '  pipelines:',
      '    logs:',
      '      receivers: [example_http]',  // 11: not defined
      '      processors: [example_tag]',
      '      exporters: [debug]',
      '',
    ].join('\n'));
    const r = tapioSync(['validate', '--config', file, ...PLUGINS]);
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, /invalid configuration, 3 problems/);
    assert.ok(r.stderr.includes(`receivers.example_htp (${file}:2:3): unknown receiver type "example_htp"; did you mean "example_http"?`), r.stderr);
    assert.ok(r.stderr.includes(`processors.example_tag.key (${file}:5:10): must be string`), r.stderr);
    assert.ok(r.stderr.includes(`service.pipelines.logs.receivers.0 (${file}:11:19): receiver "example_http" is not defined under receivers`), r.stderr);
  });

  it('validate accepts a good config; components lists what the plugins provide', () => {
    const dir = tmpDir();
    const file = writeFile(dir, 'good.yaml', pipelineConfig());
    const v = tapioSync(['validate', '--config', file, ...PLUGINS]);
    assert.equal(v.status, 0, v.stderr);
    assert.match(v.stdout, /config is valid: 1 pipeline\(s\): logs/);
    const c = tapioSync(['components', '--output', 'json', ...PLUGINS]);
    assert.equal(c.status, 0, c.stderr);
    const rows = JSON.parse(c.stdout);
    assert.deepEqual(rows.map((r) => `${r.kind}/${r.type}/${r.package}`).sort(), [
      'exporter/debug/@tapio/exporter-debug', 'processor/example_tag/tapio-plugin-example', 'receiver/example_http/tapio-plugin-example',
    ]);
  });

  it('print-config shows defaults and redacts secrets', () => {
    const dir = tmpDir();
    const file = writeFile(dir, 'c.yaml', pipelineConfig());
    const r = tapioSync(['print-config', '--config', file, ...PLUGINS, '--set', 'exporters.debug.output=stderr']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /debug:\n\s+verbosity: normal\n(\s+\w+: \S+\n)*\s+output: stderr/);
    assert.match(r.stdout, /value: "?yes"?\n/, 'the processor default for value is filled in');
  });

  it('refuses a plugin built for another core with a clear error', () => {
    const r = tapioSync(['components', '--plugin', path.join(EXAMPLE_PLUGIN, '..', 'tapio-plugin-incompatible')]);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /tapio-plugin-incompatible@2\.0\.0 requires @tapio\/core \^9\.0\.0, but this collector runs @tapio\/core 0\.1\.0/);
  });

  it('runs an out-of-tree plugin in a pipeline and drains on SIGTERM: every accepted event is exported', async () => {
    const dir = tmpDir();
    const file = writeFile(dir, 'run.yaml', pipelineConfig());
    const t = startTapio(['--config', file, ...PLUGINS]);
    try {
      const listening = await t.waitForLog((l) => l.msg === 'example_http listening');
      await t.waitForLog((l) => l.msg === 'everything is ready; pipelines running');
      let accepted = 0;
      const send = (i) => post(listening.address, [{ body: `line ${i} a`, service: 'checkout' }, { body: `line ${i} b`, service: 'checkout' }])
        .then((s) => { if (s === 200) accepted += 2; }, () => undefined);
      for (let i = 0; i < 20; i++) await send(i);
      // 30 more in flight while SIGTERM arrives: those answered 200 must be exported too.
      const sends = [];
      for (let i = 20; i < 50; i++) sends.push(send(i));
      await new Promise((r) => setTimeout(r, 5));
      t.child.kill('SIGTERM');
      await Promise.all(sends);
      const { code } = await t.exited;
      assert.equal(code, 0, t.state.stderr);
      const exported = t.state.stdout.split("\n").filter((l) => / log +checkout: line \d+ [ab](\{[^}]*\})?$/.test(l));
      assert.ok(accepted > 0, 'some requests were accepted before SIGTERM');
      assert.equal(exported.length, accepted, `accepted ${accepted}, exported ${exported.length}`);
    } finally {
      await t.stop();
    }
  });

  it('a SIGTERM that arrives while the collector is still starting drains it once started (exit 0), instead of killing it', async () => {
    const dir = tmpDir();
    const storage = path.join(dir, 'storage');
    fs.mkdirSync(storage);
    // another process holds the storage lock for 1.5 s, so the collector's start waits for it
    const holder = spawn(process.execPath, ['-e', `
      const { StorageLock } = require(${JSON.stringify(path.join(ROOT, 'extensions/storage/dist/src/lock.js'))});
      const { databaseFile } = require(${JSON.stringify(path.join(ROOT, 'extensions/storage/dist/src/index.js'))});
      StorageLock.acquire(databaseFile(${JSON.stringify(storage)}, 'file_storage'), 1000);
      console.log('held'); setTimeout(() => process.exit(0), 1500);`], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise((resolve) => holder.stdout.on('data', (d) => { if (String(d).includes('held')) resolve(); }));
    const file = writeFile(dir, 'early.yaml', `
extensions:
  file_storage: { directory: ${JSON.stringify(storage)}, timeout: 20s }
receivers:
  otlp: { protocols: { http: { endpoint: 127.0.0.1:0 } } }
exporters:
  debug: {}
service:
  extensions: [file_storage]
  telemetry: { metrics: { address: 127.0.0.1:0 } }
  pipelines: { logs: { receivers: [otlp], exporters: [debug] } }
`);
    const t = startTapio(['--manifest', path.join(ROOT, 'distributions/tapio-core/manifest.yaml'), '--config', file]);
    try {
      await t.waitForLog((l) => l.msg === 'self-telemetry listening'); // extensions start next: blocked on the lock
      t.child.kill('SIGTERM');
      const { code, signal } = await t.exited;
      assert.deepEqual([code, signal], [0, null], t.state.stderr.slice(-2000));
      assert.ok(t.state.logs.some((l) => l.msg === 'shutdown complete'), 'drained, not killed');
    } finally {
      await t.stop();
      holder.kill('SIGKILL');
    }
  });

  it('SIGHUP with a broken file keeps the old pipelines; with a good file swaps without losing events', async () => {
    const dir = tmpDir();
    const file = writeFile(dir, 'reload.yaml', pipelineConfig({ tagKey: 'first' }));
    const t = startTapio(['--config', file, ...PLUGINS, '--set', 'exporters.debug.verbosity=detailed']);
    try {
      let listening = await t.waitForLog((l) => l.msg === 'example_http listening');
      await t.waitForLog((l) => l.msg === 'everything is ready; pipelines running');
      assert.equal(await post(listening.address, [{ body: 'before' }]), 200);

      fs.writeFileSync(file, pipelineConfig({ tagKey: 'second' }).replace('exporters: [debug]', 'exporters: [debgu]'));
      t.child.kill('SIGHUP');
      const rejected = await t.waitForLog((l) => /reload rejected/.test(l.msg));
      assert.ok(rejected.errors.some((e) => /service\.pipelines\.logs\.exporters\.0 .*exporter "debgu" is not defined/.test(e)), JSON.stringify(rejected));
      assert.equal(await post(listening.address, [{ body: 'still running' }]), 200, 'old pipelines keep running');

      fs.writeFileSync(file, pipelineConfig({ tagKey: 'second' }));
      const readyCount = t.state.logs.filter((l) => l.msg === 'everything is ready; pipelines running').length;
      t.child.kill('SIGHUP');
      await t.waitForLog((l) => l.msg === 'reload complete');
      listening = t.state.logs.filter((l) => l.msg === 'example_http listening').pop();
      assert.equal(t.state.logs.filter((l) => l.msg === 'everything is ready; pipelines running').length, readyCount + 1);
      assert.equal(await post(listening.address, [{ body: 'after' }]), 200);
      t.child.kill('SIGTERM');
      assert.equal((await t.exited).code, 0);
      const events = t.state.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l));
      assert.deepEqual(events.map((e) => [e.log.body, Object.keys(e.attributes)[0]]), [['before', 'first'], ['still running', 'first'], ['after', 'second']]);
    } finally {
      await t.stop();
    }
  });
});
