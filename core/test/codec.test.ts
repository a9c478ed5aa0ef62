import * as assert from 'node:assert/strict';
import { decodeBatch, encodeBatch } from '../src/index';
import { testEvent } from '../src/testing/index';

describe('UnifiedEvent protobuf codec', () => {
  it('round-trips events of every kind with nested payloads, trace context, entity and enrichment', () => {
    const span = testEvent('span', { attributes: { 'http.response.status_code': 500, retried: true, tags: ['a', 'b'], nested: { x: 1.5, y: null } } });
    const kernel = testEvent('kernel', { entity: { kind: 'pod', name: 'payment-7d8f9', namespace: 'prod', uid: 'u-1' }, count: 3 });
    kernel.semantic = { intent: 'oom_kill', category: 'resource', tags: ['memory'], narrative: 'Pod payment-7d8f9 OOM-killed', confidence: 0.95, suggestedActions: ['raise the memory limit'] };
    kernel.impact = { score: 0.8, severity: 'error', customerFacing: true, revenueAtRisk: 1200.5, cascadeRisk: 0.4 };
    const batch = { events: [span, kernel, testEvent('log'), testEvent('k8s'), testEvent('network'), testEvent('metric')] };
    const bytes = encodeBatch(batch);
    assert.ok(bytes.length > 100);
    assert.deepEqual(decodeBatch(bytes), batch);
  });
});
