import type { UnifiedEvent } from '@tapio/core';
import { EntityIndex, layerOf, type Layer } from './entities';
import { intentOf, isFailure, logPattern, summaryOf } from './discrete';
import { FeatureState, featureId, judgePoint, type Anomaly, type DetectionSettings, type FeatureFamily, type FeatureKey } from './features';
import { link, newSpanRec, selfTime, type SpanRec } from './spans';
import type { CausalRule } from './rules';
import { IncidentTracker, type DiscreteRec } from './incidents';
import { TrendWatcher, type EarlyWarningSettings } from './trend';

export interface EngineSettings {
  windowMs: number;
  allowedLatenessMs: number;
  maxClockSkewMs: number;
  detection: DetectionSettings;
  /** Consecutive anomalous windows before anomalies alone open an incident. */
  openAfterWindows: number;
  /** Consecutive clean windows before an incident resolves. */
  recoveryWindows: number;
  maxSpans: number;
  maxFeatures: number;
  maxDiscrete: number;
  maxEntities: number;
  maxCauses: number;
  rules: CausalRule[];
  earlyWarning: EarlyWarningSettings;
  caseIdAttribute: string;
  /** `source` of the events the engine emits. */
  source: string;
}

export interface EngineCounters {
  late: number;
  clockSkew: number;
  evictedSpans: number;
  evictedFeatures: number;
  evictedDiscrete: number;
  evictedEntities: number;
  noTimestamp: number;
}

function str(v: unknown): string | undefined { return typeof v === 'string' && v ? v : undefined; }

/**
 * The correlation engine: event-time windows with a watermark, span/entity/peer indexes,
 * online robust anomaly detection, and the incident tracker. Pure: given the same events in
 * any order within the allowed lateness it produces the same incidents, whatever the wall clock.
 */
export class CorrelationEngine {
  readonly counters: EngineCounters = { late: 0, clockSkew: 0, evictedSpans: 0, evictedFeatures: 0, evictedDiscrete: 0, evictedEntities: 0, noTimestamp: 0 };
  readonly entities: EntityIndex;
  /** Call graph learned from spans: caller → callees (with call counts). */
  readonly callGraph = new Map<string, Map<string, number>>();
  private readonly spans = new Map<string, SpanRec>();
  private readonly orphans = new Map<string, SpanRec[]>();
  /** Spans waiting for the watermark, bucketed by end-time window. */
  private readonly byEndBucket = new Map<number, SpanRec[]>();
  private readonly features = new Map<string, FeatureState>();
  /** windowStart → features with samples in that window. */
  private readonly windowFeatures = new Map<number, Set<FeatureState>>();
  /** windowStart → point anomalies (metrics) waiting for their window to close. */
  private readonly pointAnomalies = new Map<number, Anomaly[]>();
  private readonly discreteByWindow = new Map<number, Map<string, DiscreteRec>>();
  /** service|operation → services its requests have been seen calling. */
  private readonly opCallees = new Map<string, string[]>();
  private readonly logPatterns = new Map<string, { known: Set<string>; pending: Set<string>; lines: number; since: number }>();
  private readonly incidents: IncidentTracker;
  private readonly trends: TrendWatcher;
  private lastResource?: UnifiedEvent['resource'];
  private lastKind?: string;
  private lastService?: string;
  /** service → operation → [excl, dur, fan, err] feature states, so an entry span costs no key strings. */
  private readonly entryFeatures = new Map<string, Map<string, (FeatureState | undefined)[]>>();
  private maxTime = -Infinity; // ms
  private watermark = -Infinity; // ms
  private nextWindowToClose = NaN;
  private out: UnifiedEvent[] = [];
  caseId?: string;

  constructor(readonly s: EngineSettings) {
    this.entities = new EntityIndex(s.maxEntities, (n) => { this.counters.evictedEntities += n; });
    this.incidents = new IncidentTracker(s, this.callGraph, (svc) => this.entities.describe(svc));
    this.trends = new TrendWatcher(s.earlyWarning);
  }

  get heldSpans(): number { return this.spans.size; }
  get heldFeatures(): number { return this.features.size; }
  get currentWatermarkMs(): number { return this.watermark; }

  /** Feeds events; returns the correlation events (incidents, predictions) this produced. */
  ingest(events: UnifiedEvent[]): UnifiedEvent[] {
    for (let i = 0; i < events.length; i++) this.one(events[i]!);
    this.advance();
    const o = this.out; this.out = [];
    return o;
  }

  /** Closes every window (end of replay, shutdown) and returns the final incident states. */
  flush(): UnifiedEvent[] {
    if (Number.isFinite(this.maxTime)) {
      this.watermark = this.maxTime + 3 * this.s.windowMs + 1;
      this.finalizeSpans(Infinity);
      this.closeWindows(true);
    }
    this.incidents.flush(this.out, this.caseId);
    const o = this.out; this.out = [];
    return o;
  }

