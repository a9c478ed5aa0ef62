import * as assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ConfigError, formatConfigIssue } from '@tapio/core';
import { buildDistribution } from '../src/index';

const REPO = path.resolve(__dirname, '../../..');
const EXAMPLE = path.join(REPO, 'test/fixtures/tapio-plugin-example');
const INCOMPATIBLE = path.join(REPO, 'test/fixtures/tapio-plugin-incompatible');

function manifest(dir: string, text: string): string {
  const f = path.join(dir, 'manifest.yaml');
  fs.writeFileSync(f, text);
  return f;
}

const MINI = (extra = '') => `
dist:
  name: mini
  version: 0.3.0
  output_path: ./out
receivers:
  - path: ${EXAMPLE}
processors:
  - ${path.join(REPO, 'processors/attributes')}
exporters:
  - ${path.join(REPO, 'exporters/debug')}
${extra}
default_config:
  receivers: {example_http: {endpoint: "127.0.0.1:0"}}
  processors: {attributes: {actions: [{key: deployment.environment, action: upsert, value: "\${env:TEST_ENV:-staging}"}]}}
  exporters: {debug: {verbosity: detailed, use_internal_logger: false}}
  service:
    telemetry: {metrics: {level: none}}
    pipelines: {logs: {receivers: [example_http], processors: [attributes], exporters: [debug]}}
`;

describe('tapio-builder', function () {
  this.timeout(120_000);
  let dir: string;
  before(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tapio-builder-')); });

  it('builds a distribution with an out-of-tree plugin that runs from anywhere with its embedded config', async () => {
    const m = manifest(dir, MINI());
    const report = await buildDistribution({ manifest: m, offline: true, log: () => undefined });
    assert.ok(report.output && fs.existsSync(report.output));
    // Move the output away from the repo: it must not need the repo's node_modules.
    const moved = fs.mkdtempSync(path.join(os.tmpdir(), 'tapio-dist-moved-'));
    fs.cpSync(path.dirname(report.output), moved, { recursive: true, filter: (s) => !s.includes('.build') });
    const bin = path.join(moved, 'mini.js');

    const version = spawnSync(process.execPath, [bin, '--version'], { encoding: 'utf8', cwd: moved });
    assert.match(version.stdout, /^mini 0\.3\.0 \(@tapio\/core 0\.1\.0\)/);
    const comps = JSON.parse(spawnSync(process.execPath, [bin, 'components', '--output', 'json'], { encoding: 'utf8', cwd: moved }).stdout) as { kind: string; type: string }[];
    assert.deepEqual(comps.map((c) => `${c.kind}/${c.type}`).sort(), ['exporter/debug', 'processor/attributes', 'receiver/example_http']);

    const child = spawn(process.execPath, [bin], { cwd: moved, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, TEST_ENV: 'prod' } });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (d) => { out += d; });
    child.stderr.setEncoding('utf8').on('data', (d) => { err += d; });
    try {
      const port = await new Promise<number>((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`no listening line: ${err}`)), 15_000);
        const check = (): void => { const m2 = /"port":(\d+)/.exec(err); if (m2) { clearTimeout(t); resolve(Number(m2[1])); } else setTimeout(check, 50); };
        check();
      });
      const res = await fetch(`http://127.0.0.1:${port}/events`, { method: 'POST', body: JSON.stringify({ body: 'built and running', service: 'checkout' }) });
      assert.equal(res.status, 200);
      child.kill('SIGTERM');
      await new Promise((r) => child.on('exit', r));
      const event = JSON.parse(out.trim().split('\n').pop()!);
      assert.equal(event.log.body, 'built and running');
      assert.equal(event.attributes['deployment.environment'], 'prod', 'the embedded config reads ${env:…} at run time, not build time');
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('refuses a component whose @tapio/core range does not match, naming the component and both versions', async () => {
    const m = manifest(dir, MINI().replace(`  - ${path.join(REPO, 'processors/attributes')}`, `  - ${path.join(REPO, 'processors/attributes')}\n  - ${INCOMPATIBLE}`));
    await assert.rejects(buildDistribution({ manifest: m, offline: true, log: () => undefined }), (err: Error) => {
      assert.equal(err.message, 'processors.1: component tapio-plugin-incompatible@2.0.0 requires @tapio/core ^9.0.0, but this distribution bundles @tapio/core 0.1.0');
      return true;
    });
  });

  it('reports manifest typos with path and line:col', async () => {
    const m = manifest(dir, 'dist:\n  name: mini\nrecievers:\n  - ./x\nexporters:\n  - {pakage: "@tapio/exporter-debug"}\n');
    await assert.rejects(buildDistribution({ manifest: m, log: () => undefined }), (err: Error) => {
      assert.ok(err instanceof ConfigError);
      const lines = err.issues.map(formatConfigIssue);
      assert.deepEqual(lines, [
        `recievers (${m}:3:1): unknown key "recievers"; did you mean "receivers"?`,
        `exporters.0.pakage (${m}:6:6): unknown key "pakage"; did you mean "package"?`,
      ]);
      return true;
    });
  });
});
