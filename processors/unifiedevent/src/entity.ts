import type { Attributes, EntityRef, PodInfo, TopologyService, UnifiedEvent } from '@tapio/core';
import { BoundedCache, parseCgroupPath, stripRuntimePrefix, type CgroupIdentity } from './cgroup';
import type { HostMapping, StaticEntity, UnifiedEventConfig } from './config';

const RESOLVED = Symbol('tapio.unifiedevent.resolved');
interface Resolved { generation: number; entity: EntityRef | undefined }

const WORKLOAD_KEY: Record<string, string> = {
  ReplicaSet: 'k8s.replicaset.name', Deployment: 'k8s.deployment.name', StatefulSet: 'k8s.statefulset.name',
  DaemonSet: 'k8s.daemonset.name', Job: 'k8s.job.name', CronJob: 'k8s.cronjob.name',
};

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

function insert(attrs: Attributes, key: string, value: string | number | undefined): void {
  if (value !== undefined && attrs[key] === undefined) attrs[key] = value;
}

/**
 * Resolves what an event is about, from three sources in order of trust: the Kubernetes
 * topology (when a receiver registered it), the event's own resource attributes, and static
 * config for hosts outside Kubernetes. Fills OTel resource keys (insert-only: what the source
 * said is never overwritten) and `entity` when the event has none.
 */
export class EntityResolver {
  private readonly cgroups: BoundedCache<CgroupIdentity>;
  private readonly statics: StaticEntity[];
  private readonly hosts: Map<string, HostMapping>;
  /**
   * Receivers share one resource object per OTLP Resource, so a resource enriched once is marked
   * (a symbol key: invisible to JSON, Object.keys and structuredClone) and skipped next time,
   * with the entity derived from it kept beside it. The mark holds the resolver generation, so a
   * topology appearing later makes every resource be looked at again.
   */
  private generation = 1;

  constructor(cfg: UnifiedEventConfig, private topology: TopologyService | undefined) {
    this.cgroups = new BoundedCache(cfg.entity_resolution.cache_size);
    this.statics = cfg.static_entities;
    this.hosts = new Map(Object.entries(cfg.hosts));
  }

  setTopology(t: TopologyService | undefined): void {
    this.topology = t;
    this.generation++;
  }

  resolve(e: UnifiedEvent): void {
    const r = e.resource as Attributes & { [RESOLVED]?: Resolved };
    const shared = e.kind === 'span' || e.kind === 'log' || e.kind === 'metric';
    if (shared) {
      let mark = r[RESOLVED];
      if (mark === undefined || mark.generation !== this.generation) {
        const own = e.entity;
        e.entity = undefined;
        this.enrichResource(e, r); // may set a static entity
        // The entity object is shared by every event of this resource: treat it as read-only.
        mark = { generation: this.generation, entity: e.entity ?? defaultEntity(e) };
        e.entity = own;
        Object.defineProperty(r, RESOLVED, { value: mark, enumerable: false, configurable: true, writable: true });
      }
      if (!e.entity) e.entity = mark.entity;
      return;
    }
    this.enrichResource(e, r);
    if (e.kind === 'network' && e.network) this.resolvePeer(e);
    // A receiver that only knew the container or process names it; once the pod is known, the
    // pod is what the event is about (the container id stays in the resource).
    const en = e.entity;
    if (!en || ((en.kind === 'container' || en.kind === 'process') && r['k8s.pod.name'] !== undefined)) e.entity = defaultEntity(e);
  }

  private enrichResource(e: UnifiedEvent, r: Attributes): void {
    const cgroupPath = str(e.kernel?.cgroupPath) ?? str(e.network?.cgroupPath) ?? str(r['tapio.cgroup.path']);
    let cg: CgroupIdentity | undefined;
    if (cgroupPath) {
      cg = this.cgroups.get(cgroupPath);
      if (!cg) { cg = parseCgroupPath(cgroupPath); this.cgroups.set(cgroupPath, cg); }
      insert(r, 'container.id', cg.containerId);
      insert(r, 'container.runtime', cg.runtime);
      insert(r, 'k8s.pod.uid', cg.podUid);
    }
    // TODO(issue 4): an event with a pid but no cgroup path, from this very host, could be resolved
    // through /proc/<pid>/cgroup (cached per pid); today such an event resolves only by its resource.
    const pid = e.kernel?.pid ?? e.network?.pid;
    if (typeof pid === 'number') insert(r, 'process.pid', pid);
    const comm = str(e.kernel?.comm) ?? str(e.network?.comm);
    insert(r, 'process.executable.name', comm);

    const t = this.topology;
    if (t) {
      const pod = this.findPod(t, e, r);
      if (pod) applyPod(r, pod, str(r['container.id']));
    }
    this.applyStatic(e, r);
  }

