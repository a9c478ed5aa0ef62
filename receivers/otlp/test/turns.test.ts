import * as assert from 'node:assert/strict';
import { testBatch, testContext } from '@tapio/core/testing';
import { ExportHandler } from '../src/handler';
import { encodeTraces } from '../src/index';
import { endTurn, nextTurn, TURN_BUDGET_MS } from '../src/turns';

/** Holds the turn this long (a decode of that size). */
function busy(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) { /* spin */ }
}

describe('nextTurn / endTurn: decode turns in order, other callbacks in between', () => {
  it('grants waiters first come first served; once a turn used its budget, other callbacks run before the next grant', async () => {
    const order: string[] = [];
    const waiters = [1, 2, 3].map((i) => nextTurn().then(() => {
      order.push(`turn ${i}`);
      if (i === 1) setImmediate(() => order.push('other work'));
      busy(TURN_BUDGET_MS + 1);
      endTurn();
    }));
    await Promise.all(waiters);
    assert.deepEqual(order, ['turn 1', 'other work', 'turn 2', 'turn 3']);
  });

  it('grants short waiters within one turn while its budget lasts', async () => {
    const order: string[] = [];
    const waiters = [1, 2, 3].map((i) => nextTurn().then(() => {
      order.push(`turn ${i}`);
      if (i === 1) setImmediate(() => order.push('other work'));
      endTurn();
    }));
    await Promise.all(waiters);
    assert.deepEqual(order, ['turn 1', 'turn 2', 'turn 3'], 'the three short holders share one turn');
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(order, ['turn 1', 'turn 2', 'turn 3', 'other work']);
  });

  it('keeps granting, in order, after the queue ran empty', async () => {
    await nextTurn();
    endTurn();
    const order: number[] = [];
    await Promise.all([1, 2].map((i) => nextTurn().then(() => { order.push(i); endTurn(); })));
    assert.deepEqual(order, [1, 2]);
  });
});

describe('the receiver gives its decode turn back on every way out', () => {
  it('a malformed request, a refused hand-over and a good request in a row are all answered', async () => {
    let refuse = true;
    const seen: number[] = [];
    const next = { consume: (b: { events: unknown[] }) => { if (refuse) { refuse = false; throw new Error('pipeline refused synchronously'); } seen.push(b.events.length); return Promise.resolve(); } };
    const handler = new ExportHandler(testContext('otlp', 'receiver'), next as never);
    const good = encodeTraces(testBatch(2, 'span').events);
    assert.equal((await handler.export('traces', Buffer.from([0x0a, 0xff]))).status, 'invalid');
    assert.equal((await handler.export('traces', good)).status, 'unavailable');
    assert.equal((await handler.export('traces', good)).status, 'ok');
    assert.deepEqual(seen, [2]);
  });
});
