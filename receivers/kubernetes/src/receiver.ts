import { isRetryable, parseDuration, TOPOLOGY_SERVICE, type ComponentContext, type Consumer, type Host, type Receiver, type UnifiedEvent } from '@tapio/core';
import { KubeApi } from './client';
import type { KubernetesReceiverConfig } from './config';
import { fromDerived, fromKubeEvent, toNanos } from './convert';
import { Deriver } from './deriver';
import { OBJECT_KEYS, RESOURCE_KINDS, type KubeObject, type ResourceKind } from './kinds';
import { defaultIdentity, LeaderElector } from './leader';
import { Reflector, type ChangeType, type ReflectorSink } from './reflector';
import { TopologyCache } from './topology';

/** Retries of a batch the next consumer refused with a RetryableError (50 ms doubling: ~3 s in all). */
const CONSUME_RETRIES = 6;

/** Kinds the topology cache indexes. */
const TOPOLOGY_KINDS = new Set(['Pod', 'Service', 'EndpointSlice', 'ReplicaSet', 'Deployment', 'StatefulSet', 'DaemonSet', 'Job']);

/**
 * The kubernetes receiver: one reflector (list + watch) per watched kind and namespace, a topology
 * cache fed by all of them, derived events from state changes, and Kubernetes Events as they come.
 * Events are buffered while a list page or a chunk of watch lines is applied and handed on in one
 * batch; the watch waits for the consumer (back-pressure).
 */
export class KubernetesReceiver implements Receiver, ReflectorSink {
  readonly topology: TopologyCache;
  readonly reflectors: Reflector[] = [];
  private api?: KubeApi;
  private readonly deriver: Deriver;
  private pending: UnifiedEvent[] = [];
  private readonly seenEvents = new Map<string, true>();
  private elector?: LeaderElector;
  private started = false;
  private pendingTimer?: NodeJS.Timeout;
  private rechecking = false;
  private stopped = false;
  private readonly startMs: number;
  private readonly emitted: (n: number) => void;

  constructor(private readonly ctx: ComponentContext, private readonly cfg: KubernetesReceiverConfig, private readonly next: Consumer, api?: KubeApi) {
    this.api = api;
    this.startMs = Date.now();
    this.topology = new TopologyCache({ maxPods: cfg.topology.max_pods, maxObjects: cfg.topology.max_objects });
    this.deriver = new Deriver({
      includeInitialState: cfg.include_initial_state, includeBeforeStart: cfg.include_events_before_start,
      pendingThresholdMs: parseDuration(cfg.pod_pending_threshold), startMs: this.startMs, now: () => ctx.clock.nowMs(),
    });
    this.emitted = ctx.telemetry.counter('tapio_receiver_k8s_derived_events', 'Derived events produced from Kubernetes object state changes');
    ctx.telemetry.gauge('tapio_receiver_k8s_topology_pods', 'Pods held by the topology cache', () => this.topology.size.pods);
  }

  async start(host: Host): Promise<void> {
    if (this.started || this.stopped) return;
    this.started = true;
    try {
      this.api ??= await KubeApi.fromSettings({ auth_type: this.cfg.auth_type, kubeconfig: this.cfg.kubeconfig, context: this.cfg.context });
    } catch (err) {
      const e = new Error(`kubernetes receiver ${this.ctx.id}: cannot load cluster credentials (${this.cfg.auth_type}): ${(err as Error).message}`);
      if (!this.cfg.optional) throw e;
      // optional: the collector runs on; the (empty) topology is still there for whoever asks.
      this.ctx.logger.warn({ reason: e.message }, 'kubernetes data unavailable; running on without it (optional: true)');
      host.registerService(TOPOLOGY_SERVICE, this.topology);
      host.reportStatus(this.ctx.id, 'recoverable_error', e);
      return;
    }
    host.registerService(TOPOLOGY_SERVICE, this.topology);
    const backoff = {
      initialMs: parseDuration(this.cfg.retry_on_failure.initial_interval),
      maxMs: parseDuration(this.cfg.retry_on_failure.max_interval),
      randomization: this.cfg.retry_on_failure.randomization_factor,
    };
    const watchTimeoutSeconds = Math.max(1, Math.round(parseDuration(this.cfg.watch_timeout) / 1000));
    for (const key of OBJECT_KEYS) {
      const oc = this.cfg.objects[key];
      if (!oc?.enabled) continue;
      const kind = RESOURCE_KINDS[key];
      const namespaces = kind.namespaced ? (oc.namespaces.length ? oc.namespaces : this.cfg.namespaces) : [];
      for (const namespace of namespaces.length ? namespaces : [undefined]) {
        this.reflectors.push(new Reflector(this.api, {
          kind, namespace, labelSelector: oc.label_selector || undefined, fieldSelector: oc.field_selector || undefined,
          pageSize: this.cfg.page_size, watchTimeoutSeconds, backoff,
          onError: (err, phase) => {
            this.ctx.logger.warn({ kind: kind.kind, namespace, phase, err: err.message }, 'kubernetes list/watch failed; retrying');
            host.reportStatus(this.ctx.id, 'recoverable_error', err);
          },
          onListed: (count, relist) => this.ctx.logger.debug({ kind: kind.kind, namespace, count, relist }, 'listed'),
          onRecovered: () => {
            this.ctx.logger.info({ kind: kind.kind, namespace }, 'kubernetes list/watch recovered');
            if (this.reflectors.every((x) => !x.isFailing)) host.reportStatus(this.ctx.id, 'ok');
          },
        }, this));
      }
    }
    const le = this.cfg.leader_election;
    if (le.enabled) {
      this.elector = new LeaderElector(this.api, {
        leaseName: le.lease_name, leaseNamespace: le.lease_namespace, identity: le.identity || defaultIdentity(),
        leaseDurationMs: parseDuration(le.lease_duration), renewDeadlineMs: parseDuration(le.renew_deadline), retryPeriodMs: parseDuration(le.retry_period),
      }, (leader) => this.ctx.logger.info({ leader }, leader ? 'became leader: emitting events' : 'not the leader: only keeping topology'),
      (err) => this.ctx.logger.warn({ err: err.message }, 'leader election failed; retrying'));
      this.elector.start();
    }
    // A pod that stays Pending changes nothing on the wire: look at pending pods again now and then.
    const pendingMs = parseDuration(this.cfg.pod_pending_threshold);
    this.pendingTimer = setInterval(() => { void this.recheckPending(); }, Math.max(100, Math.min(pendingMs / 2, 30_000)));
    this.pendingTimer.unref();
    // Reflectors run in the background; start() does not wait for the first lists (a slow or absent
    // API server must not block the collector). `whenSynced()` is there for whoever needs it.
    for (const r of this.reflectors) r.start();
  }

