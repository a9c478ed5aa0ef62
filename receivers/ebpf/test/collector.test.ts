import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { Collector, createLogger, defineExporter, loadConfigSources, Registry, resolveConfig, type UnifiedEvent } from '@tapio/core';
import { resolveYaml } from '@tapio/core/testing';
import factory from '../src/index';

/** An exporter that keeps what it is given, for a whole-collector test. */
const captured: UnifiedEvent[] = [];
const captureExporter = defineExporter<Record<string, never>>({
  type: 'capture',
  stability: 'development',
  configSchema: { type: 'object', additionalProperties: false, properties: {} },
  create: () => ({
    start: async () => undefined,
    shutdown: async () => undefined,
    consume: async (batch) => { captured.push(...batch.events); },
  }),
});

function collectorConfig(ebpf: string): ReturnType<typeof resolveYaml> {
  return resolveYaml(`
receivers:
  ebpf:
${ebpf}
exporters:
  capture: {}
service:
  telemetry:
    metrics:
      address: localhost:0
  pipelines:
    events:
      receivers: [ebpf]
      exporters: [capture]
`, [factory, captureExporter]);
}

describe('ebpf receiver in a collector: graceful degradation', () => {
  it('fails the collector with a message naming what is missing and how to fix it', async () => {
    const { config, issues } = collectorConfig('    native_dir: /nonexistent/tapio-native');
    assert.deepEqual(issues, []);
    const c = new Collector({ logger: createLogger('silent') });
    await assert.rejects(c.start(config!), (err: Error) => {
      assert.match(err.message, /receiver "ebpf" failed to start/);
      assert.match(err.message, process.platform === 'linux' ? /tapio-ebpf-loader is missing; build it with "make -C ebpf-programs"/ : /needs Linux/);
      return true;
    });
    await c.shutdown();
  });

  it('with optional: true the collector runs on and reports the receiver as degraded', async () => {
    const { config, issues } = collectorConfig('    optional: true\n    native_dir: /nonexistent/tapio-native');
    assert.deepEqual(issues, []);
    const c = new Collector({ logger: createLogger('silent') });
    await c.start(config!);
    try {
      assert.equal(c.phase(), 'running');
      await new Promise((r) => setImmediate(r));
      const status = c.components().ebpf;
      assert.equal(status?.status, 'recoverable_error');
      assert.match(status?.error ?? '', /kernel events unavailable/);
    } finally {
      await c.shutdown();
    }
  });

  it('accepts the documented example config (testdata/config.yaml)', () => {
    const loaded = loadConfigSources([path.resolve(__dirname, '../../testdata/config.yaml')]);
    const registry = new Registry();
    registry.register(factory, '@tapio/receiver-ebpf', '0.1.0');
    registry.register(defineExporter({ type: 'debug', stability: 'development', configSchema: { type: 'object' }, create: () => captureExporter.create(undefined as never, {}) }), 'test', '0.0.0');
    const { issues, config } = resolveConfig(loaded, registry);
    assert.deepEqual(issues, []);
    assert.deepEqual(config?.receivers.get('ebpf')?.config.programs, ['oom', 'tcp', 'process', 'syscall_errors']);
  });

  it('rejects unknown config keys and bad sizes with their paths', () => {
    const { issues } = collectorConfig('    programs: [oom, kprobes]\n    ring_buffer_size: lots\n    sampling: { process: -1 }');
    const text = issues.map((i) => `${i.path}: ${i.message}`).join('\n');
    assert.match(text, /receivers\.ebpf\.programs\.1/);
    assert.match(text, /receivers\.ebpf\.ring_buffer_size/);
    assert.match(text, /receivers\.ebpf\.sampling\.process/);
  });
});

describe('ebpf receiver in a collector: real kernel events end to end', function () {
  this.timeout(30_000);

  it('delivers the exit of a process through a running collector', async function () {
    if (process.platform !== 'linux' || process.getuid?.() !== 0) { console.log('      skipped: needs Linux and root'); this.skip(); }
    const { config, issues } = collectorConfig('    programs: [process]\n    filters: { comms: [sleep] }');
    assert.deepEqual(issues, []);
    const c = new Collector({ logger: createLogger('silent') });
    await c.start(config!);
    try {
      const child = spawn('sleep', ['0.05'], { stdio: 'ignore' });
      const code = await new Promise((r) => child.on('exit', r));
      assert.equal(code, 0);
      const deadline = Date.now() + 10_000;
      let exit: UnifiedEvent | undefined;
      while (!(exit = captured.find((e) => e.kernel?.event === 'process_exit' && e.kernel.pid === child.pid)) && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 25));
      }
      assert.ok(exit, `the exit of pid ${child.pid} reached the exporter`);
      assert.equal(exit.source, 'ebpf');
      assert.equal(exit.kernel?.exitCode, 0);
      assert.equal(exit.severity, 'info');
    } finally {
      await c.shutdown();
    }
  });
});
