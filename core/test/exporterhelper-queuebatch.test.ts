import * as assert from 'node:assert/strict';
import { ErrorCodes, PermanentError, RetryableError, type Batch } from '../src/index';
import { testBatch, testHost } from '../src/testing/index';
import { compileSchema } from '../src/config/ajv';
import { BATCHER_SCHEMA, QUEUE_SCHEMA, RETRY_SCHEMA, queueConfigIssues, retrySettings } from '../src/exporterhelper/settings';
import { jitteredWait, nextInterval, sendWithRetry } from '../src/exporterhelper/retry';
import { encodeBatch } from '../src/event/codec';
import { Downstream, exporter, FAST_RETRY, RecordingTelemetry, storageExtension, until } from './exporterhelper-fixtures';

const tick = (ms = 30): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('sending_queue.sizer', () => {
  it('items: a blocking queue of queue_size 1000 holds at most 1000 events', async () => {
    const t = new RecordingTelemetry();
    const d = new Downstream();
    d.up = false;
    const e = exporter(t, d, { queue: { sizer: 'items', queue_size: 1000, num_consumers: 1, blocking: true } });
    await e.start(testHost());
    await e.consume(testBatch(10)); // taken by the consumer, retrying: no longer counted
    await until(() => d.attempts >= 1, 'the first batch in flight');
    for (let i = 0; i < 3; i++) await e.consume(testBatch(300));
    let resolved = false;
    const blocked = e.consume(testBatch(200)).then(() => { resolved = true; });
    await tick();
    assert.equal(resolved, false, '900 + 200 events would exceed 1000: the caller waits');
    assert.equal(t.gauges.get('tapio_exporter_queue_size')!(), 900);
    d.up = true;
    await blocked;
    await until(() => d.events() === 1110, 'everything delivered');
    await e.shutdown();
  });

  it('items: refuses (QUEUE_FULL) a batch that does not fit any more; a batch larger than the whole queue permanently', async () => {
    const t = new RecordingTelemetry();
    const d = new Downstream();
    d.up = false;
    const e = exporter(t, d, { queue: { sizer: 'items', queue_size: 100, num_consumers: 1 } });
    await e.start(testHost());
    await e.consume(testBatch(1));
    await until(() => d.attempts >= 1, 'in flight');
    await e.consume(testBatch(60));
    const full = await e.consume(testBatch(41)).then(() => undefined, (x: unknown) => x);
    assert.ok(full instanceof RetryableError && full.code === ErrorCodes.QUEUE_FULL);
    await e.consume(testBatch(40)); // exactly fills it
    await assert.rejects(e.consume(testBatch(101)), PermanentError);
    d.up = true;
    await until(() => d.events() === 101, 'accepted data delivered');
    await e.shutdown();
  });

  it('bytes: queue_size counts the bytes of the encoded batch', async () => {
    const d = new Downstream();
    d.up = false;
    const one = testBatch(5);
    const size = encodeBatch(one).length;
    const t = new RecordingTelemetry();
    const e = exporter(t, d, { queue: { sizer: 'bytes', queue_size: size * 2 + size / 2, num_consumers: 1 } });
    await e.start(testHost());
    await e.consume(testBatch(1));
    await until(() => d.attempts >= 1, 'in flight');
    await e.consume(one);
    await e.consume(testBatch(5));
    assert.ok(Math.abs(t.gauges.get('tapio_exporter_queue_size')!() - 2 * size) < 10);
    await assert.rejects(e.consume(testBatch(5)), (x: unknown) => x instanceof RetryableError && x.code === ErrorCodes.QUEUE_FULL);
    d.up = true;
    await until(() => d.events() === 11, 'delivered');
    await e.shutdown();
  });

  it('items with a persistent queue: recovered batches count their events after a restart', async () => {
    const data = new Map<string, Buffer>();
    const host = testHost({ 'file_storage/q': storageExtension(data) });
    const queue = { sizer: 'items' as const, queue_size: 50, num_consumers: 1, storage: 'file_storage/q', drain_timeout: '20ms' };
    const d = new Downstream();
    d.up = false;
    const e1 = exporter(new RecordingTelemetry(), d, { queue });
    await e1.start(host);
    await e1.consume(testBatch(1));
    await until(() => d.attempts >= 1, 'in flight');
    await e1.consume(testBatch(20));
    await e1.consume(testBatch(20));
    await e1.shutdown();
    const t2 = new RecordingTelemetry();
    const d2 = new Downstream();
    d2.hang = true; // the consumer holds the first recovered batch; the rest stays queued
    const e2 = exporter(t2, d2, { queue });
    await e2.start(host);
    await until(() => d2.attempts >= 1, 'the first recovered batch in flight');
    assert.equal(t2.gauges.get('tapio_exporter_queue_size')!(), 40, 'two recovered batches of 20 events');
    await assert.rejects(e2.consume(testBatch(11)), (x: unknown) => x instanceof RetryableError && x.code === ErrorCodes.QUEUE_FULL);
    await e2.consume(testBatch(10));
    await e2.shutdown();
  });
});

