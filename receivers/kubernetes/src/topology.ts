import type { PodInfo, ServiceInfo, TopologyService, WorkloadRef } from '@tapio/core';
import type { KubeObject } from './kinds';

export interface TopologyLimits {
  /** Most pods indexed; further pods are counted and left out until others go away. */
  maxPods: number;
  /** Most services, endpoint slices, workloads (each). */
  maxObjects: number;
}

interface PodRecord {
  info: PodInfo;
  /** Direct controller owner, e.g. ReplicaSet payment-7d8f9. */
  owner?: WorkloadRef;
  containerIds: string[];
  ip?: string;
  /** topology generation the lazily computed owners/services were computed at. */
  resolvedAt: number;
}

interface SliceRecord { service: string; namespace: string; addresses: string[]; ports: number[] }

/** Strips the runtime scheme: `containerd://abc…` → `abc…`. */
export function normalizeContainerId(id: string): string {
  const i = id.indexOf('://');
  return i >= 0 ? id.slice(i + 3) : id;
}

function controllerOf(o: KubeObject): WorkloadRef | undefined {
  const refs = o.metadata.ownerReferences;
  if (!refs?.length) return undefined;
  const r = refs.find((x) => x.controller) ?? refs[0];
  return { kind: r.kind, name: r.name };
}

function selectorMatches(selector: Record<string, string>, labels: Record<string, string>): boolean {
  let any = false;
  for (const k in selector) { any = true; if (labels[k] !== selector[k]) return false; }
  return any;
}

/**
 * The topology cache: pods, workloads, services and endpoint slices indexed so other components can
 * resolve container id → pod → ReplicaSet → Deployment, pod IP → pod and IP[:port] → service. Kept
 * fresh by the receiver's watches. Owner chains and service membership are resolved on lookup and
 * memoised per pod until any workload or service changes (a generation counter), so a pod update
 * costs a few map writes and a lookup costs a map read.
 */
export class TopologyCache implements TopologyService {
  private readonly pods = new Map<string, PodRecord>();
  private readonly podByNameIdx = new Map<string, string>();
  private readonly podByIpIdx = new Map<string, string>();
  private readonly podByContainerIdx = new Map<string, string>();
  private readonly podsByNodeIdx = new Map<string, Set<string>>();
  /** `Kind/namespace/name` → that workload's own controller (ReplicaSet → Deployment, Job → CronJob). */
  private readonly workloadOwner = new Map<string, WorkloadRef | null>();
  private readonly services = new Map<string, ServiceInfo>();
  private readonly serviceByIpIdx = new Map<string, string>();
  private readonly slices = new Map<string, SliceRecord>();
  /** endpoint IP → slice keys that list it. */
  private readonly endpointIdx = new Map<string, Set<string>>();
  private generation = 0;
  /** Objects refused because a limit was reached (the receiver reports these as drops). */
  refused = 0;

  constructor(private readonly limits: TopologyLimits = { maxPods: 200_000, maxObjects: 50_000 }) {}

  get size(): { pods: number; services: number; workloads: number; endpointSlices: number } {
    return { pods: this.pods.size, services: this.services.size, workloads: this.workloadOwner.size, endpointSlices: this.slices.size };
  }

  // ---- updates (from the receiver's watches) ----

  apply(kind: string, type: 'ADDED' | 'MODIFIED' | 'DELETED', obj: KubeObject): void {
    const del = type === 'DELETED';
    switch (kind) {
      case 'Pod': if (del) this.removePod(obj); else this.upsertPod(obj); break;
      case 'Service': if (del) this.removeService(obj); else this.upsertService(obj); break;
      case 'EndpointSlice': if (del) this.removeSlice(obj); else this.upsertSlice(obj); break;
      case 'ReplicaSet': case 'Deployment': case 'StatefulSet': case 'DaemonSet': case 'Job': case 'CronJob': {
        const key = `${kind}/${obj.metadata.namespace ?? ''}/${obj.metadata.name}`;
        if (del) { if (this.workloadOwner.delete(key)) this.generation++; break; }
        const owner = controllerOf(obj) ?? null;
        const had = this.workloadOwner.get(key);
        if (had === undefined && this.workloadOwner.size >= this.limits.maxObjects) { this.refused++; break; }
        if (had === undefined || had?.name !== owner?.name || had?.kind !== owner?.kind) { this.workloadOwner.set(key, owner); this.generation++; }
        break;
      }
      default: break;
    }
  }

