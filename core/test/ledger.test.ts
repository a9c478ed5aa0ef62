import * as assert from 'node:assert/strict';
import { DeliveryLedger, parsePositionId, positionId } from '../src/index';
import { testEvent, TestStorageClient } from '../src/testing/index';

const at = (stream: string, seq: number) => testEvent('log', { id: positionId(stream, seq) });
const seqs = (events: { id: string }[]): string[] => events.map((e) => { const p = parsePositionId(e.id)!; return `${p.stream}:${p.sequence}`; });

describe('DeliveryLedger', () => {
  it('positional ids round-trip, and ordinary ids are not positional', () => {
    assert.deepEqual(parsePositionId(positionId('a1b2-c3', 123_456_789)), { stream: 'a1b2-c3', sequence: 123_456_789 });
    assert.equal(parsePositionId(testEvent('log').id), undefined);
  });

  it('skips only what was committed, survives a reopen, and forgets uncommitted records', async () => {
    const client = new TestStorageClient();
    let ledger = await DeliveryLedger.open(client);
    ledger.record([at('f', 10), at('f', 20)]);
    await ledger.commit({ size: 1 });
    ledger.record([at('f', 30)]);
    ledger.discard(); // the write of f:30 failed
    assert.deepEqual(seqs(ledger.admit([at('f', 10), at('f', 20), at('f', 30), at('g', 5)])), ['f:30', 'g:5']);
    ledger = await DeliveryLedger.open(client);
    assert.deepEqual(ledger.sinkState, { size: 1 });
    assert.deepEqual(seqs(ledger.admit([at('f', 20), at('f', 21)])), ['f:21']);
  });

  it('keeps at most maxStreams, forgetting the stream advanced longest ago', async () => {
    const client = new TestStorageClient();
    const ledger = await DeliveryLedger.open(client, 2);
    for (const s of ['old', 'mid', 'new']) { ledger.record([at(s, 1)]); await ledger.commit({}); }
    assert.equal(ledger.streams, 2);
    assert.deepEqual(seqs(ledger.admit([at('old', 1), at('mid', 1), at('new', 1)])), ['old:1']);
    assert.deepEqual((await client.keys('mark/')).sort(), ['mark/mid', 'mark/new']);
  });
});