describe('sending_queue.wait_for_result', () => {
  it('consume() resolves only once the data was exported', async () => {
    const d = new Downstream();
    d.up = false;
    const e = exporter(new RecordingTelemetry(), d, { queue: { wait_for_result: true, num_consumers: 2 } });
    await e.start(testHost());
    let resolved = false;
    const pending = e.consume(testBatch(3)).then(() => { resolved = true; });
    await until(() => d.attempts >= 2, 'retries');
    assert.equal(resolved, false, 'not acknowledged while the export fails');
    d.up = true;
    await pending;
    assert.equal(d.events(), 3);
    await e.shutdown();
  });

  it('consume() rejects with the error when the export finally fails, and the drop is counted', async () => {
    const t = new RecordingTelemetry();
    const e = exporter(t, new Downstream(), {
      send: async () => { throw new PermanentError('400 bad data'); },
      queue: { wait_for_result: true },
    });
    await e.start(testHost());
    await assert.rejects(e.consume(testBatch(2)), /400 bad data/);
    assert.equal(t.get('dropped:permanent_error'), 2);
    const d = new Downstream();
    d.up = false;
    const e2 = exporter(t, d, { retry: { ...FAST_RETRY, max_elapsed_time: '50ms' }, queue: { wait_for_result: true } });
    await e2.start(testHost());
    await assert.rejects(e2.consume(testBatch(1)), (x: unknown) => x instanceof PermanentError && /retries_exhausted/.test(x.message));
    await e.shutdown();
    await e2.shutdown();
  });

  it('without it, consume() resolves once queued although the export keeps failing', async () => {
    const d = new Downstream();
    d.up = false;
    const e = exporter(new RecordingTelemetry(), d, { queue: {} });
    await e.start(testHost());
    await e.consume(testBatch(1));
    d.up = true;
    await e.shutdown();
  });
});

