import * as assert from 'node:assert/strict';
import { conformance, testEvent } from '@tapio/core/testing';
import factory, { formatNormal } from '../src/index';

conformance(factory);

describe('debug exporter', () => {
  it('prints one readable line per event at normal verbosity, naming the entity and the narrative', () => {
    const e = testEvent('kernel', { time: Date.UTC(2026, 0, 2, 3, 4, 5) * 1e6, severity: 'fatal', entity: { kind: 'pod', name: 'payment-7d8f9', namespace: 'prod' } });
    e.semantic = { intent: 'oom_kill', category: 'resource', tags: [], narrative: 'Pod payment-7d8f9 OOM-killed', confidence: 0.9, suggestedActions: [] };
    assert.equal(formatNormal(e), '2026-01-02T03:04:05.000Z FATAL kernel      pod/prod/payment-7d8f9: Pod payment-7d8f9 OOM-killed');
  });
});
