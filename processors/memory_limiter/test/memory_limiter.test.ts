import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { conformance, createMemoryCgroup, type MemoryCgroup, validConfig, resolveYaml, SinkConsumer, testBatch, testContext, testHost, testReceiverFactory, testReceivers, testSinkExporterFactory, testSinks } from '@tapio/core/testing';
import { Collector, createLogger, isRetryable, RetryableError } from '@tapio/core';
import factory, { cgroupLimit, computeLimits, createDefaultConfig, MemoryLimiter, type MemoryReader } from '../src/index';

const MIB = 1024 * 1024;

conformance(factory);

const validConfigFor = (overrides: Record<string, unknown>): Record<string, unknown> => validConfig(factory, overrides);

/** A memory reader the test controls. */
class FakeMemory implements MemoryReader {
  usedBytes = 0;
  reads = 0;
  used(): number { this.reads++; return this.usedBytes; }
  total(): number { return 1000 * MIB; }
}

type StatusHost = ReturnType<typeof testHost> & { statuses: Map<string, { status: string }> };

function limiter(mem: FakeMemory, sink: SinkConsumer, gc?: () => void, opts: { nowMs?: () => number; softMs?: number; hardMs?: number } = {}): { m: MemoryLimiter; host: StatusHost } {
  const ctx = testContext('memory_limiter', 'processor');
  if (opts.nowMs) ctx.clock = { nowMs: opts.nowMs, nowNanos: () => opts.nowMs!() * 1e6 };
  const m = new MemoryLimiter(ctx, {
    checkIntervalMs: 60_000, limits: { hardBytes: 100 * MIB, softBytes: 80 * MIB }, reader: mem, gc,
    minGcIntervalSoftMs: opts.softMs, minGcIntervalHardMs: opts.hardMs,
  }, sink);
  return { m, host: testHost() as StatusHost };
}