  /** Resolves once every reflector has delivered its first list. */
  async whenSynced(): Promise<void> { await Promise.all(this.reflectors.map((r) => r.whenSynced())); }

  get isLeader(): boolean { return this.elector ? this.elector.isLeader : true; }

  async shutdown(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    clearInterval(this.pendingTimer);
    await Promise.all(this.reflectors.map((r) => r.stop()));
    await this.elector?.stop();
    await this.flush();
  }

  // ---- ReflectorSink ----

  apply(kind: ResourceKind, type: ChangeType, obj: KubeObject, old: KubeObject | undefined, initial: boolean): void {
    const k = kind.kind;
    if (TOPOLOGY_KINDS.has(k)) this.topology.apply(k, type, obj);
    if (k === 'Event') { if (type !== 'DELETED') this.onKubeEvent(obj); return; }
    const { emit, skippedOld } = this.deriver.derive(k, type, obj, old, initial);
    if (skippedOld) this.ctx.telemetry.dropped(skippedOld, 'older_than_start');
    for (const d of emit) this.pending.push(fromDerived(d, obj, this.ctx.id, this.topology));
    if (emit.length) this.emitted(emit.length);
  }

  async flush(): Promise<void> {
    if (this.topology.refused) { this.ctx.telemetry.dropped(this.topology.refused, 'topology_full'); this.topology.refused = 0; }
    if (this.pending.length === 0) return;
    const events = this.pending;
    this.pending = [];
    if (!this.isLeader) { this.ctx.telemetry.dropped(events.length, 'not_leader'); return; }
    // A retryable refusal (memory_limiter, a full queue) is retried with backoff while the watch waits
    // (back-pressure); a permanent one, or one that outlasts the retries, is counted and the watch goes on.
    for (let attempt = 0; ; attempt++) {
      try {
        await this.next.consume({ events });
        return;
      } catch (err) {
        if (isRetryable(err) && attempt < CONSUME_RETRIES && !this.stopped) {
          await new Promise((r) => setTimeout(r, 50 * 2 ** attempt));
          continue;
        }
        this.ctx.telemetry.dropped(events.length, isRetryable(err) ? 'consumer_busy' : 'consumer_refused');
        this.ctx.logger.warn({ err: (err as Error).message, events: events.length }, 'downstream refused kubernetes events');
        return;
      }
    }
  }

  private async recheckPending(): Promise<void> {
    if (this.rechecking || this.stopped) return;
    this.rechecking = true;
    try {
      for (const r of this.reflectors) {
        if (r.kind.kind !== 'Pod') continue;
        for (const pod of r.store.values()) {
          if (pod.status?.phase !== 'Pending') continue;
          const { emit } = this.deriver.derive('Pod', 'MODIFIED', pod, undefined, false);
          for (const d of emit) this.pending.push(fromDerived(d, pod, this.ctx.id, this.topology));
          if (emit.length) this.emitted(emit.length);
        }
      }
      await this.flush();
    } finally {
      this.rechecking = false;
    }
  }

  private onKubeEvent(ev: KubeObject): void {
    const last = ev.series?.lastObservedTime ?? ev.lastTimestamp ?? ev.deprecatedLastTimestamp ?? ev.eventTime ?? ev.firstTimestamp ?? ev.metadata.creationTimestamp;
    // API timestamps have second resolution: compare against the start second.
    const lastNs = toNanos(last);
    if (!this.cfg.include_events_before_start && lastNs !== undefined && lastNs < Math.floor(this.startMs / 1000) * 1e9) {
      this.ctx.telemetry.dropped(1, 'older_than_start');
      return;
    }
    // The same Event seen again (re-list, or through both Event APIs) is one event; a new count is news.
    const identity = `${ev.metadata.uid ?? `${ev.metadata.namespace}/${ev.metadata.name}`}/${ev.series?.count ?? ev.count ?? ev.deprecatedCount ?? 1}`;
    if (this.seenEvents.has(identity)) { this.ctx.telemetry.dropped(1, 'duplicate'); return; }
    this.seenEvents.set(identity, true);
    if (this.seenEvents.size > this.cfg.dedup_cache_size) this.seenEvents.delete(this.seenEvents.keys().next().value as string);
    const ue = fromKubeEvent(ev, this.ctx.id, this.topology);
    if (ue) this.pending.push(ue); else this.ctx.telemetry.dropped(1, 'malformed_event');
  }
}
