import type { Incident, UnifiedEvent } from '@tapio/core';

export interface ServiceNode { name: string; spans: number; errors: number; errorRate: number; openIncidents: number; healthy: boolean }
export interface ServiceEdge { from: string; to: string; calls: number; errors: number }
export interface ServiceMap { nodes: ServiceNode[]; edges: ServiceEdge[] }

/** Error rate above which a service is marked unhealthy even without an open incident. */
const UNHEALTHY_ERROR_RATE = 0.05;

/**
 * The call graph learned from spans: an edge A → B for every span of service B whose parent
 * span belongs to service A. A service is unhealthy when it is named by an open incident or
 * more than 5% of its spans failed.
 */
export function buildServiceMap(spans: UnifiedEvent[], openIncidents: Incident[]): ServiceMap {
  const serviceBySpan = new Map<string, string>();
  const nodes = new Map<string, ServiceNode>();
  for (const s of spans) {
    const svc = s.resource['service.name'];
    if (typeof svc !== 'string' || !s.trace?.spanId) continue;
    serviceBySpan.set(s.trace.traceId + '/' + s.trace.spanId, svc);
    const n = nodeFor(nodes, svc);
    n.spans++;
    if (s.severity === 'error' || s.severity === 'fatal') n.errors++;
  }
  const edges = new Map<string, ServiceEdge>();
  for (const s of spans) {
    const svc = s.resource['service.name'];
    if (typeof svc !== 'string' || !s.trace?.parentSpanId) continue;
    const parent = serviceBySpan.get(s.trace.traceId + '/' + s.trace.parentSpanId);
    if (!parent || parent === svc) continue;
    const key = parent + '→' + svc;
    let e = edges.get(key);
    if (!e) { e = { from: parent, to: svc, calls: 0, errors: 0 }; edges.set(key, e); }
    e.calls++;
    if (s.severity === 'error' || s.severity === 'fatal') e.errors++;
  }
  for (const inc of openIncidents) {
    const named = new Set<string>();
    if (inc.rootCause?.entity?.service) named.add(inc.rootCause.entity.service);
    for (const svc of inc.impact?.services ?? []) named.add(svc);
    for (const svc of named) nodeFor(nodes, svc).openIncidents++;
  }
  for (const n of nodes.values()) {
    n.errorRate = n.spans ? n.errors / n.spans : 0;
    n.healthy = n.openIncidents === 0 && n.errorRate <= UNHEALTHY_ERROR_RATE;
  }
  return { nodes: [...nodes.values()].sort((a, b) => a.name.localeCompare(b.name)), edges: [...edges.values()] };
}

function nodeFor(nodes: Map<string, ServiceNode>, name: string): ServiceNode {
  let n = nodes.get(name);
  if (!n) { n = { name, spans: 0, errors: 0, errorRate: 0, openIncidents: 0, healthy: true }; nodes.set(name, n); }
  return n;
}