  private one(e: UnifiedEvent): void {
    if (e.kind === 'correlation') return;
    let t = e.time / 1e6;
    if (!(t > 0)) {
      if (e.observedTime > 0) { t = e.observedTime / 1e6; this.counters.noTimestamp++; } else { this.counters.noTimestamp++; return; }
    }
    // A source clock far ahead of when the event was observed would drag the watermark forward.
    const observed = e.observedTime / 1e6;
    if (observed > 0 && t > observed + this.s.maxClockSkewMs) { this.counters.clockSkew++; t = observed; }
    if (t < this.watermark) { this.counters.late++; if (e.kind !== 'metric') return; }
    if (t > this.maxTime) this.maxTime = t;
    if (this.caseId === undefined) {
      const cid = str(e.resource[this.s.caseIdAttribute]) ?? str(e.attributes[this.s.caseIdAttribute]);
      if (cid) this.caseId = cid;
    }
    // Receivers share one resource object among the events of a resource: resolve it once.
    let service: string | undefined;
    if (e.resource === this.lastResource && e.kind === this.lastKind && e.entity === undefined) service = this.lastService;
    else {
      service = this.entities.serviceOf(e);
      if (service && e.kind !== 'network') this.entities.learn(e, service);
      this.lastResource = e.resource; this.lastKind = e.kind; this.lastService = service;
    }
    switch (e.kind) {
      case 'span': this.span(e, service ?? 'unknown', t); break;
      case 'log': this.log(e, service ?? 'unknown', t); break;
      case 'metric': this.metric(e, service ?? 'unknown', t); break;
      default: break;
    }
    const intent = intentOf(e);
    if (isFailure(e, intent)) this.discrete(e, intent, service, t);
  }

  private windowOf(t: number): number { return Math.floor(t / this.s.windowMs) * this.s.windowMs; }

  private span(e: UnifiedEvent, service: string, t: number): void {
    const sp = e.span; const tr = e.trace;
    if (!sp || !tr?.spanId) return;
    const start = t;
    const endNs = Number(sp.endTimeUnixNano);
    const end = endNs > 0 ? endNs / 1e6 : start + (sp.durationMs ?? 0);
    if (this.spans.size >= this.s.maxSpans) this.evictOldestSpans();
    const a = e.attributes;
    const rec = newSpanRec({
      spanId: tr.spanId, parentId: tr.parentSpanId ?? '', service, op: sp.name, kind: sp.kind ?? 0,
      start, end: Math.max(end, start), err: sp.status?.code === 2, eventId: e.id,
      peer: sp.kind === 3 ? (str(a['peer.service']) ?? str(a['tapio.peer.service']) ?? this.entities.serviceAt(str(a['server.address']) ?? str(a['net.peer.name']), portOf(a['server.port'] ?? a['net.peer.port'])) ?? str(a['db.system']) ?? str(a['server.address'])) : undefined,
    });
    this.spans.set(rec.spanId, rec);
    const parent = rec.parentId ? this.spans.get(rec.parentId) : undefined;
    if (parent) this.linkEdge(rec, parent);
    else if (rec.parentId) {
      const list = this.orphans.get(rec.parentId);
      if (list) list.push(rec); else this.orphans.set(rec.parentId, [rec]);
    }
    const waiting = this.orphans.get(rec.spanId);
    if (waiting) { this.orphans.delete(rec.spanId); for (const c of waiting) this.linkEdge(c, rec); }
    const b = this.windowOf(rec.end);
    const list = this.byEndBucket.get(b);
    if (list) list.push(rec); else this.byEndBucket.set(b, [rec]);
  }

  private linkEdge(child: SpanRec, parent: SpanRec): void {
    link(child, parent);
    if (child.service !== parent.service) {
      let m = this.callGraph.get(parent.service);
      if (!m) { m = new Map(); this.callGraph.set(parent.service, m); }
      m.set(child.service, (m.get(child.service) ?? 0) + 1);
    }
  }

  private evictOldestSpans(): void {
    let oldest = Infinity;
    for (const k of this.byEndBucket.keys()) if (k < oldest) oldest = k;
    const list = this.byEndBucket.get(oldest);
    if (!list) return;
    this.byEndBucket.delete(oldest);
    for (const r of list) { this.spans.delete(r.spanId); this.counters.evictedSpans++; }
  }