describe('memory_limiter processor', () => {
  it('passes data while under the soft limit', async () => {
    const mem = new FakeMemory();
    mem.usedBytes = 50 * MIB;
    const sink = new SinkConsumer();
    const { m, host } = limiter(mem, sink);
    await m.start(host);
    await m.consume(testBatch(3));
    assert.equal(sink.events.length, 3);
    await m.shutdown();
  });

  it('refuses with a retryable error above the soft limit, and recovers by itself', async () => {
    const mem = new FakeMemory();
    const sink = new SinkConsumer();
    const { m, host } = limiter(mem, sink);
    await m.start(host);
    mem.usedBytes = 85 * MIB;
    assert.equal(m.check(), 'soft_limited');
    const err = await m.consume(testBatch(2)).then(() => undefined, (e: unknown) => e);
    assert.ok(isRetryable(err), 'receivers answer 503/UNAVAILABLE for a retryable error');
    assert.match((err as Error).message, /85 MiB is above the soft limit of 80 MiB/);
    assert.equal((err as RetryableError).retryAfterMs, 60_000);
    assert.equal(host.statuses.get('memory_limiter')?.status, 'recoverable_error');
    mem.usedBytes = 70 * MIB;
    assert.equal(m.check(), 'ok');
    await m.consume(testBatch(2));
    assert.equal(sink.events.length, 2, 'only data sent after recovery arrived');
    assert.equal(host.statuses.get('memory_limiter')?.status, 'ok');
    await m.shutdown();
  });

  it('forces a garbage collection above the hard limit and stops refusing when it freed enough', async () => {
    const mem = new FakeMemory();
    let gcs = 0;
    const { m, host } = limiter(mem, new SinkConsumer(), () => { gcs++; mem.usedBytes = 60 * MIB; });
    await m.start(host);
    mem.usedBytes = 120 * MIB;
    assert.equal(m.check(), 'ok', 'GC brought usage back under the soft limit');
    assert.equal(gcs, 1);
    mem.usedBytes = 90 * MIB;
    assert.equal(m.check(), 'soft_limited');
    assert.equal(gcs, 1, 'no GC between the soft and the hard limit');
    await m.shutdown();
  });

  it('above the soft limit forces a GC only once min_gc_interval_when_soft_limited passed; above the hard limit per min_gc_interval_when_hard_limited', async () => {
    const mem = new FakeMemory();
    let now = 0;
    let gcs = 0;
    const { m, host } = limiter(mem, new SinkConsumer(), () => { gcs++; }, { nowMs: () => now, softMs: 10_000, hardMs: 2_000 });
    await m.start(host);
    mem.usedBytes = 90 * MIB;
    now = 9_000;
    m.check();
    assert.equal(gcs, 0, 'soft-limited, but only 9s since the limiter was created');
    now = 10_000;
    m.check();
    assert.equal(gcs, 1, '10s passed: one GC');
    mem.usedBytes = 120 * MIB;
    now = 11_000;
    m.check();
    assert.equal(gcs, 1, 'hard-limited, but only 1s since the last GC');
    now = 12_000;
    m.check();
    assert.equal(gcs, 2);
    await m.shutdown();
  });

  it('accepts the Collector GC interval keys in config', () => {
    const v = validConfigFor({ min_gc_interval_when_soft_limited: '10s', min_gc_interval_when_hard_limited: '0s' });
    assert.equal(v.min_gc_interval_when_soft_limited, '10s');
  });

  it('stays hard-limited when a forced GC does not help', async () => {
    const mem = new FakeMemory();
    const { m, host } = limiter(mem, new SinkConsumer(), () => undefined);
    await m.start(host);
    mem.usedBytes = 150 * MIB;
    assert.equal(m.check(), 'hard_limited');
    await assert.rejects(m.consume(testBatch(1)), RetryableError);
    await m.shutdown();
  });

  it('measures periodically on its own (check_interval)', async () => {
    const mem = new FakeMemory();
    const m = new MemoryLimiter(testContext('memory_limiter', 'processor'), {
      checkIntervalMs: 5, limits: { hardBytes: 100 * MIB, softBytes: 80 * MIB }, reader: mem,
    }, new SinkConsumer());
    await m.start(testHost());
    mem.usedBytes = 90 * MIB;
    const end = Date.now() + 5000;
    while (m.state === 'ok' && Date.now() < end) await new Promise((r) => setTimeout(r, 5));
    assert.equal(m.state, 'soft_limited');
    await m.shutdown();
  });

  it('computes limits from MiB or from a percentage, with a 20 % spike by default', () => {
    assert.deepEqual(computeLimits({ ...createDefaultConfig(), limit_percentage: 0, limit_mib: 500 }, 0), { hardBytes: 500 * MIB, softBytes: 400 * MIB });
    assert.deepEqual(computeLimits({ ...createDefaultConfig(), limit_mib: 500, spike_limit_mib: 100 }, 0), { hardBytes: 500 * MIB, softBytes: 400 * MIB }, 'limit_mib wins over limit_percentage');
    assert.deepEqual(computeLimits({ ...createDefaultConfig(), limit_percentage: 75, spike_limit_percentage: 25 }, 1000 * MIB), { hardBytes: 750 * MIB, softBytes: 500 * MIB });
    assert.throws(() => computeLimits({ ...createDefaultConfig(), limit_percentage: 0 }, 0), /limit_mib or limit_percentage must be greater than zero/);
    assert.throws(() => computeLimits({ ...createDefaultConfig(), limit_percentage: 0, limit_mib: 100, spike_limit_mib: 100 }, 0), /spike_limit_mib \(100\) must be smaller than limit_mib \(100\)/);
  });

  it('reads the cgroup limit (v2, v1) and treats "max" as unlimited', () => {
    const files = (m: Record<string, string>) => (p: string): string => { if (p in m) return m[p]!; throw new Error('ENOENT'); };
    assert.equal(cgroupLimit(files({ '/sys/fs/cgroup/memory.max': '536870912\n' })), 536870912);
    assert.equal(cgroupLimit(files({ '/sys/fs/cgroup/memory.max': 'max\n' })), undefined);
    assert.equal(cgroupLimit(files({ '/sys/fs/cgroup/memory/memory.limit_in_bytes': '268435456' })), 268435456);
    assert.equal(cgroupLimit(files({ '/sys/fs/cgroup/memory/memory.limit_in_bytes': '9223372036854771712' })), undefined);
    assert.equal(cgroupLimit(files({})), undefined);
  });

  it('finds the limit of the process\'s own cgroup and its ancestors (nested v1 job, systemd MemoryMax on v2, a mount showing a subtree)', () => {
    const files = (m: Record<string, string>) => (p: string): string => { if (p in m) return m[p]!; throw new Error('ENOENT'); };
    const v1Mounts = '35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n';
    const v1 = { '/proc/self/cgroup': '4:memory:/jobs/42\n0::/\n', '/proc/self/mountinfo': v1Mounts, '/sys/fs/cgroup/memory/memory.limit_in_bytes': '9223372036854771712' };
    assert.equal(cgroupLimit(files({ ...v1, '/sys/fs/cgroup/memory/jobs/42/memory.limit_in_bytes': '536870912' })), 536870912, 'the nested cgroup\'s limit');
    assert.equal(cgroupLimit(files({ ...v1, '/sys/fs/cgroup/memory/jobs/42/memory.limit_in_bytes': '9223372036854771712', '/sys/fs/cgroup/memory/jobs/memory.limit_in_bytes': '268435456' })), 268435456, 'a smaller limit on an ancestor');
    const v2 = { '/proc/self/cgroup': '0::/system.slice/tapio.service\n', '/proc/self/mountinfo': '30 23 0:26 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n' };
    assert.equal(cgroupLimit(files({ ...v2, '/sys/fs/cgroup/system.slice/tapio.service/memory.max': '1073741824', '/sys/fs/cgroup/system.slice/memory.max': 'max' })), 1073741824);
    assert.equal(cgroupLimit(files({ ...v2, '/sys/fs/cgroup/system.slice/tapio.service/memory.max': 'max' })), undefined);
    // a container without a cgroup namespace: the mount's root is the container's cgroup
    const docker = { '/proc/self/cgroup': '9:memory:/docker/abc\n', '/proc/self/mountinfo': '50 40 0:40 /docker/abc /sys/fs/cgroup/memory ro - cgroup cgroup rw,memory\n', '/sys/fs/cgroup/memory/memory.limit_in_bytes': '104857600' };
    assert.equal(cgroupLimit(files(docker)), 104857600);
  });

  it('reads the real limit of a memory cgroup this process\'s child was put in (root; skipped elsewhere)', async function () {
    if (process.getuid?.() !== 0) { this.skip(); return; }
    let cg: MemoryCgroup;
    try { cg = createMemoryCgroup(`tapio-ml-test-${process.pid}/job`, 300 * MIB); } catch { this.skip(); return; }
    try {
      const script = `require('fs').writeFileSync(${JSON.stringify(cg.procsFile)}, String(process.pid)); console.log(require(${JSON.stringify(require.resolve('../src/memory'))}).cgroupLimit())`;
      const out = execFileSync(process.execPath, ['-e', script], { encoding: 'utf8' });
      assert.equal(Number(out.trim()), 300 * MIB);
    } finally { cg.remove(); }
  });

  it('in three pipelines is one limiter, as the Collector: one check and one forced GC, not three back to back; a restarted collector gets a fresh one', async () => {
    const yaml = `
receivers: { testpush/a: {}, testpush/b: {}, testpush/c: {} }
processors: { memory_limiter: { check_interval: 1h, limit_mib: 2, spike_limit_mib: 1 } }
exporters: { testsink/shared: {} }
service:
  telemetry: { metrics: { level: none } }
  pipelines:
    traces: { receivers: [testpush/a], processors: [memory_limiter], exporters: [testsink/shared] }
    metrics: { receivers: [testpush/b], processors: [memory_limiter], exporters: [testsink/shared] }
    logs: { receivers: [testpush/c], processors: [memory_limiter], exporters: [testsink/shared] }
`;
    const g = globalThis as { gc?: () => void };
    const realGc = g.gc;
    let forced = 0;
    g.gc = () => { forced++; }; // over the 2 MiB hard limit from the start: a GC at every check
    try {
      for (const round of [1, 2]) {
        forced = 0;
        const { config, issues } = resolveYaml(yaml, [testReceiverFactory, testSinkExporterFactory, factory]);
        assert.deepEqual(issues, []);
        const c = new Collector({ logger: createLogger('silent') });
        await c.start(config!);
        try {
          assert.equal(forced, 1, `round ${round}: the first pipeline to start checks (and forces a GC) for all three`);
          for (const [id, kind] of [['testpush/a', 'span'], ['testpush/b', 'metric'], ['testpush/c', 'log']] as const) {
            assert.ok(isRetryable(await testReceivers.get(id)!.push(testBatch(1, kind)).then(() => undefined, (e: unknown) => e)), `${id} refused`);
          }
        } finally {
          await c.shutdown();
        }
      }
    } finally {
      g.gc = realGc;
    }
  });

  it('in a running collector, refuses a receiver\'s data with a retryable error when the limit is exceeded', async () => {
    // 1 MiB is far below any real process RSS, so the limiter is over its limit from the start.
    const { config, issues } = resolveYaml(`
receivers: { testpush/ml: {} }
processors: { memory_limiter: { check_interval: 1s, limit_mib: 2, spike_limit_mib: 1 } }
exporters: { testsink/ml: {} }
service:
  telemetry: { metrics: { address: "localhost:0" } }
  pipelines: { logs: { receivers: [testpush/ml], processors: [memory_limiter], exporters: [testsink/ml] } }
`, [testReceiverFactory, testSinkExporterFactory, factory]);
    assert.deepEqual(issues, []);
    const c = new Collector({ logger: createLogger('silent') });
    await c.start(config!);
    try {
      const err = await testReceivers.get('testpush/ml')!.push(testBatch(5)).then(() => undefined, (e: unknown) => e);
      assert.ok(isRetryable(err), `expected a retryable refusal, got ${String(err)}`);
      assert.equal(testSinks.get('testsink/ml')!.events.length, 0);
      await new Promise((r) => setImmediate(r));
      assert.equal(c.components()['memory_limiter']?.status, 'recoverable_error');
      assert.match(c.components()['memory_limiter']?.error ?? '', /soft limit 1 MiB/);
    } finally {
      await c.shutdown();
    }
  });
});
