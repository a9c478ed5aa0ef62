import * as assert from 'node:assert/strict';
import { conformance, createComponent, SinkConsumer, testBatch, testContext, validConfig } from '@tapio/core/testing';
import { isPermanent, RetryableError, type Batch, type Consumer, type Processor } from '@tapio/core';
import factory, { BatchProcessor } from '../src/index';

conformance(factory);

async function batcher(overrides: Record<string, unknown>, next: Consumer): Promise<Processor> {
  const p = (await createComponent(factory, validConfig(factory, overrides), next)) as Processor;
  await p.start(undefined as never);
  return p;
}

/** A downstream that holds every batch until released, to observe back-pressure. */
class Gate implements Consumer {
  readonly batches: Batch[] = [];
  private releases: ((err?: Error) => void)[] = [];
  consume(batch: Batch): Promise<void> {
    this.batches.push(batch);
    return new Promise((resolve, reject) => this.releases.push((err) => (err ? reject(err) : resolve())));
  }
  release(err?: Error): void { for (const r of this.releases.splice(0)) r(err); }
}

const ids = (batches: Batch[]): string[] => batches.flatMap((b) => b.events.map((e) => e.id));

describe('batch processor', () => {
  it('sends as soon as send_batch_size events are buffered (everything buffered when no max size), in arrival order', async () => {
    const sink = new SinkConsumer();
    const p = await batcher({ send_batch_size: 10, timeout: '1h' }, sink);
    const input = [testBatch(4), testBatch(4), testBatch(4), testBatch(3)];
    const done = input.map((b) => p.consume(b));
    await Promise.all(done.slice(0, 3));
    assert.deepEqual(sink.batches.map((b) => b.events.length), [12], 'the size trigger fired without waiting for the timeout');
    await p.shutdown();
    await Promise.all(done);
    assert.deepEqual(ids(sink.batches), ids(input));
    assert.deepEqual(sink.batches.map((b) => b.events.length), [12, 3]);
  });

  it('sends a partial batch once the timeout expires', async () => {
    const sink = new SinkConsumer();
    const p = await batcher({ send_batch_size: 1000, timeout: '20ms', wait_for_result: true }, sink);
    await p.consume(testBatch(3));
    assert.equal(sink.events.length, 3);
    assert.equal(sink.batches.length, 1);
    await p.shutdown();
  });

  it('splits batches larger than send_batch_max_size', async () => {
    const sink = new SinkConsumer();
    const p = await batcher({ send_batch_size: 10, send_batch_max_size: 25, timeout: '1h' }, sink);
    const input = testBatch(60);
    await p.consume(input);
    await p.shutdown();
    assert.deepEqual(sink.batches.map((b) => b.events.length), [25, 25, 10]);
    assert.deepEqual(ids(sink.batches), ids([input]));
  });

  it('with timeout 0s sends every batch at once, still split by max size', async () => {
    const sink = new SinkConsumer();
    const p = await batcher({ send_batch_size: 5, send_batch_max_size: 5, timeout: '0s' }, sink);
    await p.consume(testBatch(12));
    assert.deepEqual(sink.batches.map((b) => b.events.length), [5, 5, 2]);
    await p.shutdown();
  });

  it('flushes what it holds on shutdown', async () => {
    const sink = new SinkConsumer();
    const p = await batcher({ send_batch_size: 100, timeout: '1h' }, sink);
    const pending = p.consume(testBatch(7));
    await p.shutdown();
    await pending;
    assert.equal(sink.events.length, 7);
  });

  it('wait_for_result: consume settles only once downstream accepted the events', async () => {
    const gate = new Gate();
    const p = await batcher({ send_batch_size: 5, timeout: '1h', wait_for_result: true }, gate);
    let settled = false;
    const pending = p.consume(testBatch(5)).then(() => { settled = true; });
    await new Promise((r) => setImmediate(r));
    assert.equal(gate.batches.length, 1, 'the batch went downstream');
    assert.equal(settled, false, 'the caller is still waiting for downstream');
    gate.release();
    await pending;
    assert.equal(settled, true);
    await p.shutdown();
  });

  it('wait_for_result: hands a downstream refusal back to every caller whose events were in the batch', async () => {
    const gate = new Gate();
    const p = await batcher({ send_batch_size: 6, timeout: '1h', wait_for_result: true }, gate);
    const a = p.consume(testBatch(3));
    const b = p.consume(testBatch(3));
    gate.release(new RetryableError('queue full'));
    await assert.rejects(a, RetryableError);
    await assert.rejects(b, RetryableError);
    await p.shutdown();
  });

  it('by default answers a caller once its events are buffered, as the Collector: one that sends a batch at a time (an SDK) is not held for the timeout', async () => {
    const gate = new Gate();
    const p = await batcher({ send_batch_size: 1000, timeout: '1h' }, gate);
    for (let i = 0; i < 10; i++) await p.consume(testBatch(5)); // with wait_for_result this would wait an hour
    assert.equal(gate.batches.length, 0, 'all 50 events still buffered: nothing was sent, every caller answered');
    const closing = p.shutdown();
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(gate.batches.map((b) => b.events.length), [50], 'shutdown flushed them in one batch');
    gate.release();
    await closing;
  });

  it('by default holds callers back while more than one send is outstanding downstream, and lets them go when one is accepted', async () => {
    const gate = new Gate();
    const p = await batcher({ send_batch_size: 2, timeout: '1h' }, gate);
    await p.consume(testBatch(2)); // one send outstanding: answered
    let settled = false;
    const second = p.consume(testBatch(2)).then(() => { settled = true; });
    await new Promise((r) => setImmediate(r));
    assert.equal(gate.batches.length, 2, 'both batches went downstream');
    assert.equal(settled, false, 'two sends outstanding: the caller waits (back-pressure)');
    gate.release();
    await second;
    assert.equal(settled, true);
    await p.shutdown();
  });

  it('by default counts and logs what downstream refuses after the callers were answered (never a silent drop)', async () => {
    const ctx = testContext('batch', 'processor');
    const counts = new Map<string, number>();
    ctx.telemetry = Object.create(ctx.telemetry, { counter: { value: (name: string) => (n: number) => counts.set(name, (counts.get(name) ?? 0) + n) } });
    const logged: unknown[] = [];
    ctx.logger = Object.create(ctx.logger, { error: { value: (...args: unknown[]) => logged.push(args) } });
    const gate = new Gate();
    const p = new BatchProcessor(ctx, { sendBatchSize: 3, timeoutMs: 3_600_000, maxSize: 0, metadataKeys: [], metadataCardinalityLimit: 0, waitForResult: false }, gate);
    await p.consume(testBatch(3));
    gate.release(new RetryableError('sending queue is full'));
    await p.shutdown();
    assert.equal(counts.get('tapio_processor_batch_dropped_events'), 3);
    assert.match(JSON.stringify(logged), /sending queue is full/);
  });

  it('with send_batch_size 0 sends every batch at once, split only by send_batch_max_size (as the Collector)', async () => {
    const sink = new SinkConsumer();
    const p = await batcher({ send_batch_size: 0, send_batch_max_size: 4, timeout: '1h' }, sink);
    await p.consume(testBatch(10));
    await p.consume(testBatch(2));
    assert.deepEqual(sink.batches.map((b) => b.events.length), [4, 4, 2, 2], 'nothing waited for the 1h timeout');
    await p.shutdown();
  });

  it('refuses a config whose max size is below the batch size, naming both keys', async () => {
    await assert.rejects(async () => createComponent(factory, validConfig(factory, { send_batch_size: 100, send_batch_max_size: 10 })), /send_batch_max_size \(10\).*send_batch_size \(100\)/);
  });

  it('refuses duplicate metadata_keys regardless of case', async () => {
    await assert.rejects(async () => createComponent(factory, validConfig(factory, { metadata_keys: ['Tenant', 'tenant'] })), /duplicate entry in metadata_keys: "tenant"/);
  });
});