  private feature(family: FeatureFamily, service: string, detail: string, peer?: string): FeatureState | undefined {
    const key: FeatureKey = { family, service, detail, peer };
    const id = featureId(key);
    let f = this.features.get(id);
    if (!f) {
      if (this.features.size >= this.s.maxFeatures) { this.counters.evictedFeatures++; return undefined; }
      f = new FeatureState(key, this.s.detection.baselineCapacity);
      f.rate = family === 'err' || family === 'logerr' || family === 'logpat' || family === 'calls';
      f.twoSided = family === 'calls';
      f.counts = family === 'fan';
      this.features.set(id, f);
    }
    return f;
  }

  private sample(f: FeatureState | undefined, t: number, v: number): void {
    if (!f) return;
    let w = this.windowOf(t);
    if (w < this.nextWindowToClose) w = this.nextWindowToClose; // late sample: the oldest open window takes it
    f.add(w, v);
    f.lastSeen = t;
    let set = this.windowFeatures.get(w);
    if (!set) { set = new Set(); this.windowFeatures.set(w, set); }
    set.add(f);
  }

  private finalizeSpans(upTo: number): void {
    const buckets = [...this.byEndBucket.keys()].filter((b) => b + this.s.windowMs <= upTo).sort((x, y) => x - y);
    for (const b of buckets) {
      const list = this.byEndBucket.get(b)!;
      this.byEndBucket.delete(b);
      // Children end before their parents: finalize in end order so an entry sees its whole subtree.
      list.sort((x, y) => x.end - y.end);
      for (const r of list) this.finalize(r);
    }
  }

  private finalize(r: SpanRec): void {
    r.finalized = true;
    this.spans.delete(r.spanId);
    this.orphans.delete(r.spanId);
    const self = selfTime(r);
    if (r.remoteChild !== undefined) {
      this.sample(this.feature('gap', r.service, r.remoteChild, r.remoteChild), r.start, self);
    } else if (r.kind === 3 && r.peer) {
      this.sample(this.feature('gap', r.service, r.peer, r.peer), r.start, r.end - r.start);
      let m = this.callGraph.get(r.service);
      if (!m) { m = new Map(); this.callGraph.set(r.service, m); }
      m.set(r.peer, (m.get(r.peer) ?? 0) + 1);
    } else {
      r.entry.excl += self;
    }
    if (r.entry === r) {
      const op = r.op;
      let byOp = this.entryFeatures.get(r.service);
      if (!byOp) { byOp = new Map(); this.entryFeatures.set(r.service, byOp); }
      let fs = byOp.get(op);
      if (!fs) { fs = [this.feature('excl', r.service, op), this.feature('dur', r.service, op), this.feature('fan', r.service, op), this.feature('err', r.service, op)]; byOp.set(op, fs); }
      this.sample(fs[0], r.start, r.excl);
      this.sample(fs[1], r.start, r.end - r.start);
      this.sample(fs[2], r.start, r.calls);
      this.sample(fs[3], r.start, r.err && !r.childErr ? 1 : 0);
      const opKey = r.service + '|' + op;
      let known = this.opCallees.get(opKey);
      if (!known) { known = []; this.opCallees.set(opKey, known); }
      if (r.callees) for (const c of r.callees) if (!known.includes(c)) known.push(c);
      for (const c of known) this.sample(this.feature('calls', r.service, op + ' → ' + c, c), r.start, r.callees?.includes(c) ? 1 : 0);
    }
  }

  private log(e: UnifiedEvent, service: string, t: number): void {
    const isErr = e.severity === 'error' || e.severity === 'fatal';
    this.sample(this.feature('logerr', service, ''), t, isErr ? 1 : 0);
    let lp = this.logPatterns.get(service);
    if (!lp) { lp = { known: new Set(), pending: new Set(), lines: 0, since: t }; this.logPatterns.set(service, lp); }
    lp.lines++;
    const pat = logPattern(e.log?.body);
    // Patterns seen during the service's warm-up are its vocabulary; later ones are new.
    const warming = lp.lines <= this.s.detection.minBaselineSamples * 5 || t - lp.since < this.s.detection.minBaselineWindows * this.s.windowMs;
    if (warming) { if (lp.known.size < 5000) lp.known.add(pat); return; }
    const isNew = !lp.known.has(pat);
    if (isNew && lp.pending.size < 5000) lp.pending.add(pat);
    this.sample(this.feature('logpat', service, ''), t, isNew && e.severity !== 'debug' && e.severity !== 'info' ? 1 : 0);
  }

  private metric(e: UnifiedEvent, service: string, t: number): void {
    const m = e.metric;
    if (!m || typeof m.value !== 'number' || !Number.isFinite(m.value)) return;
    const peer = str(e.attributes['peer.service']);
    const detail = peer ? `${m.name}{peer=${peer}}` : m.name;
    const f = this.feature('metric', service, detail, peer);
    if (f) {
      const a = judgePoint(f, m.value, t, this.s.detection);
      if (a) {
        const w = this.windowOf(t);
        const list = this.pointAnomalies.get(w);
        if (list) list.push(a); else this.pointAnomalies.set(w, [a]);
      }
    }
    const prediction = this.trends.observe(e, service, m.name, m.unit, m.value, t);
    if (prediction) this.out.push(prediction);
  }

