import { createEvent, type ChainLink, type Incident, type UnifiedEvent } from '@tapio/core';

/**
 * The seed README's payment story as synthetic-but-realistic UnifiedEvents, shaped the way the
 * receivers and processors emit them (OTLP spans and logs, eBPF kernel/network events,
 * Kubernetes events, one `correlation` event carrying the Incident). Used by tests, the
 * benchmark and demos; never by the runtime.
 */
export interface PaymentScenario {
  traceId: string;
  incidentId: string;
  events: UnifiedEvent[];
  incident: Incident;
  /** Users whose requests failed (distinct enduser.id on failing spans). */
  failedUsers: number;
  failedRequests: number;
}

export function paymentScenario(opts: { baseMs?: number; traceId?: string; incidentId?: string; failingUsers?: number } = {}): PaymentScenario {
  const base = (opts.baseMs ?? Date.now() - 60_000) * 1e6;
  const at = (ms: number) => base + ms * 1e6;
  const traceId = opts.traceId ?? 'abc123' + '0'.repeat(26);
  const incidentId = opts.incidentId ?? 'inc-payment-' + Math.floor(base / 1e6).toString(36);
  const pod = { kind: 'pod', name: 'payment-7d8f9', namespace: 'prod', uid: 'a1b2c3d4-0000-4000-8000-000000000001' };
  const res = { 'service.name': 'payment', 'service.version': '2.1.0', 'k8s.namespace.name': 'prod', 'k8s.pod.name': 'payment-7d8f9', 'k8s.deployment.name': 'payment', 'k8s.node.name': 'node-1', 'host.name': 'node-1', 'container.id': 'c0ffee1234' };
  const events: UnifiedEvent[] = [];
  const semantic = (intent: string, category: string, narrative: string, suggestedActions: string[] = []) => ({ intent, category, tags: [], narrative, confidence: 0.9, suggestedActions });

  const kernelAlloc = createEvent({
    kind: 'kernel', source: 'ebpf', time: at(0), severity: 'warn', resource: { ...res, 'process.pid': 4242, 'process.executable.name': 'payment' },
    kernel: { event: 'syscall_error', pid: 4242, comm: 'payment', syscall: 'mmap', errno: 'ENOMEM' }, entity: { kind: 'process', name: 'payment', namespace: 'prod' },
    semantic: semantic('memory_allocation_failure', 'resource', 'mmap failed with ENOMEM in payment (pid 4242): heap exhausted after 3 days uptime'),
  });
  const oom = createEvent({
    kind: 'kernel', source: 'ebpf', time: at(2_000), severity: 'fatal', resource: { ...res, 'process.pid': 4242, 'process.executable.name': 'payment' },
    kernel: { event: 'oom_kill', pid: 4242, comm: 'payment', cgroupPath: '/kubepods/burstable/poda1b2c3d4/c0ffee1234' }, entity: pod,
    semantic: semantic('oom_kill', 'resource', 'Kernel OOM-killed payment (pid 4242) in pod payment-7d8f9: container exceeded its 2Gi memory limit', ['Increase memory limit of payment to 4Gi']),
  });
  const k8sOom = createEvent({
    kind: 'k8s', source: 'kubernetes', time: at(2_500), severity: 'error', resource: res, entity: pod,
    k8s: { reason: 'OOMKilled', message: 'Container payment exceeded 2Gi memory limit', type: 'Warning', count: 1, objectKind: 'Pod' },
    semantic: semantic('oom_kill', 'resource', 'Pod payment-7d8f9 OOMKilled: container exceeded 2Gi memory limit'),
  });
  const k8sBackoff = createEvent({
    kind: 'k8s', source: 'kubernetes', time: at(4_000), severity: 'warn', resource: res, entity: pod,
    k8s: { reason: 'BackOff', message: 'Back-off restarting failed container payment', type: 'Warning', count: 3, objectKind: 'Pod' },
    semantic: semantic('crash_loop', 'availability', 'Pod payment-7d8f9 is crash-looping after the OOM kill', ['Scale payment to 5 replicas']),
  });
  const refused = createEvent({
    kind: 'network', source: 'ebpf', time: at(5_000), severity: 'error', count: 47,
    resource: { 'service.name': 'checkout', 'k8s.namespace.name': 'prod', 'k8s.pod.name': 'checkout-5c6b7', 'host.name': 'node-2' },
    network: { event: 'connection_refused', srcAddr: '10.0.1.12', srcPort: 41822, dstAddr: '10.0.0.7', dstPort: 8080, pid: 977, comm: 'checkout' },
    entity: { kind: 'service', name: 'payment', namespace: 'prod' },
    semantic: semantic('connection_refused', 'network', 'Connection refused on payment:8080 — 47 failed connection attempts from checkout'),
  });
  events.push(kernelAlloc, oom, k8sOom, k8sBackoff, refused);

  // Failing requests: one trace per user; the first one is the trace the story is told for.
  const users = opts.failingUsers ?? 12;
  let firstAppError: UnifiedEvent | undefined;
  for (let u = 0; u < users; u++) {
    const tid = u === 0 ? traceId : (u + 1).toString(16).padStart(4, '0') + 'fe' + '0'.repeat(26);
    const t = at(5_200 + u * 50);
    const root = createEvent({
      kind: 'span', source: 'otlp', time: t, severity: 'error', resource: { 'service.name': 'checkout', 'k8s.namespace.name': 'prod', 'k8s.pod.name': 'checkout-5c6b7' },
      attributes: { 'http.request.method': 'POST', 'http.response.status_code': 500, 'enduser.id': `user-${1000 + u}` },
      trace: { traceId: tid, spanId: 'a'.repeat(12) + (u + 1).toString(16).padStart(4, '0') },
      span: { name: 'POST /checkout', kind: 2, startTimeUnixNano: String(t), endTimeUnixNano: String(t + 1.2e9), durationMs: 1200, status: { code: 2, message: 'HTTP 500' } },
      impact: { score: 0.82, severity: 'error', customerFacing: true, cascadeRisk: 0.6, sloViolation: true },
      semantic: semantic('http_5xx', 'application', 'POST /checkout failed with HTTP 500'),
    });
    const child = createEvent({
      kind: 'span', source: 'otlp', time: t + 1e6, severity: 'error', resource: res,
      attributes: { 'rpc.system': 'grpc', 'enduser.id': `user-${1000 + u}`, 'db.system': 'postgresql' },
      trace: { traceId: tid, spanId: 'b'.repeat(12) + (u + 1).toString(16).padStart(4, '0'), parentSpanId: root.trace!.spanId },
      span: { name: 'payment.Charge', kind: 2, startTimeUnixNano: String(t + 1e6), endTimeUnixNano: String(t + 1.1e9), durationMs: 1100, status: { code: 2, message: 'PaymentException: Database unavailable' } },
      semantic: semantic('exception', 'application', 'PaymentException: Database unavailable — affecting checkout flow'),
    });
    events.push(root, child);
    if (u === 0) {
      firstAppError = createEvent({
        kind: 'log', source: 'otlp', time: at(1_000), severity: 'error', resource: res,
        trace: { traceId: tid, spanId: child.trace!.spanId },
        log: { body: 'java.lang.OutOfMemoryError: Java heap space in payment-service', severityNumber: 17, severityText: 'ERROR' },
        semantic: semantic('exception', 'application', 'OutOfMemoryError in payment: heap exhausted after 3 days uptime'),
      });
      events.push(firstAppError);
    }
  }
  // Healthy traffic the service map learns the call graph from too.
  for (let i = 0; i < 5; i++) {
    const t = at(100 + i * 10);
    const tid = 'cafe' + i.toString(16).padStart(28, '0');
    const root = createEvent({ kind: 'span', source: 'otlp', time: t, resource: { 'service.name': 'frontend' }, trace: { traceId: tid, spanId: 'c'.repeat(15) + i }, span: { name: 'GET /cart', kind: 2, startTimeUnixNano: String(t), endTimeUnixNano: String(t + 2e7), durationMs: 20, status: { code: 0 } } });
    const child = createEvent({ kind: 'span', source: 'otlp', time: t + 1e6, resource: { 'service.name': 'checkout' }, trace: { traceId: tid, spanId: 'd'.repeat(15) + i, parentSpanId: root.trace!.spanId }, span: { name: 'checkout.Cart', kind: 2, startTimeUnixNano: String(t + 1e6), endTimeUnixNano: String(t + 1e7), durationMs: 9, status: { code: 0 } } });
    events.push(root, child);
  }

  const traceApp = events.filter((e) => e.trace?.traceId === traceId);
  const link = (e: UnifiedEvent): ChainLink => ({
    eventId: e.id, time: e.time, layer: e.kind === 'kernel' ? 'kernel' : e.kind === 'network' ? 'network' : e.kind === 'k8s' ? 'kubernetes' : 'application',
    kind: e.kind, summary: e.semantic?.narrative ?? e.kind, intent: e.semantic?.intent,
    entity: { service: (e.resource['service.name'] as string) ?? undefined, pod: (e.resource['k8s.pod.name'] as string) ?? undefined, namespace: 'prod' },
  });
  const chainEvents = [firstAppError!, kernelAlloc, oom, k8sOom, k8sBackoff, refused, ...traceApp.filter((e) => e.kind === 'span')].sort((a, b) => a.time - b.time);
  const detected = at(17_000);
  const incident: Incident = {
    id: incidentId, status: 'open', title: 'payment OOM-killed: checkout failing with HTTP 500',
    startTimeUnixNano: String(events.reduce((m, e) => Math.min(m, e.time), Infinity)), detectedTimeUnixNano: String(detected),
    timeToDetectMs: (detected - at(0)) / 1e6, confidence: 0.87,
    rootCause: { entity: { service: 'payment', pod: 'payment-7d8f9', namespace: 'prod', kind: 'pod' }, narrative: 'Memory leak in payment v2.1.0: heap exhausted, container OOM-killed', eventIds: [oom.id, kernelAlloc.id] },
    rankedCauses: [
      { entity: { service: 'payment', pod: 'payment-7d8f9', namespace: 'prod', kind: 'pod' }, score: 0.87, evidence: [oom.id, k8sOom.id] },
      { entity: { service: 'checkout', namespace: 'prod', kind: 'service' }, score: 0.21, evidence: [refused.id] },
    ],
    chain: chainEvents.map(link),
    impact: { score: 0.82, severity: 'error', customerFacing: true, revenueAtRisk: 45_000, sloViolation: true, cascadeRisk: 0.6, services: ['payment', 'checkout'] },
    recommendations: ['Scale payment to 5 replicas', 'Increase memory limit of payment to 4Gi', 'Roll back deployment payment to the previous revision'],
  };
  const corr = createEvent({
    kind: 'correlation', source: 'correlation', time: detected, severity: 'error', resource: { 'service.name': 'payment', 'k8s.namespace.name': 'prod' },
    incident: incident as unknown as Record<string, unknown>, correlation: { groupId: incidentId, role: 'root', chain: chainEvents.map((e) => e.id) },
    impact: { score: 0.82, severity: 'error', customerFacing: true, cascadeRisk: 0.6 },
  });
  events.push(corr);
  events.sort((a, b) => a.time - b.time);
  return { traceId, incidentId, events, incident, failedUsers: users, failedRequests: users * 2 };
}
