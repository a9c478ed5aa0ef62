import { parseDuration, type ImpactInfo, type Severity, type TopologyService, type UnifiedEvent } from '@tapio/core';
import { CallGraph } from './callgraph';
import type { ImpactConfig, ServiceEntry } from './config';
import { BucketRing } from './ring';
import { DistinctUsers } from './users';

export const SEVERITY_RANK: Record<Severity, number> = { debug: 0, info: 1, warn: 2, error: 3, fatal: 4 };
const SEVERITY_WEIGHT: Record<Severity, number> = { debug: 0, info: 0.1, warn: 0.35, error: 0.6, fatal: 0.85 };
const TIER_WEIGHT = [0.5, 1, 0.75, 0.5, 0.25]; // index = tier; 0 = unknown
/** How far trouble with one of these spreads by its nature (node > service > deployment > pod). */
const KIND_WEIGHT: Record<string, number> = {
  node: 1, host: 0.9, service: 0.7, deployment: 0.6, statefulset: 0.6, daemonset: 0.6, replicaset: 0.5, job: 0.3,
  pod: 0.4, container: 0.3, process: 0.2,
};

/** The numbers behind a score, kept on the event next to the ImpactInfo fields. */
export interface ImpactDetails extends ImpactInfo {
  service?: string;
  owner?: string;
  tier?: number;
  /** Error-budget burn rate per configured window, e.g. { '5m': 20.1, '1h': 3.2 }. */
  burnRate?: Record<string, number>;
  failedRequests?: number;
  dependents?: number;
}

interface ServiceState {
  ring: BucketRing;
  users: DistinctUsers;
  /** Saw root SERVER spans (no parent): the service is where user requests enter. */
  userFacing: boolean;
  latestNs: number;
}

const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

function httpStatus(e: UnifiedEvent): number | undefined {
  const v = e.attributes['http.response.status_code'] ?? e.attributes['http.status_code'];
  const n = typeof v === 'number' ? v : typeof v === 'string' ? Number(v) : NaN;
  return Number.isFinite(n) ? n : undefined;
}

/** A request failed: ERROR status, 5xx, or an error/fatal severity. */
export function isFailure(e: UnifiedEvent): boolean {
  if (e.span?.status?.code === 2) return true;
  const h = httpStatus(e);
  if (h !== undefined && h >= 500) return true;
  return e.severity === 'error' || e.severity === 'fatal';
}

/**
 * Service windows, the learned call graph and the scoring model. Everything is computed from
 * the events seen and the catalog; nothing is made up: without a catalog value there is no
 * revenue figure, and a score without a catalog entry says `guessed: true`.
 */
export class ImpactModel {
  readonly graph: CallGraph;
  private readonly services = new Map<string, ServiceState>();
  private readonly catalog: Map<string, ServiceEntry>;
  private readonly windowMs: number;
  private readonly burn: { label: string; ms: number; threshold: number }[];
  private readonly bucketMs: number;
  private readonly ringSize: number;
  private readonly minRank: number;
  untracked = 0;

  constructor(private readonly cfg: ImpactConfig, private topology?: TopologyService) {
    this.catalog = new Map(Object.entries(cfg.services));
    this.windowMs = parseDuration(cfg.window);
    this.burn = cfg.burn_rate_windows.map((w) => ({ label: w.window, ms: parseDuration(w.window), threshold: w.threshold }));
    const all = [this.windowMs, ...this.burn.map((b) => b.ms)];
    // Ten buckets in the shortest window, enough buckets for the longest.
    this.bucketMs = Math.max(1000, Math.floor(Math.min(...all) / 10));
    this.ringSize = Math.ceil(Math.max(...all) / this.bucketMs) + 1;
    this.graph = new CallGraph(cfg.limits.max_tracked_spans);
    this.minRank = SEVERITY_RANK[cfg.min_severity];
  }

