import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { compileSchema, type Incident, type Processor } from '@tapio/core';
import { conformance, createComponent, SinkConsumer, testEvent, testHost, validConfig } from '@tapio/core/testing';
import correlation, { configSchema, createDefaultConfig, engineSettings, loadRules } from '../src/index';
import { batches, shopTraffic } from './synthetic';

conformance(correlation, { batch: () => ({ events: [testEvent('span'), testEvent('log'), testEvent('kernel'), testEvent('network'), testEvent('k8s'), testEvent('metric')] }) });

describe('correlation processor', () => {
  it('forwards the input and appends incidents; shutdown flushes the open incident', async () => {
    const sink = new SinkConsumer();
    const p = await createComponent(correlation, validConfig(correlation), sink) as Processor;
    await p.start(testHost());
    const events = shopTraffic(1_700_000_000_000, 3000, 20, { service: 'payment', mode: 'self', addMs: 40, fromMs: 1_700_000_040_000 });
    for (const b of batches(events, 1000)) await p.consume({ events: b });
    await p.shutdown();
    await p.shutdown();
    const forwarded = sink.events.filter((e) => e.kind === 'span').length;
    assert.equal(forwarded, events.length, 'every input event passes through');
    const incidents = sink.events.filter((e) => e.kind === 'correlation' && e.incident);
    assert.ok(incidents.length >= 1);
    const last = incidents[incidents.length - 1]!;
    assert.equal((last.incident as unknown as Incident).rankedCauses[0]!.entity.service, 'payment');
    assert.equal(last.correlation?.role, 'root');
    assert.equal(last.entity?.name, 'payment');
  });

  it('emits only correlation events with pass_through: false', async () => {
    const sink = new SinkConsumer();
    const p = await createComponent(correlation, validConfig(correlation, { pass_through: false }), sink) as Processor;
    await p.start(testHost());
    await p.consume({ events: shopTraffic(1_700_000_000_000, 200, 20) });
    await p.shutdown();
    assert.equal(sink.events.filter((e) => e.kind !== 'correlation').length, 0);
  });

  it('rejects unknown keys and bad durations in its config', () => {
    const validate = compileSchema(configSchema);
    assert.equal(validate({ ...createDefaultConfig(), windw: '10s' }), false);
    assert.equal(validate({ ...createDefaultConfig(), window: 'ten seconds' }), false);
    assert.equal(validate(createDefaultConfig()), true);
  });
});

describe('causal rules', () => {
  it('ships the documented chain OOM kill → restart → refused connections → 5xx', () => {
    const rules = loadRules({ useDefaults: true, files: [], inline: [] });
    const causes = (effect: string): string[] => rules.filter((r) => r.effect.includes(effect)).flatMap((r) => r.cause);
    assert.ok(causes('container_restart').includes('oom_kill'));
    assert.ok(causes('connection_refused').includes('container_restart'));
    assert.ok(causes('http_5xx').includes('connection_refused'));
  });

  it('takes user rules from files and inline config; the same id replaces a shipped rule', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tapio-rules-'));
    try {
      const file = path.join(dir, 'mine.yaml');
      fs.writeFileSync(file, 'rules:\n  - id: crash-refuses-connections\n    cause: oom_kill\n    effect: [connection_refused]\n    relation: peer\n    max_lag: 30s\n');
      const cfg = validConfig<ReturnType<typeof createDefaultConfig>>(correlation, {
        rules: { files: [file], inline: [{ id: 'dns-breaks-tls', cause: 'dns_failure', effect: 'tls_error', relation: 'any', max_lag: '1m' }] },
      });
      const rules = engineSettings(cfg).rules;
      const replaced = rules.find((r) => r.id === 'crash-refuses-connections')!;
      assert.deepEqual(replaced.cause, ['oom_kill']);
      assert.equal(replaced.maxLagMs, 30_000);
      assert.ok(rules.some((r) => r.id === 'dns-breaks-tls' && r.maxLagMs === 60_000));
    } finally { fs.rmSync(dir, { recursive: true, force: true }); }
  });

  it('names the file and rule when a rule file is wrong', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tapio-rules-'));
    try {
      const file = path.join(dir, 'bad.yaml');
      fs.writeFileSync(file, 'rules:\n  - id: no-effect\n    cause: oom_kill\n');
      assert.throws(() => loadRules({ useDefaults: false, files: [file], inline: [] }), (err: Error) => err.message.includes('bad.yaml') && err.message.includes('no-effect needs effect'));
    } finally { fs.rmSync(dir, { recursive: true, force: true }); }
  });
});
