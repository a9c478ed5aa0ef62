import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { AUTH_CONFIG_SCHEMA, loadConfigSources, resolveConfig, Registry, defineExtension, defineProcessor, formatConfigIssue } from '../src/index';
import { resolveYaml, testReceiverFactory, testSinkExporterFactory } from '../src/testing/index';

const batchLike = defineProcessor<{ timeout: string; send_batch_size: number; token?: string }>({
  type: 'batchlike',
  stability: { traces: 'beta', logs: 'beta' },
  configSchema: {
    type: 'object', additionalProperties: false,
    properties: {
      timeout: { type: 'string', format: 'duration', default: '200ms' },
      send_batch_size: { type: 'integer', minimum: 1, default: 8192 },
      token: { type: 'string', 'x-secret': true },
      tuning: { type: 'object', properties: { read_buffer_size: { type: 'integer', 'x-no-effect': 'a Go transport buffer' } } },
    },
  },
  createDefaultConfig: () => ({ timeout: '200ms', send_batch_size: 8192 }),
  create: () => { throw new Error('not used'); },
});
/** A processor that names extensions: an authenticator and (in a list) storages. */
const refsLike = defineProcessor<Record<string, unknown>>({
  type: 'refslike',
  stability: { traces: 'beta' },
  configSchema: {
    type: 'object', additionalProperties: false,
    properties: { auth: AUTH_CONFIG_SCHEMA, stores: { type: 'array', items: { type: 'string', 'x-extension-ref': true } } },
  },
  create: () => { throw new Error('not used'); },
});
const someExtension = defineExtension<Record<string, never>>({
  type: 'someext', stability: 'beta', configSchema: { type: 'object', additionalProperties: false, properties: {} },
  create: () => ({ async start() {}, async shutdown() {} }),
});
const factories = [testReceiverFactory, testSinkExporterFactory, batchLike, refsLike, someExtension];

function tmpFile(name: string, text: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tapio-config-'));
  const f = path.join(dir, name);
  fs.writeFileSync(f, text);
  return f;
}

function resolveFiles(files: string[], sets: string[] = [], env: NodeJS.ProcessEnv = {}) {
  const registry = new Registry();
  for (const f of factories) registry.register(f);
  return resolveConfig(loadConfigSources(files, sets, env), registry);
}

