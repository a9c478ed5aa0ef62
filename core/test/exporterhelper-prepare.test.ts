import * as assert from 'node:assert/strict';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { createSendingExporter, PermanentError, RetryableError, type Batch, type PreparedBatch } from '../src/index';
import { testBatch } from '../src/testing/index';
import { ctxWith, FAST_RETRY, RecordingTelemetry, until } from './exporterhelper-fixtures';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** An exporter whose prepared sends wait until `open()`; it records what prepare saw and how often each part ran. */
function gatedExporter(t: RecordingTelemetry, queue: Record<string, unknown>) {
  let open!: () => void;
  const gate = new Promise<void>((r) => { open = r; });
  const seen = { prepared: 0, sends: 0, released: 0 };
  const e = createSendingExporter(ctxWith(t), {
    retry: FAST_RETRY,
    queue,
    prepare(batch: Batch): PreparedBatch {
      seen.prepared += batch.events.length;
      return { send: async () => { seen.sends++; await gate; }, release: () => { seen.released++; } };
    },
  });
  return { e, seen, open };
}

/** Consumes a fresh batch and returns only a WeakRef to its events (no strong reference stays here). */
async function consumeWeakly(consume: (b: Batch) => Promise<void>, n: number): Promise<WeakRef<object>> {
  const batch = testBatch(n);
  const ref = new WeakRef(batch.events);
  await consume(batch);
  return ref;
}

async function collected(ref: WeakRef<object>): Promise<boolean> {
  // a WeakRef's target stays alive until the current job ends; then a full GC may clear it
  await new Promise((r) => setImmediate(r));
  gc();
  return ref.deref() === undefined;
}

describe('exporter helper: prepare (encode once, let the events go)', () => {
  for (const [name, queue] of [
    ['an in-memory queue', { enabled: true, num_consumers: 1, queue_size: 10 }],
    ['a queue with batching', { enabled: true, num_consumers: 1, queue_size: 10, batch: { min_size: 1, flush_timeout: '1ms' } }],
  ] as const) {
    it(`${name}: a batch's events can be collected while its export waits for the answer`, async () => {
      const t = new RecordingTelemetry();
      const { e, seen, open } = gatedExporter(t, queue);
      await e.start({} as never);
      const ref = await consumeWeakly((b) => e.consume(b), 50);
      await until(() => seen.sends === 1, 'the export to start');
      assert.equal(seen.prepared, 50);
      assert.ok(await collected(ref), 'the events are still referenced while the export is in flight');
      open();
      await e.shutdown();
      assert.equal(t.get('tapio_exporter_sent_events'), 50);
      assert.equal(seen.released, 1);
    });
  }

  it('retries send what was prepared once, and release runs once after the last attempt', async () => {
    const t = new RecordingTelemetry();
    const attempts: unknown[] = [];
    let released = 0;
    const e = createSendingExporter(ctxWith(t), {
      retry: FAST_RETRY,
      prepare(batch) {
        const payload = { events: batch.events.length };
        return {
          async send() {
            attempts.push(payload);
            assert.equal(released, 0, 'released before the last attempt');
            if (attempts.length < 3) throw new RetryableError('busy');
          },
          release: () => { released++; },
        };
      },
    });
    await e.start({} as never);
    await e.consume(testBatch(7));
    assert.equal(attempts.length, 3);
    assert.ok(attempts.every((p) => p === attempts[0]), 'every attempt sends the one prepared payload');
    assert.equal(released, 1);
    assert.equal(t.get('tapio_exporter_sent_events'), 7);
  });

  it('a batch that cannot be prepared is dropped once as a permanent error and counted, not retried', async () => {
    const t = new RecordingTelemetry();
    let prepares = 0;
    const e = createSendingExporter(ctxWith(t), {
      retry: FAST_RETRY,
      prepare() { prepares++; throw new Error('cannot encode'); },
    });
    await e.start({} as never);
    await assert.rejects(e.consume(testBatch(4)), (err: unknown) => err instanceof PermanentError && /cannot encode/.test(String((err as Error).message)));
    assert.equal(prepares, 1);
    assert.equal(t.get('dropped:permanent_error'), 4);
  });

  it('an exporter with neither send nor prepare is a programming error at creation', () => {
    assert.throws(() => createSendingExporter(ctxWith(new RecordingTelemetry()), {}), /needs send or prepare/);
  });
});
