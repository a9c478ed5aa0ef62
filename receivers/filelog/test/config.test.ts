import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { defineExporter } from '@tapio/core';
import { resolveYaml, testContext } from '@tapio/core/testing';
import factory, { type FilelogConfig } from '../src/index';

const nopExporter = defineExporter({
  type: 'debug', stability: 'development', configSchema: { type: 'object' },
  create: () => ({ start: async () => undefined, shutdown: async () => undefined, consume: async () => undefined }),
});

describe('filelog config', () => {
  it('the example config (testdata/config.yaml, as in the README) validates and every receiver builds', async () => {
    const text = fs.readFileSync(path.resolve(__dirname, '../../testdata/config.yaml'), 'utf8');
    const { config, issues } = resolveYaml(text, [factory, nopExporter]);
    assert.deepEqual(issues, []);
    const receivers = [...config!.receivers.values()];
    assert.equal(receivers.length, 3);
    for (const r of receivers) {
      const c = await factory.create(testContext(r.id, 'receiver'), r.config as unknown as FilelogConfig, { consume: async () => undefined });
      await c.shutdown();
    }
  });

  it('reports unknown keys and bad values with their config path', () => {
    const { issues } = resolveYaml(`
receivers:
  filelog: { include: [/tmp/x.log], start_at: middle, poll_intervall: 1s, encoding: utf-32 }
exporters: { debug: {} }
service: { pipelines: { logs: { receivers: [filelog], exporters: [debug] } } }
`, [factory, nopExporter]);
    const paths = issues.map((i) => i.path).sort();
    assert.ok(paths.includes('receivers.filelog.start_at'), JSON.stringify(issues));
    assert.ok(paths.includes('receivers.filelog.encoding'), JSON.stringify(issues));
    assert.ok(paths.some((p) => p.startsWith('receivers.filelog')) && issues.some((i) => /poll_intervall/.test(i.message + i.path)), JSON.stringify(issues));
  });
});