  setTopology(t: TopologyService | undefined): void { this.topology = t; }
  get trackedServices(): number { return this.services.size; }

  private state(service: string): ServiceState | undefined {
    let st = this.services.get(service);
    if (!st) {
      if (this.services.size >= this.cfg.limits.max_services) { this.untracked++; return undefined; }
      st = { ring: new BucketRing(this.bucketMs, this.ringSize), users: new DistinctUsers(this.cfg.limits.max_users_per_service), userFacing: false, latestNs: 0 };
      this.services.set(service, st);
    }
    return st;
  }

  private isEntryPoint(e: UnifiedEvent, entry: ServiceEntry | undefined): boolean {
    const kind = e.span?.kind;
    if (kind !== 2 && kind !== 5) return false; // SERVER or CONSUMER
    const eps = entry?.entry_points;
    if (!eps) return true;
    const route = str(e.attributes['http.route']);
    return eps.includes(e.span!.name) || (route !== undefined && eps.includes(route));
  }

  /** Feeds a span (or an access log with an HTTP status) into its service's windows and the call graph. */
  observe(e: UnifiedEvent): void {
    const service = str(e.resource['service.name']);
    if (!service) return;
    const weight = e.count ?? 1;
    if (e.kind === 'span' && e.span) {
      this.graph.observe(e.trace?.spanId, e.trace?.parentSpanId, e.span.kind, service, e.time);
      const peer = str(e.attributes['peer.service']);
      if (peer && e.span.kind === 3) this.graph.addCall(service, peer, e.time);
    } else if (e.kind === 'network') {
      const peer = str(e.attributes['tapio.peer.service']);
      if (peer) this.graph.addCall(service, peer, e.time);
      return;
    } else if (httpStatus(e) === undefined) {
      return;
    }
    const st = this.state(service);
    if (!st) return;
    if (e.time > st.latestNs) st.latestNs = e.time;
    const entry = this.catalog.get(service);
    const isServerish = e.kind !== 'span' || e.span!.kind === 2 || e.span!.kind === 5;
    if (!isServerish) return; // client/internal spans are not requests into this service
    if (e.kind === 'span' && !e.trace?.parentSpanId && e.span!.kind === 2) st.userFacing = true;
    const failed = isFailure(e);
    const entryFailed = failed && this.isEntryPoint(e, entry);
    st.ring.add(e.time / 1e6, weight, failed ? weight : 0, entryFailed ? weight : 0);
    if (failed) {
      const user = str(e.attributes['enduser.id']) ?? str(e.attributes['user.id']);
      if (user) st.users.see(user, e.time);
    }
  }

  shouldScore(e: UnifiedEvent): boolean {
    return SEVERITY_RANK[e.severity] >= this.minRank || e.semantic !== undefined;
  }

  private customerFacing(service: string | undefined): boolean {
    if (!service) return false;
    const entry = this.catalog.get(service);
    if (entry?.customer_facing !== undefined) return entry.customer_facing;
    return this.services.get(service)?.userFacing ?? false;
  }

