import * as assert from 'node:assert/strict';
import { conformance, createComponent, SinkConsumer, testBatch, validConfig } from '@tapio/core/testing';
import { RetryableError, type Batch, type Consumer, type Processor } from '@tapio/core';
import factory from '../src/index';

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
    const p = await batcher({ send_batch_size: 1000, timeout: '20ms' }, sink);
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

  it('propagates back-pressure: consume settles only once downstream accepted the events', async () => {
    const gate = new Gate();
    const p = await batcher({ send_batch_size: 5, timeout: '1h' }, gate);
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

  it('hands a downstream refusal back to every caller whose events were in the batch', async () => {
    const gate = new Gate();
    const p = await batcher({ send_batch_size: 6, timeout: '1h' }, gate);
    const a = p.consume(testBatch(3));
    const b = p.consume(testBatch(3));
    gate.release(new RetryableError('queue full'));
    await assert.rejects(a, RetryableError);
    await assert.rejects(b, RetryableError);
    await p.shutdown();
  });

  it('refuses a config whose max size is below the batch size, naming both keys', async () => {
    await assert.rejects(async () => createComponent(factory, validConfig(factory, { send_batch_size: 100, send_batch_max_size: 10 })), /send_batch_max_size \(10\).*send_batch_size \(100\)/);
  });
});