const withMetadata = (n: number, metadata: Record<string, string[]>): Batch => ({ ...testBatch(n), metadata });

describe('batch processor with metadata_keys', () => {
  it('keeps one pending batch per tenant; each sent batch carries only the configured keys', async () => {
    const sink = new SinkConsumer();
    const p = await batcher({ send_batch_size: 4, timeout: '1h', metadata_keys: ['X-Tenant'] }, sink);
    const a1 = p.consume(withMetadata(2, { 'x-tenant': ['a'], authorization: ['Bearer secret'] }));
    const b1 = p.consume(withMetadata(3, { 'x-tenant': ['b'] }));
    const a2 = p.consume(withMetadata(2, { 'X-Tenant': ['a'] }));
    await a1; await a2;
    assert.equal(sink.batches.length, 1, 'tenant a reached send_batch_size; tenant b (3 events) did not, though 7 events arrived');
    assert.deepEqual(sink.batches[0]!.events.length, 4);
    assert.deepEqual(sink.batches[0]!.metadata, { 'x-tenant': ['a'] }, 'the authorization header is not passed on');
    await p.shutdown();
    await b1;
    assert.deepEqual(sink.batches.map((b) => b.metadata), [{ 'x-tenant': ['a'] }, { 'x-tenant': ['b'] }]);
  });

  it('runs a separate timer per combination', async () => {
    const sink = new SinkConsumer();
    const p = await batcher({ send_batch_size: 1000, timeout: '30ms', metadata_keys: ['tenant'], wait_for_result: true }, sink);
    const a = p.consume(withMetadata(1, { tenant: ['a'] }));
    await new Promise((r) => setTimeout(r, 15));
    const b = p.consume(withMetadata(1, { tenant: ['b'] }));
    await a;
    assert.deepEqual(sink.batches.map((x) => x.metadata?.tenant), [['a']], "a's timer fired; b, which arrived 15ms later, is still waiting");
    await b;
    assert.deepEqual(sink.batches.map((x) => x.metadata?.tenant), [['a'], ['b']]);
    await p.shutdown();
  });

  it('treats unset and empty values as different combinations', async () => {
    const sink = new SinkConsumer();
    const p = await batcher({ send_batch_size: 2, timeout: '1h', metadata_keys: ['tenant'] }, sink);
    const done = [p.consume(testBatch(1)), p.consume(withMetadata(1, { tenant: [''] }))];
    await new Promise((r) => setImmediate(r));
    assert.equal(sink.batches.length, 0, 'two events, but in two shards of one each');
    await p.shutdown();
    await Promise.all(done);
    assert.deepEqual(sink.batches.map((b) => b.metadata), [{}, { tenant: [''] }], 'the unset key stays unset downstream');
  });

  it('refuses a new combination past metadata_cardinality_limit with a permanent error, and keeps serving known ones', async () => {
    const sink = new SinkConsumer();
    const p = await batcher({ send_batch_size: 1, timeout: '1h', metadata_keys: ['tenant'], metadata_cardinality_limit: 2 }, sink);
    await p.consume(withMetadata(1, { tenant: ['a'] }));
    await p.consume(withMetadata(1, { tenant: ['b'] }));
    const refused = await p.consume(withMetadata(1, { tenant: ['c'] })).then(() => undefined, (e: unknown) => e);
    assert.ok(isPermanent(refused), 'permanent: retrying cannot help');
    assert.match(String(refused), /metadata_cardinality_limit \(2\)/);
    await p.consume(withMetadata(1, { tenant: ['a'] }));
    assert.equal(sink.events.length, 3);
    await p.shutdown();
  });
});

describe('batch processor without metadata_keys', () => {
  it('passes metadata on when every event of a sent batch came with the same, and drops it when they differ', async () => {
    const sink = new SinkConsumer();
    const p = await batcher({ send_batch_size: 4, timeout: '1h' }, sink);
    await Promise.all([p.consume(withMetadata(2, { tenant: ['a'] })), p.consume(withMetadata(2, { tenant: ['a'] }))]);
    await Promise.all([p.consume(withMetadata(2, { tenant: ['a'] })), p.consume(withMetadata(2, { tenant: ['b'] }))]);
    assert.deepEqual(sink.batches.map((b) => b.metadata), [{ tenant: ['a'] }, undefined]);
    await p.shutdown();
  });
});