  private upsertPod(pod: KubeObject): void {
    const uid = pod.metadata.uid ?? `${pod.metadata.namespace}/${pod.metadata.name}`;
    const existing = this.pods.get(uid);
    if (!existing && this.pods.size >= this.limits.maxPods) { this.refused++; return; }
    if (existing) this.unindexPod(uid, existing);
    const spec = pod.spec ?? {};
    const status = pod.status ?? {};
    const images = new Map<string, string | undefined>();
    for (const c of [...(spec.initContainers ?? []), ...(spec.containers ?? [])] as { name: string; image?: string }[]) images.set(c.name, c.image);
    const containers: PodInfo['containers'] = [];
    const containerIds: string[] = [];
    for (const list of [status.initContainerStatuses, status.containerStatuses]) {
      if (!Array.isArray(list)) continue;
      for (const cs of list as { name: string; containerID?: string; image?: string }[]) {
        const id = cs.containerID ? normalizeContainerId(cs.containerID) : undefined;
        if (id) containerIds.push(id);
        containers.push({ name: cs.name, id, image: images.get(cs.name) ?? cs.image });
        images.delete(cs.name);
      }
    }
    for (const [name, image] of images) containers.push({ name, image });
    const ip: string | undefined = spec.hostNetwork ? undefined : status.podIP;
    const rec: PodRecord = {
      info: {
        uid, name: pod.metadata.name, namespace: pod.metadata.namespace ?? '', nodeName: spec.nodeName, ip: status.podIP,
        labels: pod.metadata.labels ?? {}, containers, owners: [], services: [],
      },
      owner: controllerOf(pod), containerIds, ip, resolvedAt: -1,
    };
    this.pods.set(uid, rec);
    this.podByNameIdx.set(`${rec.info.namespace}/${rec.info.name}`, uid);
    // A pod IP is reused after its pod is gone; the newest pod wins (host-network pods share the node IP, skipped).
    if (ip) this.podByIpIdx.set(ip, uid);
    for (const id of containerIds) this.podByContainerIdx.set(id, uid);
    if (rec.info.nodeName) {
      let s = this.podsByNodeIdx.get(rec.info.nodeName);
      if (!s) { s = new Set(); this.podsByNodeIdx.set(rec.info.nodeName, s); }
      s.add(uid);
    }
  }

  private removePod(pod: KubeObject): void {
    const uid = pod.metadata.uid ?? `${pod.metadata.namespace}/${pod.metadata.name}`;
    const rec = this.pods.get(uid);
    if (!rec) return;
    this.unindexPod(uid, rec);
    this.pods.delete(uid);
  }

  private unindexPod(uid: string, rec: PodRecord): void {
    const nameKey = `${rec.info.namespace}/${rec.info.name}`;
    if (this.podByNameIdx.get(nameKey) === uid) this.podByNameIdx.delete(nameKey);
    if (rec.ip && this.podByIpIdx.get(rec.ip) === uid) this.podByIpIdx.delete(rec.ip);
    for (const id of rec.containerIds) if (this.podByContainerIdx.get(id) === uid) this.podByContainerIdx.delete(id);
    if (rec.info.nodeName) {
      const s = this.podsByNodeIdx.get(rec.info.nodeName);
      s?.delete(uid);
      if (s?.size === 0) this.podsByNodeIdx.delete(rec.info.nodeName);
    }
  }

  private upsertService(svc: KubeObject): void {
    const key = `${svc.metadata.namespace ?? ''}/${svc.metadata.name}`;
    const old = this.services.get(key);
    if (!old && this.services.size >= this.limits.maxObjects) { this.refused++; return; }
    if (old?.clusterIP && this.serviceByIpIdx.get(old.clusterIP) === key) this.serviceByIpIdx.delete(old.clusterIP);
    const spec = svc.spec ?? {};
    const info: ServiceInfo = {
      name: svc.metadata.name, namespace: svc.metadata.namespace ?? '',
      clusterIP: spec.clusterIP && spec.clusterIP !== 'None' ? spec.clusterIP : undefined,
      ports: Array.isArray(spec.ports) ? spec.ports.map((p: { port: number; targetPort?: number | string; protocol?: string }) => ({ port: p.port, targetPort: p.targetPort, protocol: p.protocol })) : [],
      selector: spec.selector ?? {},
    };
    this.services.set(key, info);
    for (const ip of [info.clusterIP, ...((spec.clusterIPs as string[] | undefined) ?? [])]) if (ip && ip !== 'None') this.serviceByIpIdx.set(ip, key);
    this.generation++;
  }

  private removeService(svc: KubeObject): void {
    const key = `${svc.metadata.namespace ?? ''}/${svc.metadata.name}`;
    const old = this.services.get(key);
    if (!old) return;
    for (const [ip, k] of this.serviceByIpIdx) if (k === key) this.serviceByIpIdx.delete(ip);
    this.services.delete(key);
    this.generation++;
  }

