import { createEvent, type ChainLink, type ImpactInfo, type Incident, type IncidentEntity, type UnifiedEvent } from '@tapio/core';
import { LAYER_DEPTH, type Layer } from './entities';
import type { Anomaly } from './features';
import { rankCauses, type RankedCause } from './ranking';
import type { CausalRule } from './rules';

export interface DiscreteRec {
  eventId: string;
  time: number; // ms
  intent: string;
  layer: Layer;
  kind: string;
  service?: string;
  /** For network events: the service at the other end (the refusing / resetting side). */
  peerService?: string;
  node?: string;
  entity: IncidentEntity;
  summary: string;
  confidence: number;
  suggestedActions: string[];
  impact?: ImpactInfo;
  /** How many events of the same layer, intent and entities this record stands for (≥ 1). */
  count?: number;
  /** Ids of the events it stands for (the first few). */
  eventIds?: string[];
}

const MAX_GROUP_IDS = 20;

export interface TrackerSettings {
  windowMs: number;
  openAfterWindows: number;
  recoveryWindows: number;
  maxCauses: number;
  maxDiscrete: number;
  rules: CausalRule[];
}

/** Evidence held for one feature over the incident: the strongest window, the first time seen. */
export interface HeldAnomaly {
  /** The strongest window. */
  a: Anomaly;
  first: number;
  windows: number;
  /** Samples over all anomalous windows, and their severity weighted by samples. */
  samples: number;
  weightedSeverity: number;
}

let incidentSeq = 0;
const DEBUG = !!process.env.TAPIO_CORRELATION_DEBUG;

class OpenIncident {
  readonly id: string;
  readonly anomalies = new Map<string, HeldAnomaly>();
  /**
   * Discrete failures grouped by layer, intent and entities: ranking and the chain work on a
   * handful of groups however many refused connections or 5xx spans arrive.
   */
  readonly groups = new Map<string, DiscreteRec>();
  get discrete(): DiscreteRec[] { return [...this.groups.values()]; }
  start: number;
  end: number;
  detected: number;
  cleanWindows = 0;
  lastSignature = '';
  constructor(start: number, detected: number) {
    incidentSeq++;
    this.id = `inc-${Math.round(start)}-${incidentSeq}`;
    this.start = start; this.end = start; this.detected = detected;
  }
}

function anomalyKey(a: Anomaly): string { return a.key.family + '|' + a.key.service + '|' + a.key.detail; }

/**
 * Incident lifecycle: opens on discrete failures at once, on anomalies after they persist for
 * `openAfterWindows`; every closed window adds evidence and re-ranks; an update is emitted when
 * the ranking changes; it resolves after `recoveryWindows` clean windows.
 */
export class IncidentTracker {
  // TODO(issue 5): one active incident per pipeline; concurrent unrelated faults (disjoint parts
  // of the call graph / topology) should become separate incidents.
  private active?: OpenIncident;
  /** Anomalies of recent windows, kept until an incident opens (so its evidence starts at the onset). */
  private recent: { w: number; anomalies: Anomaly[] }[] = [];
  private streak = 0;

  constructor(private readonly s: TrackerSettings, private readonly callGraph: Map<string, Map<string, number>>,
    private readonly describeEntity: (service: string) => IncidentEntity = (service) => ({ service })) {}

  get discreteCount(): number { return this.active?.groups.size ?? 0; }
  evictOldestDiscrete(): void {
    const g = this.active?.groups;
    const first = g?.keys().next();
    if (g && first && !first.done) g.delete(first.value);
  }