  private findPod(t: TopologyService, e: UnifiedEvent, r: Attributes): PodInfo | undefined {
    const cid = str(r['container.id']);
    let pod = cid ? t.podByContainerId(stripRuntimePrefix(cid)) : undefined;
    const uid = str(r['k8s.pod.uid']);
    if (!pod && uid) pod = t.podByUid(uid);
    const ns = str(r['k8s.namespace.name']);
    const name = str(r['k8s.pod.name']);
    if (!pod && ns && name) pod = t.podByName(ns, name);
    const ip = str(r['k8s.pod.ip']) ?? (e.kind === 'network' ? str(e.network?.srcAddr) : undefined);
    if (!pod && ip) pod = t.podByIp(ip);
    return pod;
  }

  private applyStatic(e: UnifiedEvent, r: Attributes): void {
    if (this.hosts.size) {
      const host = str(r['host.name']) ?? str(r['host.ip']);
      const h = host ? this.hosts.get(host) : undefined;
      if (h) {
        insert(r, 'service.name', h.service);
        insert(r, 'k8s.node.name', h.node);
        if (h.resource) for (const k in h.resource) if (r[k] === undefined) r[k] = h.resource[k]!;
      }
    }
    for (let i = 0; i < this.statics.length; i++) {
      const s = this.statics[i]!;
      let ok = true;
      for (const k in s.match) if (r[k] !== s.match[k]) { ok = false; break; }
      if (!ok) continue;
      if (!e.entity) e.entity = { ...s.entity };
      if (s.resource) for (const k in s.resource) if (r[k] === undefined) r[k] = s.resource[k]!;
      break;
    }
  }

  /** Destination ip:port → the Service (or pod) behind it, as `tapio.peer.*` attributes. */
  private resolvePeer(e: UnifiedEvent): void {
    const n = e.network!;
    const a = e.attributes;
    const ip = str(n.dstAddr);
    if (!ip) return;
    insert(a, 'network.peer.address', ip);
    if (typeof n.dstPort === 'number') insert(a, 'network.peer.port', n.dstPort);
    const t = this.topology;
    if (t) {
      const svc = t.serviceByAddress(ip, n.dstPort);
      if (svc) { insert(a, 'tapio.peer.service', svc.name); insert(a, 'tapio.peer.namespace', svc.namespace); }
      const pod = t.podByIp(ip);
      if (pod) {
        insert(a, 'tapio.peer.pod', pod.name);
        insert(a, 'tapio.peer.namespace', pod.namespace);
        insert(a, 'tapio.peer.service', pod.services[0]);
      }
    }
    const h = this.hosts.get(ip);
    if (h) insert(a, 'tapio.peer.service', h.service);
  }
}

function applyPod(r: Attributes, pod: PodInfo, containerId: string | undefined): void {
  insert(r, 'k8s.pod.name', pod.name);
  insert(r, 'k8s.pod.uid', pod.uid);
  insert(r, 'k8s.namespace.name', pod.namespace);
  insert(r, 'k8s.node.name', pod.nodeName);
  if (containerId) {
    const bare = stripRuntimePrefix(containerId);
    for (const c of pod.containers) {
      if (c.id && stripRuntimePrefix(c.id) === bare) { insert(r, 'k8s.container.name', c.name); break; }
    }
  } else if (pod.containers.length === 1) {
    insert(r, 'k8s.container.name', pod.containers[0]!.name);
  }
  for (const o of pod.owners) insert(r, WORKLOAD_KEY[o.kind] ?? `k8s.${o.kind.toLowerCase()}.name`, o.name);
  if (pod.workload) insert(r, WORKLOAD_KEY[pod.workload.kind] ?? `k8s.${pod.workload.kind.toLowerCase()}.name`, pod.workload.name);
  const service = pod.services[0] ?? pod.labels['app.kubernetes.io/name'] ?? pod.labels.app ?? pod.workload?.name;
  insert(r, 'service.name', service);
}

/**
 * The entity when the source did not name one: for application signals the service, for
 * kernel and network events the pod (or container/process) the kernel saw.
 */
export function defaultEntity(e: UnifiedEvent): EntityRef | undefined {
  const r = e.resource;
  const svc = str(r['service.name']);
  const ns = str(r['k8s.namespace.name']);
  const pod = str(r['k8s.pod.name']);
  const low = e.kind === 'kernel' || e.kind === 'network';
  if (!low && svc) return ns ? { kind: 'service', name: svc, namespace: ns } : { kind: 'service', name: svc };
  if (pod) {
    const ref: EntityRef = { kind: 'pod', name: pod };
    if (ns) ref.namespace = ns;
    const uid = str(r['k8s.pod.uid']);
    if (uid) ref.uid = uid;
    return ref;
  }
  if (svc) return ns ? { kind: 'service', name: svc, namespace: ns } : { kind: 'service', name: svc };
  const cid = str(r['container.id']);
  if (cid) return { kind: 'container', name: cid.slice(0, 12), uid: cid };
  const node = str(r['k8s.node.name']);
  if (node) return { kind: 'node', name: node };
  const host = str(r['host.name']);
  const pid = r['process.pid'];
  if (typeof pid === 'number') return { kind: 'process', name: `${str(r['process.executable.name']) ?? 'pid'}:${pid}`, namespace: host };
  if (host) return { kind: 'host', name: host };
  return undefined;
}