describe('config', () => {
  it("takes the Collector's telemetry form: a pull reader's Prometheus host:port, upper-case log level, other readers noted as ignored", () => {
    const file = tmpFile('telemetry.yaml', 'receivers:\n  testpush:\nexporters:\n  testsink:\nservice:\n  telemetry:\n    logs: { level: DEBUG, encoding: console }\n    metrics:\n      level: detailed\n      readers:\n        - periodic: { exporter: { otlp: { protocol: grpc, endpoint: "http://x:4317" } } }\n        - pull: { exporter: { prometheus: { host: 0.0.0.0, port: 18888 } } }\n  pipelines:\n    traces: { receivers: [testpush], exporters: [testsink] }\n');
    const { issues, notices, config } = resolveFiles([file]);
    assert.deepEqual(issues, []);
    assert.deepEqual(config!.telemetry, { logs: { level: 'debug' }, metrics: { address: '0.0.0.0:18888', level: 'detailed' } });
    assert.deepEqual(notices.map((n) => n.path).sort(), ['service.telemetry.logs.encoding', 'service.telemetry.metrics.readers.0']);
  });

  it('accepts a Collector setting that has no effect in Tapio, with a notice at its position (and none for settings left unset)', () => {
    const file = tmpFile('noeffect.yaml', 'receivers:\n  testpush:\nprocessors:\n  batchlike:\n    tuning:\n      read_buffer_size: 524288\n  batchlike/plain:\nexporters:\n  testsink:\nservice:\n  pipelines:\n    traces: { receivers: [testpush], processors: [batchlike, batchlike/plain], exporters: [testsink] }\n');
    const { issues, notices } = resolveFiles([file]);
    assert.deepEqual(issues, []);
    assert.deepEqual(notices.map((n) => `${n.path}@${n.location?.line}:${n.location?.col}`), ['processors.batchlike.tuning.read_buffer_size@6:25']);
    assert.match(notices[0]!.message, /no effect in Tapio: a Go transport buffer/);
  });

  it('reports every mistake at once, each with its config path and file:line:col', () => {
    const file = tmpFile('config.yaml', [
      'receivers:',
      '  testpush:',
      'processors:',
      '  batchlike/fast:',
      '    timeout: soon',              // 5: bad duration
      '    send_batch_sise: 10',        // 6: typo'd key
      'exporters:',
      '  testsink:',
      'service:',
      '  pipelines:',
      '    traces:',
      '      receivers: [testpush]',
      '      processors: [batchlike/fast]',
      '      exporters: [testsnk]',      // 14: undefined exporter
      '',
    ].join('\n'));
    const { config, issues } = resolveFiles([file]);
    assert.equal(config, undefined);
    const lines = issues.map(formatConfigIssue);
    const rel = file;
    assert.equal(issues.length, 3, lines.join('\n'));
    assert.ok(lines.includes(`processors.batchlike/fast.timeout (${rel}:5:14): must be a duration like 200ms, 5s or 1m`), lines.join('\n'));
    assert.ok(lines.includes(`processors.batchlike/fast.send_batch_sise (${rel}:6:5): unknown key "send_batch_sise"; did you mean "send_batch_size"?`), lines.join('\n'));
    assert.ok(lines.includes(`service.pipelines.traces.exporters.0 (${rel}:14:19): exporter "testsnk" is not defined under exporters; did you mean "testsink"?`), lines.join('\n'));
  });

  it('checks settings that name an extension against service.extensions, with the value\'s file:line:col', () => {
    const file = tmpFile('refs.yaml', [
      'extensions:',
      '  someext/auth:',
      '  someext/store:',
      'receivers:',
      '  testpush:',
      'processors:',
      '  refslike:',
      '    auth: { authenticator: someext/auht }', // 8: typo
      '    stores: [someext/auth, someext/store]', // 9: the second is defined but not listed
      'exporters:',
      '  testsink:',
      'service:',
      '  extensions: [someext/auth]',
      '  pipelines:',
      '    traces: { receivers: [testpush], processors: [refslike], exporters: [testsink] }',
      '',
    ].join('\n'));
    const { config, issues } = resolveFiles([file]);
    assert.equal(config, undefined);
    const lines = issues.map(formatConfigIssue);
    assert.deepEqual(lines, [
      `processors.refslike.auth.authenticator (${file}:8:28): no extension "someext/auht" is defined under extensions; did you mean "someext/auth"?`,
      `processors.refslike.stores.1 (${file}:9:28): extension "someext/store" is defined but not listed in service.extensions`,
    ]);
  });

  it('names unknown component types, lists the known ones and suggests the closest', () => {
    const { issues } = resolveYaml('receivers:\n  tespush:\nexporters:\n  testsink:\nservice:\n  pipelines:\n    logs: {receivers: [tespush], exporters: [testsink]}\n', factories);
    const msgs = issues.map((i) => i.message);
    assert.ok(msgs.some((m) => m === 'unknown receiver type "tespush"; did you mean "testpush"? (known receivers: testpush)'), msgs.join('\n'));
  });

  it('rejects a component of the wrong kind and one that does not support the pipeline signal', () => {
    const { issues } = resolveYaml([
      'receivers: {testpush: }',
      'processors: {batchlike: }',
      'exporters: {testsink: }',
      'service:',
      '  pipelines:',
      '    metrics: {receivers: [testpush], processors: [batchlike], exporters: [testsink]}',
      '    logs: {receivers: [testsink], exporters: [testsink]}',
    ].join('\n'), factories);
    const msgs = issues.map(formatConfigIssue);
    assert.ok(msgs.some((m) => m.startsWith('service.pipelines.metrics.processors.0') && m.includes('does not support signal "metrics" (it supports: traces, logs)')), msgs.join('\n'));
    assert.ok(msgs.some((m) => m.startsWith('service.pipelines.logs.receivers.0') && m.includes('"testsink" is an exporter, not a receiver')), msgs.join('\n'));
  });

  it('fills defaults from the schema and the factory', () => {
    const { config, issues } = resolveYaml('receivers: {testpush: }\nprocessors: {batchlike: {timeout: 1s}}\nexporters: {testsink: }\nservice: {pipelines: {traces: {receivers: [testpush], processors: [batchlike], exporters: [testsink]}}}\n', factories);
    assert.deepEqual(issues, []);
    assert.deepEqual(config!.processors.get('batchlike')!.config, { timeout: '1s', send_batch_size: 8192 });
  });

  it('substitutes ${env:…} (typed when whole), defaults, ${file:…} and $$, and deep-merges several files with --set on top', () => {
    const secretFile = tmpFile('token.txt', 's3cret\n');
    const base = tmpFile('base.yaml', [
      'receivers: {testpush: }',
      'processors:',
      '  batchlike:',
      '    send_batch_size: ${env:BATCH}',
      '    timeout: ${env:TIMEOUT:-750ms}',
      `    token: "\${file:${secretFile}}$$x"`,
      'exporters: {testsink: }',
      'service: {pipelines: {traces: {receivers: [testpush], processors: [batchlike], exporters: [testsink]}}}',
    ].join('\n'));
    const over = tmpFile('over.yaml', 'exporters:\n  testsink:\n    delay_ms: 5\n');
    const { config, issues } = resolveFiles([base, over], ['exporters.testsink.delay_ms=7'], { BATCH: '512' });
    assert.deepEqual(issues, []);
    assert.deepEqual(config!.processors.get('batchlike')!.config, { send_batch_size: 512, timeout: '750ms', token: 's3cret$x' });
    assert.deepEqual(config!.exporters.get('testsink')!.config, { delay_ms: 7 });
  });

  it('expands an unset environment variable to nothing with a notice, a setting that is only one to unset (as the Collector), and reports a YAML syntax error with its position', () => {
    const file = tmpFile('bad.yaml', 'receivers:\n  testpush:\nprocessors:\n  batchlike:\n    token: "t-${env:NOPE_NOT_SET}"\n    timeout: ${env:NOPE_NOT_SET_EITHER}\nexporters:\n  testsink:\nservice:\n  pipelines:\n    traces: { receivers: [testpush], processors: [batchlike], exporters: [testsink] }\n');
    const { issues, notices } = resolveFiles([file]);
    assert.ok(notices.some((n) => n.path === 'processors.batchlike.token' && n.location?.line === 5 && /NOPE_NOT_SET is not set.*empty value/.test(n.message)), JSON.stringify(notices));
    // a whole-value reference leaves the setting unset, so its default applies (as mapstructure does with nil)
    assert.ok(notices.some((n) => n.path === 'processors.batchlike.timeout' && n.location?.line === 6), JSON.stringify(notices));
    assert.deepEqual(issues, []);
    assert.equal(resolveFiles([file]).config!.processors.get('batchlike')!.config.timeout, '200ms');
    const partial = tmpFile('partial.yaml', 'receivers:\n  testpush:\nprocessors:\n  batchlike:\n    token: "t-${env:NOPE_NOT_SET}"\nexporters:\n  testsink:\nservice:\n  pipelines:\n    traces: { receivers: [testpush], processors: [batchlike], exporters: [testsink] }\n');
    const ok = resolveFiles([partial]);
    assert.deepEqual(ok.issues, []);
    assert.equal(ok.config!.processors.get('batchlike')!.config.token, 't-');
    const syntax = tmpFile('syntax.yaml', 'receivers:\n  testpush: [\n');
    const r2 = resolveFiles([syntax]);
    assert.ok(r2.issues.some((i) => /YAML syntax/.test(i.message) && i.location?.file.endsWith('syntax.yaml')), JSON.stringify(r2.issues));
  });
});