  onWindow(w: number, wEnd: number, anomalies: Anomaly[], discrete: DiscreteRec[], out: UnifiedEvent[], caseId: string | undefined): void {
    if (DEBUG && (anomalies.length || discrete.length)) {
      process.stderr.write(`window ${new Date(w).toISOString()} ${this.active ? 'open' : '-'}\n`);
      for (const a of anomalies) process.stderr.write(`   ${a.key.family}|${a.key.service}|${a.key.detail} ${a.direction} sev=${a.severity.toFixed(2)} z=${a.z.toFixed(1)} n=${a.samples} ${a.baselineMedian.toPrecision(3)}→${a.windowMedian.toPrecision(3)}\n`);
    }
    // A one-off metric point is supporting evidence, not enough to open or keep an incident.
    const blaming = anomalies.filter((a) => a.key.family !== 'metric' || a.persistent);
    const hasSignal = blaming.length > 0 || discrete.length > 0;
    this.streak = blaming.length ? this.streak + 1 : 0;
    this.recent.push({ w, anomalies });
    if (this.recent.length > this.s.openAfterWindows) this.recent.shift();

    let inc = this.active;
    if (!inc && (discrete.length > 0 || this.streak >= this.s.openAfterWindows)) {
      const firstW = this.recent.find((r) => r.anomalies.length)?.w ?? w;
      const firstDiscrete = discrete.length ? Math.min(...discrete.map((d) => d.time)) : Infinity;
      inc = new OpenIncident(Math.min(firstW, firstDiscrete), wEnd);
      for (const r of this.recent) if (r.w !== w) this.addAnomalies(inc, r.anomalies);
      this.active = inc;
    }
    if (!inc) return;
    this.addAnomalies(inc, anomalies);
    for (const d of discrete) {
      const k = d.layer + '|' + d.intent + '|' + (d.service ?? '') + '|' + (d.peerService ?? '');
      const g = inc.groups.get(k);
      if (g) {
        g.count = (g.count ?? 1) + (d.count ?? 1);
        for (const id of d.eventIds ?? [d.eventId]) if (g.eventIds!.length < MAX_GROUP_IDS) g.eventIds!.push(id);
        if (!g.impact || (d.impact && d.impact.score > g.impact.score)) g.impact = d.impact ?? g.impact;
      } else {
        if (inc.groups.size >= this.s.maxDiscrete) this.evictOldestDiscrete();
        inc.groups.set(k, { ...d, count: d.count ?? 1, eventIds: [...(d.eventIds ?? [d.eventId])] });
      }
      if (d.time > inc.end) inc.end = d.time;
    }
    if (hasSignal) { inc.cleanWindows = 0; inc.end = Math.max(inc.end, wEnd); } else inc.cleanWindows++;
    if (inc.cleanWindows >= this.s.recoveryWindows) {
      out.push(this.toEvent(inc, 'resolved', caseId));
      this.active = undefined;
      return;
    }
    const ev = this.toEvent(inc, 'open', caseId);
    const body = ev.incident as unknown as Incident;
    const sig = body.rankedCauses.slice(0, 3).map((c) => c.entity.service).join(',') + '|' + body.chain.length;
    if (sig !== inc.lastSignature) { inc.lastSignature = sig; out.push(ev); }
  }

  flush(out: UnifiedEvent[], caseId: string | undefined): void {
    if (this.active) out.push(this.toEvent(this.active, 'open', caseId));
  }

  private addAnomalies(inc: OpenIncident, anomalies: Anomaly[]): void {
    for (const a of anomalies) {
      const k = anomalyKey(a);
      const held = inc.anomalies.get(k);
      if (!held) inc.anomalies.set(k, { a, first: a.windowStart, windows: 1, samples: a.samples, weightedSeverity: a.severity * a.samples });
      else {
        held.windows++; held.samples += a.samples; held.weightedSeverity += a.severity * a.samples;
        if (a.severity > held.a.severity) held.a = a;
      }
    }
  }

  private toEvent(inc: OpenIncident, status: 'open' | 'resolved', caseId: string | undefined): UnifiedEvent {
    const ranked = rankCauses([...inc.anomalies.values()], inc.discrete, this.s.rules, this.callGraph, this.describeEntity).slice(0, this.s.maxCauses);
    const incident = buildIncident(inc.id, inc, status, ranked, this.s.rules, caseId, this.s.windowMs);
    const top = ranked[0];
    return createEvent({
      kind: 'correlation', source: 'correlation', time: inc.start * 1e6, severity: status === 'resolved' ? 'info' : (incident.impact?.severity ?? 'error'),
      resource: top?.entity.service ? { 'service.name': top.entity.service } : {},
      attributes: { 'tapio.incident.id': inc.id, 'tapio.incident.status': status },
      entity: top?.entity.service ? { kind: 'service', name: top.entity.service, namespace: top.entity.namespace } : undefined,
      incident: incident as unknown as Record<string, unknown>,
      correlation: { groupId: inc.id, role: 'root', chain: incident.chain.map((c) => c.eventId) },
      impact: incident.impact,
    });
  }
}

