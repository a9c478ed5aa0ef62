import type { IncidentEntity, TopologyService, UnifiedEvent } from '@tapio/core';

export type Layer = 'kernel' | 'kubernetes' | 'network' | 'application';

export const LAYER_DEPTH: Record<Layer, number> = { kernel: 3, kubernetes: 2, network: 1, application: 0 };

export function layerOf(e: UnifiedEvent): Layer {
  switch (e.kind) {
    case 'kernel': return 'kernel';
    case 'k8s': return 'kubernetes';
    case 'network': return 'network';
    default: return 'application';
  }
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v ? v : undefined;
}

/** Strips a ReplicaSet-style pod suffix (`cart-7d8f9c-x2b4q` → `cart`) when a pod is all we know. */
export function workloadOfPod(pod: string): string {
  const m = /^(.+)-[a-z0-9]{5,10}-[a-z0-9]{5}$/.exec(pod);
  if (m) return m[1]!;
  const s = /^(.+)-[0-9]+$/.exec(pod); // StatefulSet ordinal
  return s ? s[1]! : pod;
}

/**
 * Learns which service lives at which address / container / pod from the events themselves,
 * and asks the Kubernetes topology when one is registered. Bounded by maxEntries.
 */
export class EntityIndex {
  private readonly byAddress = new Map<string, string>();
  private readonly byContainer = new Map<string, string>();
  private readonly podNode = new Map<string, string>();
  /** service → the pods / namespace it was seen in (a few per service). */
  private readonly placement = new Map<string, { pods: string[]; namespace?: string }>();
  topology?: TopologyService;

  constructor(private readonly maxEntries: number, private readonly onEvict: (n: number) => void) {}

  get size(): number { return this.byAddress.size + this.byContainer.size + this.podNode.size; }

  private put(m: Map<string, string>, k: string, v: string): void {
    if (m.get(k) === v) return;
    if (!m.has(k) && this.size >= this.maxEntries) {
      const first = m.keys().next();
      if (!first.done) { m.delete(first.value); this.onEvict(1); }
    }
    m.set(k, v);
  }

  /** The service an event is about, from its entity / resource (OTel semconv keys). */
  serviceOf(e: UnifiedEvent): string | undefined {
    const r = e.resource;
    const svc = str(r['service.name']);
    if (svc && svc !== 'unknown_service') return svc;
    if (e.entity && (e.entity.kind === 'service' || e.entity.kind === 'deployment' || e.entity.kind === 'statefulset' || e.entity.kind === 'daemonset')) return e.entity.name;
    const dep = str(r['k8s.deployment.name']) ?? str(r['k8s.statefulset.name']) ?? str(r['k8s.daemonset.name']);
    if (dep) return dep;
    const cid = str(r['container.id']);
    if (cid) {
      const known = this.byContainer.get(cid);
      if (known) return known;
      const pod = this.topology?.podByContainerId(cid);
      if (pod) return pod.services[0] ?? pod.workload?.name ?? workloadOfPod(pod.name);
    }
    const pod = str(r['k8s.pod.name']) ?? (e.entity?.kind === 'pod' ? e.entity.name : undefined);
    if (pod) return workloadOfPod(pod);
    return str(r['k8s.container.name']) ?? str(r['process.executable.name']) ?? (e.kernel?.comm as string | undefined) ?? str(r['host.name']);
  }

  entityOf(e: UnifiedEvent, service: string | undefined): IncidentEntity {
    const r = e.resource;
    const out: IncidentEntity = {};
    if (service) out.service = service;
    const pod = str(r['k8s.pod.name']) ?? (e.entity?.kind === 'pod' ? e.entity.name : undefined);
    if (pod) out.pod = pod;
    const ns = str(r['k8s.namespace.name']) ?? e.entity?.namespace;
    if (ns) out.namespace = ns;
    const node = str(r['k8s.node.name']) ?? str(r['host.name']);
    if (node) out.node = node;
    const c = str(r['k8s.container.name']);
    if (c) out.container = c;
    const proc = str(r['process.executable.name']) ?? (e.kernel?.comm as string | undefined);
    if (proc) out.process = proc;
    return out;
  }

  /** Remembers where a service runs (pod IP, container id, node) from its resource attributes. */
  learn(e: UnifiedEvent, service: string): void {
    const r = e.resource;
    const ip = str(r['k8s.pod.ip']) ?? str(r['net.host.ip']) ?? str(r['server.address']);
    if (ip) this.put(this.byAddress, ip, service);
    const cid = str(r['container.id']);
    if (cid) this.put(this.byContainer, cid, service);
    const node = str(r['k8s.node.name']) ?? str(r['host.name']);
    if (node) this.put(this.podNode, service, node);
    const pod = str(r['k8s.pod.name']);
    if (pod) {
      let p = this.placement.get(service);
      if (!p) {
        if (this.placement.size >= this.maxEntries) return;
        p = { pods: [] }; this.placement.set(service, p);
      }
      if (!p.pods.includes(pod) && p.pods.length < 16) p.pods.push(pod);
      const ns = str(r['k8s.namespace.name']);
      if (ns) p.namespace = ns;
    }
  }

  /** What is known about where a service runs: its pod when it has exactly one, namespace, node. */
  describe(service: string): IncidentEntity {
    const out: IncidentEntity = { service };
    const p = this.placement.get(service);
    if (p?.pods.length === 1) out.pod = p.pods[0];
    if (p?.namespace) out.namespace = p.namespace;
    const node = this.podNode.get(service);
    if (node) out.node = node;
    return out;
  }

  nodeOf(service: string): string | undefined { return this.podNode.get(service); }

  /** The service at an address (learned, or via the Kubernetes topology). */
  serviceAt(addr: string | undefined, port?: number): string | undefined {
    if (!addr) return undefined;
    const known = this.byAddress.get(addr) ?? this.byAddress.get(`${addr}:${port}`);
    if (known) return known;
    const svc = this.topology?.serviceByAddress(addr, port);
    if (svc) return svc.name;
    const pod = this.topology?.podByIp(addr);
    if (pod) return pod.services[0] ?? pod.workload?.name ?? workloadOfPod(pod.name);
    return undefined;
  }
}
