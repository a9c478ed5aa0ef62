import * as assert from 'node:assert/strict';
import { createSendingExporter, ErrorCodes, queueSettings, PermanentError, RetryableError, type Batch } from '../src/index';
import { testBatch, testHost } from '../src/testing/index';
import { ctxWith, Downstream, exporter, FAST_RETRY, MemoryStorage, RecordingTelemetry, storageExtension, until } from './exporterhelper-fixtures';

describe('exporter helper without a queue', () => {
  it('retries a failing downstream with backoff and delivers once it recovers', async () => {
    const t = new RecordingTelemetry();
    const d = new Downstream();
    d.up = false;
    const e = exporter(t, d, {});
    const pending = e.consume(testBatch(4));
    await until(() => d.attempts >= 3, 'three failed attempts');
    d.up = true;
    await pending;
    assert.equal(d.events(), 4);
    assert.equal(t.get('tapio_exporter_sent_events'), 4);
    assert.ok(t.get('tapio_exporter_send_failed_events') >= 12);
    await e.shutdown();
  });

  it('drops and counts a batch the downstream rejects permanently, without retrying', async () => {
    const t = new RecordingTelemetry();
    let attempts = 0;
    const e = createSendingExporter(ctxWith(t), { send: async () => { attempts++; throw new PermanentError('bad data'); }, retry: FAST_RETRY });
    await assert.rejects(e.consume(testBatch(3)), PermanentError);
    assert.equal(attempts, 1);
    assert.equal(t.get('dropped:permanent_error'), 3);
  });

  it('gives up after max_elapsed_time and counts the drop', async () => {
    const t = new RecordingTelemetry();
    const d = new Downstream();
    d.up = false;
    const e = exporter(t, d, { retry: { ...FAST_RETRY, max_elapsed_time: '50ms' } });
    await assert.rejects(e.consume(testBatch(2)), /retries_exhausted/);
    assert.equal(t.get('dropped:retries_exhausted'), 2);
    assert.ok(d.attempts >= 2, 'it retried before giving up');
  });

  it('aborts an attempt that exceeds the per-attempt timeout and retries it', async () => {
    const t = new RecordingTelemetry();
    const d = new Downstream();
    d.hang = true;
    const e = exporter(t, d, { timeoutMs: 20 });
    const pending = e.consume(testBatch(1));
    await until(() => d.attempts >= 2, 'a second attempt');
    assert.equal(d.signals[0]!.aborted, true, 'the timed-out attempt was told to stop');
    d.hang = false;
    await pending;
    assert.equal(d.events(), 1);
  });
});