const ns = (ms: number): string => BigInt(Math.round(ms * 1000)) * 1000n + '';

function buildIncident(id: string, inc: OpenIncident, status: 'open' | 'resolved', ranked: RankedCause[], rules: CausalRule[], caseId: string | undefined, windowMs: number): Incident {
  // One link per (layer, intent, entity): the first occurrence, with how often it repeated.
  const chain: ChainLink[] = [];
  for (const d of inc.groups.values()) {
    chain.push({ eventId: d.eventId, time: d.time * 1e6, layer: d.layer, kind: d.kind, entity: d.entity, summary: d.summary + ((d.count ?? 1) > 1 ? ` (×${d.count})` : ''), intent: d.intent });
  }
  // The first anomaly per blamed service joins the chain as an application/metric link, dated by
  // the end of the window it was detected in (its onset inside the window is not known).
  for (const c of ranked) {
    if (!c.firstAnomaly) continue;
    const a = c.firstAnomaly;
    chain.push({ eventId: `anomaly:${a.key.family}:${a.key.service}:${a.key.detail}`, time: (a.key.family === 'metric' ? a.windowStart : a.windowStart + windowMs) * 1e6, layer: 'application', kind: a.key.family === 'metric' ? 'metric' : 'span', entity: { service: a.key.service }, summary: c.evidence[0] ?? '' });
  }
  chain.sort((x, y) => x.time - y.time || LAYER_DEPTH[y.layer] - LAYER_DEPTH[x.layer]);
  const top = ranked[0];
  const impacts = inc.discrete.map((d) => d.impact).filter((x): x is ImpactInfo => !!x);
  const worst = impacts.sort((a, b) => b.score - a.score)[0];
  const affected = new Set<string>();
  for (const h of inc.anomalies.values()) affected.add(h.a.key.service);
  for (const d of inc.discrete) if (d.service) affected.add(d.service);
  const recommendations = recommend(top, inc.discrete, rules);
  const second = ranked[1]?.score ?? 0;
  const confidence = top ? Math.round(Math.min(0.99, top.score * (0.5 + 0.5 * (top.score - second) / Math.max(top.score, 1e-9))) * 100) / 100 : 0;
  return {
    id, ...(caseId ? { caseId } : {}), status,
    title: top ? `${top.entity.service ?? 'unknown'}: ${top.headline}${affected.size > 1 ? ` (${affected.size} services affected)` : ''}` : 'anomaly without a clear cause',
    startTimeUnixNano: ns(inc.start), endTimeUnixNano: ns(inc.end), detectedTimeUnixNano: ns(inc.detected),
    timeToDetectMs: Math.max(0, Math.round(inc.detected - inc.start)), confidence,
    rootCause: { entity: top?.entity ?? {}, narrative: top ? top.narrative : 'no candidate', eventIds: top?.eventIds ?? [] },
    rankedCauses: ranked.map((c) => ({ entity: c.entity, score: Math.round(c.score * 1e4) / 1e4, evidence: c.evidence })),
    chain,
    ...(worst || affected.size ? { impact: { ...(worst ?? { score: 0, severity: 'warn', customerFacing: false, cascadeRisk: Math.min(1, affected.size / 10), guessed: true }), services: [...affected].sort() } } : {}),
    recommendations,
  };
}

function recommend(top: RankedCause | undefined, discrete: DiscreteRec[], rules: CausalRule[]): string[] {
  const out: string[] = [];
  if (!top) return out;
  const svc = top.entity.service ?? 'the service';
  for (const d of discrete) {
    if (d.service !== top.entity.service && d.peerService !== top.entity.service) continue;
    for (const a of d.suggestedActions) if (!out.includes(a)) out.push(a.replace(/\{service\}/g, svc));
    for (const r of rules) if (r.recommendation && r.cause.includes(d.intent)) {
      const text = r.recommendation.replace(/\{service\}/g, svc);
      if (!out.includes(text)) out.push(text);
    }
  }
  for (const r of top.recommendations) if (!out.includes(r)) out.push(r);
  return out.slice(0, 6);
}