  score(e: UnifiedEvent): ImpactDetails {
    const service = str(e.resource['service.name']);
    const entry = service ? this.catalog.get(service) : undefined;
    const st = service ? this.services.get(service) : undefined;
    const nowNs = Math.max(e.time, st?.latestNs ?? 0);
    const nowMs = nowNs / 1e6;
    const upstream = service ? this.graph.upstream(service) : [];

    // Customer-facing: the service itself, or one of the services that call it.
    const selfFacing = this.customerFacing(service);
    const facingUpstream = upstream.filter((s) => this.customerFacing(s));
    const customerFacing = selfFacing || facingUpstream.length > 0;

    // Failing entry requests × value, over the service itself and its customer-facing callers.
    let revenueAtRisk: number | undefined;
    let failedRequests = 0;
    let affectedUsers: number | undefined;
    const sinceNs = nowNs - this.windowMs * 1e6;
    const counted = selfFacing && service ? [service, ...facingUpstream] : facingUpstream;
    for (const s of counted) {
      const sst = this.services.get(s);
      if (!sst) continue;
      const failedEntry = sst.ring.sum(sst.ring.failedEntry, nowMs, this.windowMs);
      failedRequests += failedEntry;
      const c = this.catalog.get(s);
      const value = c?.revenue_per_request ?? c?.average_order_value;
      if (value !== undefined) revenueAtRisk = (revenueAtRisk ?? 0) + failedEntry * value;
      // Distinct users: the largest set among these services (a lower bound of the union).
      const users = sst.users.count(sinceNs);
      affectedUsers = Math.max(affectedUsers ?? 0, users);
    }
    if (!counted.length && st) affectedUsers = st.users.count(sinceNs);

    // Error-budget burn rate per window, and the latency objective on this very span.
    const availability = entry?.slo?.availability ?? this.cfg.default_availability;
    let sloViolation = false;
    let burnRate: Record<string, number> | undefined;
    if (st) {
      for (const b of this.burn) {
        const total = st.ring.sum(st.ring.total, nowMs, b.ms);
        if (total < this.cfg.min_requests) continue;
        const rate = st.ring.sum(st.ring.failed, nowMs, b.ms) / total / (1 - availability);
        (burnRate ??= {})[b.label] = Math.round(rate * 100) / 100;
        if (rate >= b.threshold) sloViolation = true;
      }
    }
    const latencySlo = entry?.slo?.latency_ms;
    if (latencySlo !== undefined && e.kind === 'span' && (e.span?.durationMs ?? 0) > latencySlo) sloViolation = true;

    // Cascade risk: what the entity is by nature, and how much depends on it.
    let dependents = upstream.length;
    const ek = e.entity?.kind;
    if (ek === 'node' && this.topology && e.entity) dependents = Math.max(dependents, this.topology.podsOnNode(e.entity.name).length);
    const kindWeight = (ek !== undefined ? KIND_WEIGHT[ek] : undefined) ?? (service ? 0.7 : 0.3);
    const depFactor = dependents / (dependents + 3);
    const cascadeRisk = round3(1 - (1 - 0.5 * kindWeight) * (1 - depFactor));

    const sevWeight = SEVERITY_WEIGHT[e.severity] ?? 0.1;
    const tierWeight = TIER_WEIGHT[entry?.tier ?? 0] ?? 0.5;
    const userFactor = affectedUsers ? Math.min(1, Math.log10(1 + affectedUsers) / 3) : 0;
    const revenueFactor = revenueAtRisk ? Math.min(1, Math.log10(1 + revenueAtRisk) / 4) : 0;
    const score = round3(Math.min(1,
      0.4 * sevWeight + 0.15 * tierWeight + 0.15 * (customerFacing ? 1 : 0) + 0.1 * (sloViolation ? 1 : 0)
      + 0.1 * cascadeRisk + 0.1 * Math.max(userFactor, revenueFactor)));

    const out: ImpactDetails = {
      score,
      severity: score >= 0.75 ? 'fatal' : score >= 0.5 ? 'error' : score >= 0.3 ? 'warn' : score >= 0.1 ? 'info' : 'debug',
      customerFacing,
      cascadeRisk,
      sloViolation,
      guessed: entry === undefined,
      dependents,
    };
    if (revenueAtRisk !== undefined) out.revenueAtRisk = Math.round(revenueAtRisk * 100) / 100;
    if (affectedUsers !== undefined) out.affectedUsers = affectedUsers;
    if (counted.length) out.failedRequests = failedRequests;
    if (burnRate) out.burnRate = burnRate;
    if (service) out.service = service;
    if (entry?.owner) out.owner = entry.owner;
    if (entry?.tier) out.tier = entry.tier;
    return out;
  }
}

function round3(x: number): number { return Math.round(x * 1000) / 1000; }