describe('exporter helper with a sending queue', () => {
  it('accepts the Collector\'s newer block_on_overflow as well as blocking', () => {
    assert.equal(queueSettings({ block_on_overflow: true }).blocking, true);
    assert.equal(queueSettings({ blocking: true, block_on_overflow: false }).blocking, true);
    assert.equal(queueSettings({}).blocking, false);
  });

  it('resolves consume once queued and delivers with several consumers', async () => {
    const t = new RecordingTelemetry();
    const d = new Downstream();
    const e = exporter(t, d, { queue: { num_consumers: 3, queue_size: 50 } });
    await e.start(testHost());
    for (let i = 0; i < 20; i++) await e.consume(testBatch(5));
    await until(() => d.events() === 100, 'all events delivered');
    assert.equal(t.gauges.get('tapio_exporter_queue_capacity')!(), 50);
    await e.shutdown();
    assert.equal(t.get('tapio_exporter_sent_events'), 100);
  });

  it('refuses with a retryable QUEUE_FULL error when full (never drops), counting the refusal', async () => {
    const t = new RecordingTelemetry();
    const d = new Downstream();
    d.up = false;
    const e = exporter(t, d, { queue: { num_consumers: 1, queue_size: 2, blocking: false } });
    await e.start(testHost());
    // One batch in flight (retrying), two queued: the fourth is refused.
    await e.consume(testBatch(1));
    await until(() => d.attempts >= 1, 'the consumer picked up the first batch');
    await e.consume(testBatch(1));
    await e.consume(testBatch(1));
    assert.equal(t.gauges.get('tapio_exporter_queue_size')!(), 2);
    const err = await e.consume(testBatch(7)).then(() => undefined, (x: unknown) => x);
    assert.ok(err instanceof RetryableError, 'refused with a retryable error');
    assert.equal(err.code, ErrorCodes.QUEUE_FULL);
    assert.equal(t.get('tapio_exporter_enqueue_failed_events'), 7);
    d.up = true;
    await until(() => d.events() === 3, 'the accepted batches delivered after recovery');
    await e.shutdown();
    assert.equal(t.get('dropped:shutdown') + t.get('dropped:retries_exhausted'), 0);
  });

  it('blocks the caller while full when blocking is set (back-pressure)', async () => {
    const t = new RecordingTelemetry();
    const d = new Downstream();
    d.up = false;
    const e = exporter(t, d, { queue: { num_consumers: 1, queue_size: 1, blocking: true } });
    await e.start(testHost());
    await e.consume(testBatch(1));
    await until(() => d.attempts >= 1, 'in flight');
    await e.consume(testBatch(1));
    let resolved = false;
    const blocked = e.consume(testBatch(1)).then(() => { resolved = true; });
    await new Promise((r) => setTimeout(r, 30));
    assert.equal(resolved, false, 'the third consume waits for room');
    d.up = true;
    await blocked;
    await until(() => d.events() === 3, 'all three delivered');
    await e.shutdown();
  });

  it('refuses new data once shutting down, and drains what is queued', async () => {
    const t = new RecordingTelemetry();
    const d = new Downstream();
    const e = exporter(t, d, { queue: { num_consumers: 2, queue_size: 100 } });
    await e.start(testHost());
    for (let i = 0; i < 10; i++) await e.consume(testBatch(2));
    await e.shutdown();
    assert.equal(d.events(), 20);
    await assert.rejects(e.consume(testBatch(1)), (err: unknown) => err instanceof RetryableError && err.code === ErrorCodes.SHUTTING_DOWN);
  });

  it('in memory: counts what it cannot deliver within drain_timeout as dropped at shutdown', async () => {
    const t = new RecordingTelemetry();
    const d = new Downstream();
    d.up = false;
    const e = exporter(t, d, { queue: { num_consumers: 1, queue_size: 10, drain_timeout: '50ms' } });
    await e.start(testHost());
    for (let i = 0; i < 3; i++) await e.consume(testBatch(2));
    await e.shutdown();
    assert.equal(t.get('dropped:shutdown'), 6);
  });

  it('persistent: keeps undelivered batches in storage across a restart and redelivers them', async () => {
    const data = new Map<string, Buffer>();
    const host = testHost({ 'file_storage/q': storageExtension(data) });
    const t1 = new RecordingTelemetry();
    const d = new Downstream();
    d.up = false;
    const queue = { num_consumers: 2, queue_size: 100, storage: 'file_storage/q', drain_timeout: '30ms' };
    const e1 = exporter(t1, d, { queue });
    await e1.start(host);
    const sentIds: string[] = [];
    for (let i = 0; i < 5; i++) {
      // client metadata (include_metadata) travels with the persisted batch
      const b: Batch = { ...testBatch(3), metadata: { 'x-tenant': [`t${i}`], 'x-multi': ['a', 'b'] } };
      sentIds.push(...b.events.map((x) => x.id));
      await e1.consume(b);
    }
    assert.equal(data.size, 5, 'every acknowledged batch is persisted before consume resolves');
    await e1.shutdown();
    assert.equal(t1.get('dropped:shutdown'), 0, 'nothing is dropped: it stays persisted');
    assert.equal(data.size, 5);

    d.up = true;
    const t2 = new RecordingTelemetry();
    const e2 = exporter(t2, d, { queue });
    await e2.start(host);
    await until(() => d.events() === 15, 'redelivery after restart');
    await e2.shutdown();
    assert.deepEqual(d.received.flatMap((b) => b.events.map((x) => x.id)).sort(), [...sentIds].sort());
    assert.equal(t2.get('tapio_exporter_queue_redelivered_events'), 15);
    assert.deepEqual(d.received.map((b) => b.metadata?.['x-tenant']?.[0]).sort(), ['t0', 't1', 't2', 't3', 't4'], 'each redelivered batch keeps its client metadata');
    assert.ok(d.received.every((b) => b.metadata?.['x-multi']?.join() === 'a,b'));
    assert.equal(data.size, 0, 'delivered batches are removed from storage');
  });

  it('persistent: a backlog beyond the in-memory window is read back from storage, in full', async () => {
    const data = new Map<string, Buffer>();
    const t = new RecordingTelemetry();
    const d = new Downstream();
    d.up = false;
    const e = exporter(t, d, { queue: { num_consumers: 2, queue_size: 1000, storage: 'file_storage/q' } });
    await e.start(testHost({ 'file_storage/q': storageExtension(data) }));
    MemoryStorage.reads = 0;
    const ids: string[] = [];
    for (let i = 0; i < 400; i++) { const b = testBatch(2); ids.push(...b.events.map((x) => x.id)); await e.consume(b); }
    d.up = true;
    await until(() => d.events() === 800, 'the whole backlog delivered');
    await e.shutdown();
    assert.deepEqual(d.received.flatMap((b) => b.events.map((x) => x.id)).sort(), ids.sort());
    assert.ok(MemoryStorage.reads >= 100, `most of the backlog came from storage (${MemoryStorage.reads} reads)`);
    assert.equal(data.size, 0);
  });

  it('persistent: fails to start with a clear error when the storage extension is missing', async () => {
    const e = exporter(new RecordingTelemetry(), new Downstream(), { queue: { storage: 'file_storage/nope' } });
    await assert.rejects(e.start(testHost()), /no extension "file_storage\/nope"/);
    await e.shutdown();
  });

  it('persistent: drops and counts a corrupt record instead of crashing', async () => {
    const data = new Map<string, Buffer>([['q/0000000000000000', Buffer.from([0xff, 0xff, 0xff, 0x0f, 0x01])]]);
    const t = new RecordingTelemetry();
    const d = new Downstream();
    const e = exporter(t, d, { queue: { storage: 'file_storage/q' } });
    await e.start(testHost({ 'file_storage/q': storageExtension(data) }));
    await until(() => t.get('dropped:corrupt_queue_record') === 1, 'the corrupt record to be counted');
    await e.consume(testBatch(2));
    await until(() => d.events() === 2, 'later data still flows');
    await e.shutdown();
    assert.equal(data.size, 0);
  });
});
