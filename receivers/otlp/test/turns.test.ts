import * as assert from 'node:assert/strict';
import { nextTurn } from '../src/turns';

describe('nextTurn: one waiter per event-loop turn, in order', () => {
  it('grants waiters first come first served, and lets other callbacks run between two grants', async () => {
    const order: string[] = [];
    const waiters = [1, 2, 3, 4].map((i) => nextTurn().then(() => {
      order.push(`turn ${i}`);
      // work queued by a granted waiter runs before the waiter after the next one is granted
      if (i === 1) setImmediate(() => order.push('other work'));
    }));
    await Promise.all(waiters);
    assert.deepEqual(order, ['turn 1', 'turn 2', 'other work', 'turn 3', 'turn 4']);
  });

  it('keeps granting, in order, after the queue ran empty', async () => {
    await nextTurn();
    const order: number[] = [];
    await Promise.all([nextTurn().then(() => order.push(1)), nextTurn().then(() => order.push(2))]);
    assert.deepEqual(order, [1, 2]);
  });
});