  private upsertSlice(slice: KubeObject): void {
    const key = `${slice.metadata.namespace ?? ''}/${slice.metadata.name}`;
    if (!this.slices.has(key) && this.slices.size >= this.limits.maxObjects) { this.refused++; return; }
    this.removeSlice(slice);
    const service = slice.metadata.labels?.['kubernetes.io/service-name'];
    if (!service) return;
    const addresses: string[] = [];
    for (const ep of (slice.endpoints ?? []) as { addresses?: string[] }[]) for (const a of ep.addresses ?? []) addresses.push(a);
    const ports = ((slice.ports ?? []) as { port?: number }[]).map((p) => p.port).filter((p): p is number => typeof p === 'number');
    this.slices.set(key, { service, namespace: slice.metadata.namespace ?? '', addresses, ports });
    for (const a of addresses) {
      let s = this.endpointIdx.get(a);
      if (!s) { s = new Set(); this.endpointIdx.set(a, s); }
      s.add(key);
    }
  }

  private removeSlice(slice: KubeObject): void {
    const key = `${slice.metadata.namespace ?? ''}/${slice.metadata.name}`;
    const old = this.slices.get(key);
    if (!old) return;
    for (const a of old.addresses) {
      const s = this.endpointIdx.get(a);
      s?.delete(key);
      if (s?.size === 0) this.endpointIdx.delete(a);
    }
    this.slices.delete(key);
  }

  // ---- TopologyService ----

  podByContainerId(containerId: string): PodInfo | undefined {
    const uid = this.podByContainerIdx.get(normalizeContainerId(containerId));
    return uid === undefined ? undefined : this.resolved(uid);
  }

  podByIp(ip: string): PodInfo | undefined {
    const uid = this.podByIpIdx.get(ip);
    return uid === undefined ? undefined : this.resolved(uid);
  }

  podByUid(uid: string): PodInfo | undefined { return this.resolved(uid); }

  podByName(namespace: string, name: string): PodInfo | undefined {
    const uid = this.podByNameIdx.get(`${namespace}/${name}`);
    return uid === undefined ? undefined : this.resolved(uid);
  }

  serviceByAddress(ip: string, port?: number): ServiceInfo | undefined {
    const byIp = this.serviceByIpIdx.get(ip);
    if (byIp) {
      const svc = this.services.get(byIp)!;
      if (port === undefined || svc.ports.length === 0 || svc.ports.some((p) => p.port === port)) return svc;
    }
    const keys = this.endpointIdx.get(ip);
    if (!keys) return undefined;
    let fallback: SliceRecord | undefined;
    for (const k of keys) {
      const s = this.slices.get(k)!;
      if (port === undefined || s.ports.includes(port)) return this.services.get(`${s.namespace}/${s.service}`) ?? serviceStub(s);
      fallback ??= s;
    }
    // The IP backs a service but not on that port (e.g. a sidecar port): still the pod's service.
    return fallback && (this.services.get(`${fallback.namespace}/${fallback.service}`) ?? serviceStub(fallback));
  }

  podsOnNode(nodeName: string): PodInfo[] {
    const s = this.podsByNodeIdx.get(nodeName);
    if (!s) return [];
    const out: PodInfo[] = [];
    for (const uid of s) { const p = this.resolved(uid); if (p) out.push(p); }
    return out;
  }

  /** The workload an operator acts on for a pod (top of its owner chain), if known. */
  workloadOf(namespace: string, name: string): WorkloadRef | undefined { return this.podByName(namespace, name)?.workload; }

  private resolved(uid: string): PodInfo | undefined {
    const rec = this.pods.get(uid);
    if (!rec) return undefined;
    if (rec.resolvedAt === this.generation) return rec.info;
    const ns = rec.info.namespace;
    const owners: WorkloadRef[] = [];
    let cur = rec.owner;
    // Follow controllers upwards (ReplicaSet → Deployment); bounded against cycles in bad data.
    for (let depth = 0; cur && depth < 8; depth++) {
      owners.push(cur);
      const up = this.workloadOwner.get(`${cur.kind}/${ns}/${cur.name}`);
      cur = up ?? undefined;
    }
    const services: string[] = [];
    // TODO(issue 7): index services by namespace; this scans every Service once per pod per topology change.
    for (const svc of this.services.values()) if (svc.namespace === ns && selectorMatches(svc.selector, rec.info.labels)) services.push(svc.name);
    rec.info.owners = owners;
    rec.info.workload = owners[owners.length - 1];
    rec.info.services = services;
    rec.resolvedAt = this.generation;
    return rec.info;
  }
}

function serviceStub(s: SliceRecord): ServiceInfo {
  return { name: s.service, namespace: s.namespace, ports: s.ports.map((port) => ({ port })), selector: {} };
}