describe('sending_queue.batch', () => {
  it('10 small requests leave as 1 export once min_size is reached', async () => {
    const d = new Downstream();
    const e = exporter(new RecordingTelemetry(), d, { queue: { batch: { min_size: 10, flush_timeout: '10s' } } });
    await e.start(testHost());
    const ids: string[] = [];
    for (let i = 0; i < 10; i++) { const b = testBatch(1); ids.push(b.events[0]!.id); await e.consume(b); }
    await until(() => d.events() === 10, 'the merged batch');
    assert.equal(d.received.length, 1);
    assert.deepEqual(d.received[0]!.events.map((x) => x.id), ids, 'in the order they were queued');
    await e.shutdown();
  });

  it('a batch below min_size leaves after flush_timeout', async () => {
    const d = new Downstream();
    const e = exporter(new RecordingTelemetry(), d, { queue: { batch: { min_size: 1000, flush_timeout: '50ms' } } });
    await e.start(testHost());
    for (let i = 0; i < 3; i++) await e.consume(testBatch(2));
    await tick(5);
    assert.equal(d.received.length, 0, 'held for flush_timeout');
    await until(() => d.events() === 6, 'the timed flush');
    assert.equal(d.received.length, 1);
    await e.shutdown();
  });

  it('max_size splits: 25 events with max_size 10 leave as 10 + 10 + 5, in order', async () => {
    const d = new Downstream();
    const e = exporter(new RecordingTelemetry(), d, { queue: { num_consumers: 1, batch: { min_size: 10, max_size: 10, flush_timeout: '30ms' } } });
    await e.start(testHost());
    const b = testBatch(25);
    await e.consume(b);
    await until(() => d.events() === 25, 'all pieces');
    assert.deepEqual(d.received.map((x) => x.events.length), [10, 10, 5]);
    assert.deepEqual(d.received.flatMap((x) => x.events.map((ev) => ev.id)), b.events.map((ev) => ev.id));
    await e.shutdown();
  });

  it('bytes sizer: no export exceeds max_size bytes', async () => {
    const d = new Downstream();
    const per = encodeBatch(testBatch(1)).length;
    const e = exporter(new RecordingTelemetry(), d, { queue: { num_consumers: 1, batch: { sizer: 'bytes', min_size: per * 4, max_size: per * 4 + per / 2, flush_timeout: '30ms' } } });
    await e.start(testHost());
    for (let i = 0; i < 5; i++) await e.consume(testBatch(3));
    await until(() => d.events() === 15, 'all');
    for (const b of d.received) assert.ok(encodeBatch(b).length <= per * 4 + per / 2 + 8, `an export of ${encodeBatch(b).length} bytes`);
    assert.ok(d.received.length < 5, 'requests were merged');
    await e.shutdown();
  });

  it('wait_for_result with batch: each caller learns the result of the export its data went into', async () => {
    const d = new Downstream();
    d.up = false;
    const e = exporter(new RecordingTelemetry(), d, { queue: { wait_for_result: true, batch: { min_size: 6, flush_timeout: '10s' } } });
    await e.start(testHost());
    let settled = 0;
    const calls = [1, 2, 3].map(() => e.consume(testBatch(2)).then(() => { settled++; }));
    await until(() => d.attempts >= 2, 'the merged batch is retried');
    assert.equal(settled, 0);
    d.up = true;
    await Promise.all(calls);
    assert.equal(d.events(), 6);
    await e.shutdown();
  });

  it('persistent queue with batch: stored batches are removed only after their merged export succeeded', async () => {
    const data = new Map<string, Buffer>();
    const d = new Downstream();
    d.up = false;
    const e = exporter(new RecordingTelemetry(), d, { queue: { storage: 'file_storage/q', batch: { min_size: 6, flush_timeout: '10s' } } });
    await e.start(testHost({ 'file_storage/q': storageExtension(data) }));
    for (let i = 0; i < 3; i++) await e.consume(testBatch(2));
    await until(() => d.attempts >= 2, 'the merged export failing');
    assert.equal(data.size, 3, 'still stored while undelivered');
    d.up = true;
    await until(() => d.events() === 6 && data.size === 0, 'delivered and removed');
    assert.equal(d.received.length, 1);
    await e.shutdown();
  });

  it('shutdown flushes what the batcher holds without waiting for flush_timeout', async () => {
    const d = new Downstream();
    const e = exporter(new RecordingTelemetry(), d, { queue: { batch: { min_size: 1000, flush_timeout: '1h' } } });
    await e.start(testHost());
    await e.consume(testBatch(3));
    await e.shutdown();
    assert.equal(d.events(), 3);
  });

  it('keeps batches with different client metadata apart', async () => {
    const d = new Downstream();
    const e = exporter(new RecordingTelemetry(), d, { queue: { num_consumers: 1, batch: { min_size: 100, flush_timeout: '20ms' } } });
    await e.start(testHost());
    const withMeta = (tenant: string): Batch => ({ ...testBatch(1), metadata: { 'x-tenant': [tenant] } });
    await e.consume(withMeta('a'));
    await e.consume(withMeta('a'));
    await e.consume(withMeta('b'));
    await until(() => d.events() === 3, 'all');
    assert.deepEqual(d.received.map((b) => [b.events.length, b.metadata?.['x-tenant']?.[0]]), [[2, 'a'], [1, 'b']]);
    await e.shutdown();
  });

  it('the pre-0.130 `batcher` section is applied as sending_queue.batch', async () => {
    const d = new Downstream();
    const e = exporter(new RecordingTelemetry(), d, { queue: {}, batcher: { enabled: true, min_size_items: 5, flush_timeout: '10s' } });
    await e.start(testHost());
    for (let i = 0; i < 5; i++) await e.consume(testBatch(1));
    await until(() => d.events() === 5, 'merged');
    assert.equal(d.received.length, 1);
    await e.shutdown();
  });
});

