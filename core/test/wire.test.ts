import * as assert from 'node:assert/strict';
import { decodeBatchReference, encodeBatchReference } from '../src/event/codec';
import { decodeBatchWire, encodeBatchWire } from '../src/event/wire';
import type { Batch, UnifiedEvent } from '../src/index';
import { testEvent } from '../src/testing/index';

/** A deterministic pseudo-random generator, so a failure can be reproduced. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => { s = (s * 1664525 + 1013904223) >>> 0; return s / 2 ** 32; };
}

function randomValue(r: () => number, depth: number): unknown {
  const k = Math.floor(r() * (depth > 2 ? 5 : 8));
  switch (k) {
    case 0: return 'v' + Math.floor(r() * 1e6) + (r() < 0.2 ? ' ünïcødé ✓ 𝄞' : '') + (r() < 0.1 ? 'x'.repeat(300) : '');
    case 1: return r() < 0.5 ? Math.floor(r() * 2 ** 40) : r() * 1e6 - 5e5;
    case 2: return r() < 0.5;
    case 3: return null;
    case 4: return '';
    case 5: return Array.from({ length: Math.floor(r() * 4) }, () => randomValue(r, depth + 1));
    default: {
      const o: Record<string, unknown> = {};
      for (let i = Math.floor(r() * 5); i > 0; i--) o['k' + Math.floor(r() * 100)] = randomValue(r, depth + 1);
      return o;
    }
  }
}

function randomEvent(r: () => number): UnifiedEvent {
  const kinds = ['span', 'log', 'metric', 'k8s', 'kernel', 'network'] as const;
  const e = testEvent(kinds[Math.floor(r() * kinds.length)]!);
  for (let i = Math.floor(r() * 6); i > 0; i--) e.attributes['a' + i] = randomValue(r, 0) as never;
  if (r() < 0.3) e.entity = { kind: 'pod', name: 'p' + Math.floor(r() * 100), ...(r() < 0.5 ? { namespace: 'prod' } : {}), ...(r() < 0.5 ? { uid: 'u' } : {}) };
  if (r() < 0.3) e.count = Math.floor(r() * 1000);
  if (r() < 0.3) e.trace = { traceId: 'ab'.repeat(16), ...(r() < 0.5 ? { spanId: 'cd'.repeat(8) } : {}), ...(r() < 0.3 ? { flags: 1 } : {}) };
  if (r() < 0.3) e.semantic = { intent: 'oom_kill', category: 'resource', tags: ['memory'], narrative: 'n', confidence: r(), suggestedActions: [] };
  return e;
}

describe('hand-written Tapio protobuf codec (wire.ts)', () => {
  it('writes exactly the bytes protobufjs writes, and both decoders agree, for 300 random events', () => {
    const r = rng(42);
    for (let round = 0; round < 30; round++) {
      const batch: Batch = { events: Array.from({ length: 10 }, () => randomEvent(r)) };
      if (round % 3 === 0) batch.metadata = { 'x-tenant': ['acme'], 'x-scope-orgid': ['a', 'é'], empty: [] };
      const fast = encodeBatchWire(batch);
      const ref = Buffer.from(encodeBatchReference(batch));
      assert.ok(fast.equals(ref), `round ${round}: bytes differ`);
      assert.deepEqual(decodeBatchWire(fast), decodeBatchReference(ref));
      assert.equal(JSON.stringify(decodeBatchWire(fast)), JSON.stringify(decodeBatchReference(ref)), 'same key order too');
    }
  });

  it('round-trips an event and an empty batch', () => {
    const e = testEvent('span', { attributes: { n: 1.5, s: 'x', b: false, l: [1, 'a', null], m: { deep: { er: [true] } } } });
    assert.deepEqual(decodeBatchWire(encodeBatchWire({ events: [e] })), { events: [e] });
    assert.deepEqual(decodeBatchWire(encodeBatchWire({ events: [] })), { events: [] });
  });

  it('keeps an attribute named __proto__ as data', () => {
    const e = testEvent('log');
    Object.defineProperty(e.attributes, '__proto__', { value: 'x', enumerable: true, writable: true, configurable: true });
    const back = decodeBatchWire(encodeBatchWire({ events: [e] })).events[0]!;
    assert.deepEqual(Object.keys(back.attributes), ['__proto__']);
    assert.equal(Object.getPrototypeOf(back.attributes), Object.prototype);
    assert.equal(Object.getOwnPropertyDescriptor(back.attributes, '__proto__')?.value, 'x');
  });

  it('rejects truncated input with an error instead of returning garbage', () => {
    const bytes = encodeBatchWire({ events: [testEvent('log'), testEvent('span')] });
    assert.throws(() => decodeBatchWire(bytes.subarray(0, bytes.length - 7)), /truncated/);
  });
});
