import { testEvent } from '@tapio/core/testing';
import type { UnifiedEvent } from '@tapio/core';

/** The catalog of the README example. */
export const PAYMENT_CATALOG = {
  payment: {
    tier: 1, customer_facing: true, average_order_value: 80, owner: 'team-payments',
    slo: { availability: 0.999, latency_ms: 300 },
  },
};

const T0 = Date.UTC(2026, 10, 22, 10, 0, 0) * 1e6;
const USERS = ['u-1001', 'u-1002', 'u-1003', 'u-1004', 'u-1005', 'u-1006'];

/**
 * The README story: payment serves 48 checkouts in four minutes; every third fails (the pod is
 * running out of memory), most failing ones carry an enduser.id, and then the pod is OOM-killed.
 */
export function paymentIncident(): { events: UnifiedEvent[]; oom: UnifiedEvent } {
  const events: UnifiedEvent[] = [];
  for (let i = 0; i < 48; i++) {
    const failed = i % 3 === 2;
    const attrs: Record<string, string | number> = { 'http.request.method': 'POST', 'http.route': '/api/pay', 'http.response.status_code': failed ? 503 : 200 };
    if (failed && i !== 44) attrs['enduser.id'] = USERS[Math.floor(i / 3) % USERS.length]!;
    const e = testEvent('span', {
      time: T0 + i * 5e9, severity: failed ? 'error' : 'info',
      resource: { 'service.name': 'payment', 'k8s.namespace.name': 'prod', 'k8s.pod.name': 'payment-7d8f9' }, attributes: attrs,
    });
    Object.assign(e.span!, { name: 'POST /api/pay', kind: 2, durationMs: failed ? 2100 : 85, status: { code: failed ? 2 : 0 } });
    events.push(e);
  }
  const oom = testEvent('k8s', {
    time: T0 + 48 * 5e9, severity: 'error',
    resource: { 'service.name': 'payment', 'k8s.namespace.name': 'prod', 'k8s.pod.name': 'payment-7d8f9', 'k8s.container.name': 'payment' },
    entity: { kind: 'pod', name: 'payment-7d8f9', namespace: 'prod' },
    k8s: { reason: 'OOMKilled', message: 'Container payment exceeded its 2Gi memory limit and was OOM-killed (exit code 137)', type: 'Warning' },
  });
  events.push(oom);
  return { events, oom };
}