describe('queue and retry settings as in the Collector', () => {
  const validQueue = compileSchema({ type: 'object', properties: { q: QUEUE_SCHEMA, b: BATCHER_SCHEMA, r: RETRY_SCHEMA } });

  it('accepts the Collector v0.123–v0.130 keys and rejects a requests batch sizer', () => {
    assert.equal(validQueue({ q: { sizer: 'items', wait_for_result: true, batch: { flush_timeout: '1s', min_size: 10, max_size: 20, sizer: 'bytes' } } }), true);
    assert.equal(validQueue({ q: { sizer: 'requests' } }), true);
    assert.equal(validQueue({ q: { sizer: 'spans' } }), false);
    assert.equal(validQueue({ q: { batch: { sizer: 'requests' } } }), false);
    assert.equal(validQueue({ b: { enabled: true, min_size_items: 10, max_size_items: 20, sizer: 'items', min_size: 1, max_size: 2 } }), true);
    assert.equal(validQueue({ r: { multiplier: 0 } }), true);
    assert.equal(validQueue({ r: { multiplier: -1 } }), false);
  });

  it('reports the Collector\'s cross-field rules, and the exporter refuses to start with them broken', () => {
    assert.deepEqual(queueConfigIssues({ batch: { min_size: 20, max_size: 10 } }).map((i) => i.path.join('.')), ['sending_queue.batch.max_size']);
    assert.deepEqual(queueConfigIssues({ sizer: 'items', queue_size: 10, batch: { min_size: 20 } }).map((i) => i.path.join('.')), ['sending_queue.batch.min_size']);
    assert.deepEqual(queueConfigIssues({ batch: { flush_timeout: '0s' } }).map((i) => i.path.join('.')), ['sending_queue.batch.flush_timeout']);
    assert.deepEqual(queueConfigIssues({ batch: {} }), []);
    assert.throws(() => exporter(new RecordingTelemetry(), new Downstream(), { queue: { batch: { min_size: 20, max_size: 10 } } }), /max_size: must be greater than or equal to min_size/);
  });

  it('multiplier below 1 shrinks the retry interval but never to zero, negative or NaN', () => {
    const r0 = retrySettings({ multiplier: 0, initial_interval: '5s', max_interval: '30s' });
    assert.equal(nextInterval(5000, r0), 100);
    assert.equal(nextInterval(100, r0), 100);
    const half = retrySettings({ multiplier: 0.5, initial_interval: '50ms' });
    assert.equal(nextInterval(50, half), 50, 'never below initial_interval when that is under 100ms');
    assert.equal(nextInterval(4000, retrySettings({ multiplier: 0.5 })), 2000);
    assert.equal(nextInterval(20000, retrySettings({ multiplier: 2 })), 30000);
    for (const m of [0, 0.3, 1, 1.5, 10]) {
      let i = 5000;
      for (let k = 0; k < 50; k++) { i = nextInterval(i, retrySettings({ multiplier: m })); assert.ok(Number.isFinite(i) && i > 0); }
    }
  });

  it('jitters around the capped interval as the Collector does: steady-state waits spread over max_interval × (1 ± randomization_factor)', () => {
    const r = retrySettings({}); // 5s, × 1.5, ± 0.5, max 30s
    assert.equal(jitteredWait(30000, 0.5, () => 0), 15000);
    assert.equal(jitteredWait(30000, 0.5, () => 0.5), 30000);
    assert.ok(jitteredWait(30000, 0.5, () => 0.999) > 44900, 'a draw near 1 waits up to max_interval × 1.5');
    assert.equal(jitteredWait(30000, 0, () => 0.9), 30000, 'randomization_factor 0: no jitter');
    let seed = 42; // a fixed LCG: the same draws on every run
    const random = (): number => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    let interval = r.initialIntervalMs;
    const waits: number[] = [];
    for (let k = 0; k < 2000; k++) {
      assert.ok(interval <= r.maxIntervalMs, 'the un-jittered interval never exceeds max_interval');
      if (k >= 10) waits.push(jitteredWait(interval, r.randomizationFactor, random));
      interval = nextInterval(interval, r);
    }
    assert.ok(waits.every((w) => w >= 15000 && w < 45000), 'every steady-state wait in [15s, 45s)');
    const above = waits.filter((w) => w > r.maxIntervalMs).length;
    assert.ok(above > 800 && above < 1200, `about half the waits above max_interval (got ${above} of ${waits.length})`);
    assert.ok(Math.max(...waits) > 44000, 'the spread reaches max_interval × (1 + randomization_factor)');
    assert.ok(waits.filter((w) => w === r.maxIntervalMs).length < 5, 'not pinned at max_interval');
  });

  it('sendWithRetry waits the jittered capped interval, above max_interval when the draw is high, and honours a longer Retry-After', async () => {
    const r = retrySettings({ initial_interval: '2ms', multiplier: 2, max_interval: '8ms', randomization_factor: 0.5, max_elapsed_time: '0s' });
    const draws = [0.99, 0, 0.99, 0, 0.99, 0, 0.99, 0];
    const waits: number[] = [];
    let failures = 0;
    const send = async (): Promise<void> => {
      failures++;
      if (failures === 1) throw new RetryableError('slow down', { retryAfterMs: 20 });
      if (failures <= draws.length) throw new RetryableError('down');
    };
    await sendWithRetry(send, testBatch(1), r, 0, new AbortController().signal, {
      onFailedAttempt: (_err, waitMs) => { waits.push(waitMs); },
      random: () => draws[waits.length]!,
    });
    // Intervals 2, 4, 8, 8, …: the wait is interval × (0.5 + draw); the first is lengthened to the 20ms hint.
    const expected = [20, 4 * 0.5, 8 * 1.49, 8 * 0.5, 8 * 1.49, 8 * 0.5, 8 * 1.49, 8 * 0.5];
    assert.equal(waits.length, expected.length);
    waits.forEach((w, i) => assert.ok(Math.abs(w - expected[i]!) < 1e-9, `wait ${i}: ${w} ms, expected ${expected[i]} ms`));
    assert.ok(waits.some((w) => w > r.maxIntervalMs), 'jitter is not clamped to max_interval');
  });

  it('multiplier 0 still retries with a wait, and delivers once the downstream recovers', async () => {
    const d = new Downstream();
    d.up = false;
    const e = exporter(new RecordingTelemetry(), d, { retry: { ...FAST_RETRY, multiplier: 0 } });
    const pending = e.consume(testBatch(1));
    await until(() => d.attempts >= 3, 'retries');
    d.up = true;
    await pending;
    assert.equal(d.events(), 1);
    await e.shutdown();
  });
});
