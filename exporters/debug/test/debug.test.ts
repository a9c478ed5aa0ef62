import * as assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { createLogger, type Clock, type Exporter } from '@tapio/core';
import { conformance, testBatch, testContext, testEvent, testHost, validConfig } from '@tapio/core/testing';
import factory, { formatNormal, PerSecondSampler } from '../src/index';

conformance(factory);

/** A debug exporter whose logger lines and stdout writes are captured. */
async function debugExporter(overrides: Record<string, unknown>, clock?: Clock): Promise<{ exporter: Exporter; logLines: () => Record<string, unknown>[]; stdout: string[]; restore: () => void }> {
  const logged: string[] = [];
  const sink = new Writable({ write(chunk, _enc, done) { logged.push(String(chunk)); done(); } });
  const ctx = { ...testContext('debug', 'exporter'), logger: createLogger('info', sink), ...(clock ? { clock } : {}) };
  const stdout: string[] = [];
  const realWrite = process.stdout.write.bind(process.stdout);
  process.stdout.write = ((chunk: string) => { stdout.push(String(chunk)); return true; }) as typeof process.stdout.write;
  const restore = (): void => { process.stdout.write = realWrite; };
  const exporter = await factory.create(ctx, validConfig(factory, overrides));
  await exporter.start(testHost());
  return { exporter, logLines: () => logged.map((l) => JSON.parse(l) as Record<string, unknown>), stdout, restore };
}

describe('debug exporter', () => {
  it('prints one readable line per event at normal verbosity, naming the entity and the narrative', () => {
    const e = testEvent('kernel', { time: Date.UTC(2026, 0, 2, 3, 4, 5) * 1e6, severity: 'fatal', entity: { kind: 'pod', name: 'payment-7d8f9', namespace: 'prod' } });
    e.semantic = { intent: 'oom_kill', category: 'resource', tags: [], narrative: 'Pod payment-7d8f9 OOM-killed', confidence: 0.9, suggestedActions: [] };
    assert.equal(formatNormal(e), '2026-01-02T03:04:05.000Z FATAL kernel      pod/prod/payment-7d8f9: Pod payment-7d8f9 OOM-killed');
  });

  it('normal verbosity shows a metric point\'s value and attributes, a span\'s and a log\'s attributes and a span\'s ids, as the Collector', () => {
    const at = { time: Date.UTC(2026, 0, 2, 3, 4, 5) * 1e6 };
    const gauge = testEvent('metric', { ...at, attributes: { route: '/a' } });
    gauge.metric = { name: 'http.requests', type: 'gauge', value: 42.5 };
    assert.match(formatNormal(gauge), /metric +payment: http\.requests\{route=\/a\} 42\.5$/);
    const histogram = testEvent('metric', { ...at, attributes: {} });
    histogram.metric = { name: 'latency', type: 'histogram', point: { count: '7', sum: 1.5 } };
    assert.match(formatNormal(histogram), /: latency count=7 sum=1\.5$/);
    const span = testEvent('span', { ...at, attributes: { 'http.route': '/pay' } });
    assert.match(formatNormal(span), new RegExp(`POST /pay\\{http\\.route=/pay\\} trace=${span.trace!.traceId} span=${span.trace!.spanId}$`));
    const log = testEvent('log', { ...at, attributes: { user: 'u1' } });
    assert.match(formatNormal(log), /test log line \d+\{user=u1\}$/);
  });

  it('samples each signal on its own: a burst of spans does not silence the logs', async () => {
    const d = await debugExporter({ sampling_initial: 1, sampling_thereafter: 0 }, { nowMs: () => 0, nowNanos: () => 0 });
    try {
      await d.exporter.consume(testBatch(1, 'span'));
      await d.exporter.consume(testBatch(1, 'span'));
      await d.exporter.consume(testBatch(1, 'log'));
    } finally { d.restore(); }
    await d.exporter.shutdown();
    assert.deepEqual(d.logLines().map((l) => Object.keys(l.kinds as object)), [['span'], ['log']]);
  });

  it('accepts verbosity in any letter case, as the Collector', async () => {
    for (const verbosity of ['Detailed', 'NORMAL', 'basic']) assert.doesNotThrow(() => validConfig(factory, { verbosity }));
    assert.throws(() => validConfig(factory, { verbosity: 'verbose' }));
    const d = await debugExporter({ verbosity: 'Detailed' });
    try { await d.exporter.consume(testBatch(2)); } finally { d.restore(); }
    await d.exporter.shutdown();
    const msg = String(d.logLines()[0]!.msg);
    assert.equal(msg.split('\n').length, 2, 'two events, two JSON lines');
    assert.equal((JSON.parse(msg.split('\n')[0]!) as { kind: string }).kind, 'log');
  });

  it('by default writes through the collector logger, not stdout', async () => {
    const d = await debugExporter({ verbosity: 'normal' });
    try { await d.exporter.consume(testBatch(3)); } finally { d.restore(); }
    await d.exporter.shutdown();
    assert.equal(d.stdout.length, 0);
    assert.equal(d.logLines().length, 1);
    assert.equal(d.logLines()[0]!.events, 3);
  });

  it('with use_internal_logger: false writes plain text to stdout', async () => {
    const d = await debugExporter({ verbosity: 'normal', use_internal_logger: false });
    try { await d.exporter.consume(testBatch(3)); } finally { d.restore(); }
    await d.exporter.shutdown();
    assert.equal(d.logLines().length, 0);
    assert.equal(d.stdout.join('').trimEnd().split('\n').length, 3);
  });

  it('refuses output together with use_internal_logger: true', async () => {
    await assert.rejects(async () => factory.create(testContext('debug', 'exporter'), validConfig(factory, { use_internal_logger: true, output: 'stderr' })), /output is only used when use_internal_logger is false/);
  });

  it('prints the first sampling_initial batches of each second, then every sampling_thereafter-th', async () => {
    let now = 0;
    const d = await debugExporter({ sampling_initial: 2, sampling_thereafter: 3 }, { nowMs: () => now, nowNanos: () => now * 1e6 });
    try {
      for (let i = 0; i < 8; i++) await d.exporter.consume(testBatch(1));
      now = 1000;
      await d.exporter.consume(testBatch(1));
    } finally { d.restore(); }
    await d.exporter.shutdown();
    // second 0: batches 1, 2 (initial), 5, 8 (every 3rd after); second 1: batch 1 again.
    assert.equal(d.logLines().length, 5);
  });
});

describe('PerSecondSampler', () => {
  it('drops everything past the initial ones when sampling_thereafter is 0', () => {
    const s = new PerSecondSampler(1, 0, () => 0);
    assert.deepEqual([s.admit(), s.admit(), s.admit()], [true, false, false]);
  });
});