  private discrete(e: UnifiedEvent, intent: string | undefined, service: string | undefined, t: number): void {
    const peerService = e.kind === 'network' ? (this.entities.serviceAt(e.network?.dstAddr, e.network?.dstPort) ?? str(e.attributes['tapio.peer.service']) ?? str(e.attributes['peer.service'])) : undefined;
    const resolvedIntent = intent ?? (e.k8s?.reason ?? e.kind);
    const layer = layerOf(e) as Layer;
    const w = this.windowOf(t);
    let byKey = this.discreteByWindow.get(w);
    if (!byKey) { byKey = new Map(); this.discreteByWindow.set(w, byKey); }
    // Repeats (every refused connection, every 5xx) only count; the first of a kind is described.
    const key = layer + '|' + resolvedIntent + '|' + (service ?? '') + '|' + (peerService ?? '');
    const seen = byKey.get(key);
    if (seen) {
      seen.count = (seen.count ?? 1) + 1;
      if (seen.eventIds!.length < 20) seen.eventIds!.push(e.id);
      if (e.impact && (!seen.impact || e.impact.score > seen.impact.score)) seen.impact = e.impact;
      return;
    }
    if (byKey.size >= this.s.maxDiscrete) { this.counters.evictedDiscrete++; return; }
    byKey.set(key, {
      eventId: e.id, time: t, intent: resolvedIntent, layer, service,
      peerService, node: str(e.resource['k8s.node.name']) ?? str(e.resource['host.name']) ?? (service ? this.entities.nodeOf(service) : undefined),
      entity: this.entities.entityOf(e, service), summary: summaryOf(e, intent), confidence: e.semantic?.confidence ?? 0.8,
      suggestedActions: e.semantic?.suggestedActions ?? [], impact: e.impact, kind: e.kind, count: 1, eventIds: [e.id],
    });
  }

  /** Moves the watermark and closes what it passed. */
  private advance(): void {
    const wm = this.maxTime - this.s.allowedLatenessMs;
    if (!(wm > this.watermark)) return;
    this.watermark = wm;
    this.finalizeSpans(wm);
    this.closeWindows(false);
  }

  private closeWindows(all: boolean): void {
    if (Number.isNaN(this.nextWindowToClose)) {
      let first = Infinity;
      for (const k of this.windowFeatures.keys()) if (k < first) first = k;
      for (const k of this.pointAnomalies.keys()) if (k < first) first = k;
      for (const k of this.discreteByWindow.keys()) if (k < first) first = k;
      if (!Number.isFinite(first)) return;
      this.nextWindowToClose = first;
    }
    // A window closes one window after its end, so spans started in it have time to finish.
    const limit = all ? this.maxTime + this.s.windowMs : this.watermark - this.s.windowMs;
    while (this.nextWindowToClose + this.s.windowMs <= limit) {
      const w = this.nextWindowToClose;
      this.nextWindowToClose = w + this.s.windowMs;
      this.closeWindow(w);
    }
  }

  // TODO(issue 5): a feature with no samples in a window is not judged, so a service that goes
  // silent (all requests failing before reaching it) is not detected by its own features.
  private closeWindow(w: number): void {
    const anomalies: Anomaly[] = this.pointAnomalies.get(w) ?? [];
    this.pointAnomalies.delete(w);
    const set = this.windowFeatures.get(w);
    this.windowFeatures.delete(w);
    if (set) {
      for (const f of set) {
        const a = f.close(w, this.s.detection);
        if (f.carry.length) {
          const nw = w + this.s.windowMs;
          let next = this.windowFeatures.get(nw);
          if (!next) { next = new Set(); this.windowFeatures.set(nw, next); }
          next.add(f);
        }
        if (a) anomalies.push(a);
        else if (f.key.family === 'logpat') {
          const lp = this.logPatterns.get(f.key.service);
          if (lp) { for (const p of lp.pending) if (lp.known.size < 5000) lp.known.add(p); lp.pending.clear(); }
        }
      }
    }
    const byKey = this.discreteByWindow.get(w);
    const discrete = byKey ? [...byKey.values()] : [];
    this.discreteByWindow.delete(w);
    this.incidents.onWindow(w, w + this.s.windowMs, anomalies, discrete, this.out, this.caseId);
  }
}

function portOf(v: unknown): number | undefined {
  const n = typeof v === 'number' ? v : typeof v === 'string' ? Number(v) : NaN;
  return Number.isInteger(n) && n > 0 ? n : undefined;
}
