import type { IncidentEntity } from '@tapio/core';
import { LAYER_DEPTH } from './entities';
import type { Anomaly, FeatureFamily } from './features';
import type { DiscreteRec, HeldAnomaly } from './incidents';
import type { CausalRule } from './rules';

export interface RankedCause {
  entity: IncidentEntity;
  score: number;
  evidence: string[];
  eventIds: string[];
  narrative: string;
  headline: string;
  recommendations: string[];
  firstAnomaly?: Anomaly;
}

/** How much an anomaly of each family says about the service it is attributed to. */
const FAMILY_WEIGHT: Record<FeatureFamily, number> = {
  excl: 1, gap: 1, fan: 0.5, calls: 0.9, err: 1, logerr: 0.8, logpat: 0.7, metric: 0.6, dur: 0,
};

interface Candidate {
  service: string;
  /** Strongest contribution per family (so a service with many operations is not favoured). */
  byFamily: Map<string, { value: number; text: string; a?: Anomaly }>;
  first: number;
  entity: IncidentEntity;
  eventIds: string[];
  discrete: number;
  recommendations: string[];
}

/** Latency / error / throughput metrics mirror what dependencies do; resource metrics describe the service itself. */
const SYMPTOM_METRIC = /latency|duration|response|success|error|fail|workload|request|throughput|ops|rate_limit|p\d\d/i;

/** Severity shrunk towards 0 for windows with few samples (a 3-request window proves less than a 300-request one). */
function shrunk(h: HeldAnomaly): number {
  if (h.a.key.family === 'metric') return h.a.severity;
  const mean = h.weightedSeverity / Math.max(1, h.samples);
  return mean * h.samples / (h.samples + SHRINK_SAMPLES);
}
const SHRINK_SAMPLES = 4;

/** Node / host metrics describe the machine, shared by every service on it. */
const NODE_METRIC = /^(node|system|host|k8s\.node)\./i;

function familyWeight(a: Anomaly): number {
  const f = a.key.family;
  // Getting faster is only telling when it is a big change (work skipped), so it is scaled by how much.
  const drop = a.baselineMedian > 0 ? Math.max(0, 1 - a.windowMedian / a.baselineMedian) : 0;
  if (f === 'dur') return a.direction === 'down' ? 0.9 * drop : 0; // callers get slower with their callee, not faster
  if (f === 'excl' && a.direction === 'down') return 0.5 * drop;
  if (f === 'metric') {
    const base = SYMPTOM_METRIC.test(a.key.detail) || NODE_METRIC.test(a.key.detail) || a.key.peer ? 0.1 : FAMILY_WEIGHT.metric;
    // A saturating resource goes up; a single scrape proves less than a level that stays.
    return base * (a.direction === 'down' ? 0.3 : 1) * (a.persistent ? 1 : 0.5);
  }
  return FAMILY_WEIGHT[f];
}

function fmt(v: number): string { return Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 1 ? v.toFixed(1) : v.toPrecision(2); }

function describe(a: Anomaly): string {
  const k = a.key;
  const share = `${Math.round((a.severity) * 100)}% of ${a.samples} beyond baseline`;
  switch (k.family) {
    case 'excl': return `exclusive time of ${k.detail} ${a.direction} (${share}; median ${fmt(a.baselineMedian)}ms → ${fmt(a.windowMedian)}ms)`;
    case 'gap': return `call latency ${k.service} → ${k.detail} outside the callee ${a.direction} (${share}; median ${fmt(a.baselineMedian)}ms → ${fmt(a.windowMedian)}ms)`;
    case 'fan': return `downstream calls per ${k.detail} request ${a.direction} (mean ${fmt(a.baselineMedian)} → ${fmt(a.windowMedian)})`;
    case 'calls': return `requests of ${k.detail} ${a.direction === 'down' ? 'stopped calling' : 'newly call'} it: ${fmt(a.baselineMedian * 100)}% → ${fmt(a.windowMedian * 100)}% of ${a.samples}`;
    case 'err': return `own errors in ${k.detail}: ${fmt(a.windowMedian * 100)}% vs ${fmt(a.baselineMedian * 100)}% baseline`;
    case 'logerr': return `error log rate ${fmt(a.windowMedian * 100)}% vs ${fmt(a.baselineMedian * 100)}% baseline`;
    case 'logpat': return `new log patterns in ${fmt(a.windowMedian * 100)}% of lines`;
    case 'metric': return `${k.detail} jumped ${a.direction} to ${fmt(a.windowMedian)} (median ${fmt(a.baselineMedian)}, z=${fmt(a.z)})`;
    case 'dur': return `duration of ${k.detail} ${a.direction} (median ${fmt(a.baselineMedian)}ms → ${fmt(a.windowMedian)}ms)`;
  }
}

function recommendationFor(a: Anomaly, svc: string): string {
  switch (a.key.family) {
    case 'excl': return a.direction === 'up'
      ? `${svc} itself got slower (its dependencies did not): check its CPU saturation/throttling and recent changes`
      : `${svc} answers much faster than usual: look for early returns or skipped work in a recent change`;
    case 'gap': return `Check the network path of ${svc} (latency added between ${svc} and its peers): delay, packet loss, a saturated node`;
    case 'calls': case 'fan': return `${svc} makes ${a.direction === 'down' ? 'fewer' : 'more'} downstream calls per request than usual: look for early returns, retries or errors in a recent change`;
    case 'err': case 'logerr': case 'logpat': return `Read ${svc}'s recent error logs and exceptions; roll back its last change if it is new`;
    case 'metric': return `Inspect ${a.key.detail} of ${svc}`;
    default: return `Inspect ${svc}`;
  }
}

function related(rule: CausalRule, cause: DiscreteRec, effect: DiscreteRec, callGraph: Map<string, Map<string, number>>): boolean {
  const cs = cause.service; const es = effect.service;
  switch (rule.relation) {
    case 'any': return true;
    case 'same_entity': return !!cs && (cs === es || cs === effect.peerService);
    case 'node': return !!cause.node && cause.node === effect.node;
    case 'peer': return !!cs && (effect.peerService === cs || (!!es && !!callGraph.get(es)?.has(cs)) || es === cs);
    case 'caller': {
      const target = cause.peerService ?? cs;
      if (!target || !es) return false;
      return es === target || es === cs || !!callGraph.get(es)?.has(target) || reaches(callGraph, es, target, 3);
    }
  }
}

function reaches(g: Map<string, Map<string, number>>, from: string, to: string, depth: number): boolean {
  if (depth <= 0) return false;
  const next = g.get(from);
  if (!next) return false;
  if (next.has(to)) return true;
  for (const n of next.keys()) if (reaches(g, n, to, depth - 1)) return true;
  return false;
}

/**
 * Application intents that travel up the call graph (a slow or failing callee makes its callers
 * slow and failing too): on their own they say little about where the fault is.
 */
const SYMPTOM_INTENTS = new Set(['latency_slo_breach', 'http_5xx', 'grpc_deadline_exceeded', 'grpc_unavailable']);
const SYMPTOM_FACTOR = 0.4;

/** How much evidence keeps when a causal rule explains it by an earlier failure. */
const EXPLAINED = 0.35;
const MAX_EVENT_IDS = 20;
/** Anomalies are dated by their window start, so a cause may sit up to a window after it. */
const WINDOW_SLACK_MS = 30_000;

/** The intent an anomaly stands for, so causal rules can explain it. */
function anomalyIntent(a: Anomaly): string | undefined {
  switch (a.key.family) {
    case 'err': case 'logerr': case 'logpat': return 'exception';
    case 'metric': return undefined;
    default: return 'latency_slo_breach';
  }
}

/** A discrete event is explained when an earlier related event causes it by some rule. */
function explainedBy(d: DiscreteRec, all: DiscreteRec[], rules: CausalRule[], g: Map<string, Map<string, number>>, slackMs = 0): DiscreteRec | undefined {
  for (const c of all) {
    if (c === d) continue;
    const lag = d.time - c.time;
    for (const r of rules) {
      if (lag < -slackMs || lag > r.maxLagMs || !r.cause.includes(c.intent) || !r.effect.includes(d.intent)) continue;
      // Same intent on both sides only explains a later, shallower report (kernel OOM → k8s OOMKilled).
      if (c.intent === d.intent && LAYER_DEPTH[c.layer] <= LAYER_DEPTH[d.layer] && !(lag > 0 && LAYER_DEPTH[c.layer] === LAYER_DEPTH[d.layer])) continue;
      if (related(r, c, d, g)) return c;
    }
  }
  return undefined;
}

/**
 * Ranks root-cause candidates. Evidence attributed to a service: its own exclusive time,
 * structure (calls per request), own errors, logs and metrics; edge latency goes to the
 * service at the centre of the anomalous edges (share of its call-graph edges that are
 * anomalous); discrete failures by layer depth, demoted when a causal rule explains them by
 * an earlier event. Then the call graph: a service whose callee is at least as anomalous is
 * demoted; the earliest evidence gets a small bonus.
 */
export function rankCauses(held: HeldAnomaly[], discrete: DiscreteRec[], rules: CausalRule[], callGraph: Map<string, Map<string, number>>,
  describeEntity: (service: string) => IncidentEntity = (service) => ({ service })): RankedCause[] {
  const cands = new Map<string, Candidate>();
  const cand = (svc: string): Candidate => {
    let c = cands.get(svc);
    if (!c) { c = { service: svc, byFamily: new Map(), first: Infinity, entity: describeEntity(svc), eventIds: [], discrete: 0, recommendations: [] }; cands.set(svc, c); }
    return c;
  };
  const contribute = (c: Candidate, fam: string, value: number, text: string, time: number, a?: Anomaly): void => {
    const cur = c.byFamily.get(fam);
    if (!cur || value > cur.value) c.byFamily.set(fam, { value, text, a });
    if (time < c.first) c.first = time;
  };

  // Root discrete failures (not explained by an earlier one) can explain the anomalies of the
  // services that depend on them, through the same causal rules: blame moves to the cause.
  const roots = discrete.filter((d) => d.layer !== 'application' && !explainedBy(d, discrete, rules, callGraph));
  const explainCache = new Map<string, DiscreteRec | undefined>();
  const anomalyExplainedBy = (a: Anomaly): DiscreteRec | undefined => {
    const intent = anomalyIntent(a);
    if (!intent || !roots.length) return undefined;
    const key = a.key.service + '|' + intent;
    if (explainCache.has(key)) return explainCache.get(key);
    const probe: DiscreteRec = { eventId: '', time: a.windowStart, intent, layer: 'application', kind: 'span', service: a.key.service, entity: {}, summary: '', confidence: 1, suggestedActions: [] };
    const by = explainedBy(probe, roots, rules, callGraph, WINDOW_SLACK_MS);
    explainCache.set(key, by);
    return by;
  };
  const explainFactor = (a: Anomaly): { f: number; note: string } => {
    const by = anomalyExplainedBy(a);
    return by ? { f: EXPLAINED, note: ` (follows ${by.intent} of ${by.service ?? '?'})` } : { f: 1, note: '' };
  };

  // Edge anomalies are split between caller and callee by how anomalous each one's *other*
  // edges are: a slow callee shows on all its edges, a slow caller on all of its own.
  const edgeSev = new Map<string, HeldAnomaly>(); // "a>b" → strongest anomaly
  for (const h of held) {
    const a = h.a;
    if (a.key.family === 'gap') {
      if (a.direction !== 'up') continue;
      const k = a.key.service + '>' + a.key.detail;
      const cur = edgeSev.get(k);
      if (!cur || a.severity > cur.a.severity) edgeSev.set(k, h);
      continue;
    }
    const w = familyWeight(a);
    if (!w) continue;
    const ex = explainFactor(a);
    contribute(cand(a.key.service), a.key.family + ':' + a.direction, w * shrunk(h) * ex.f, describe(a) + ex.note, h.first, a);
  }
  if (edgeSev.size) {
    const edgesOf = new Map<string, string[]>();
    const addEdge = (svc: string, e: string): void => { const l = edgesOf.get(svc); if (l) { if (!l.includes(e)) l.push(e); } else edgesOf.set(svc, [e]); };
    for (const [from, m] of callGraph) for (const to of m.keys()) { const e = from + '>' + to; addEdge(from, e); addEdge(to, e); }
    const otherShare = (svc: string, except: string): number | undefined => {
      const l = (edgesOf.get(svc) ?? []).filter((e) => e !== except);
      if (!l.length) return undefined;
      let sum = 0;
      for (const e of l) sum += edgeSev.get(e)?.a.severity ?? 0;
      return sum / l.length;
    };
    for (const [edge, h] of edgeSev) {
      const [from, to] = edge.split('>') as [string, string];
      const fa = otherShare(from, edge); const fb = otherShare(to, edge);
      // A slow caller shows on (nearly) all of its other edges; unless it does, the callee is
      // the suspect, more so when the callee's other edges are anomalous too.
      let toCallee: number;
      if (fa !== undefined) toCallee = 1 - fa * (1 - (fb ?? 0));
      else toCallee = 0.5 + 0.5 * (fb ?? 0);
      const ex = explainFactor(h.a);
      const text = describe(h.a) + ex.note;
      contribute(cand(to), 'gap', FAMILY_WEIGHT.gap * shrunk(h) * toCallee * ex.f, text, h.first, h.a);
      contribute(cand(from), 'gap', FAMILY_WEIGHT.gap * shrunk(h) * (1 - toCallee) * ex.f, text, h.first, h.a);
    }
  }

  // Discrete failures.
  for (const d of discrete) {
    const svc = d.kind === 'network' && d.peerService ? d.peerService : d.service;
    if (!svc) continue;
    const by = explainedBy(d, discrete, rules, callGraph);
    const symptom = d.layer === 'application' && SYMPTOM_INTENTS.has(d.intent) ? SYMPTOM_FACTOR : 1;
    const value = d.confidence * (0.55 + 0.15 * LAYER_DEPTH[d.layer]) * (by ? EXPLAINED : 1) * symptom;
    const c = cand(svc);
    contribute(c, 'discrete:' + d.intent + ':' + d.layer, value, `${d.layer}: ${d.summary}${by ? ` (follows ${by.intent} of ${by.service ?? '?'})` : ''}`, d.time);
    for (const id of d.eventIds ?? [d.eventId]) if (c.eventIds.length < MAX_EVENT_IDS) c.eventIds.push(id);
    c.discrete++;
    if (d.kind !== 'network' || !d.peerService) for (const k of Object.keys(d.entity) as (keyof IncidentEntity)[]) if (c.entity[k] === undefined) (c.entity as Record<string, unknown>)[k] = d.entity[k];
  }

  const scored: { c: Candidate; score: number }[] = [];
  for (const c of cands.values()) {
    // Noisy-OR across families: independent kinds of evidence reinforce each other.
    let miss = 1;
    for (const f of c.byFamily.values()) miss *= 1 - Math.min(0.999, f.value);
    scored.push({ c, score: 1 - miss });
  }
  const scoreOf = new Map(scored.map((x) => [x.c.service, x.score]));
  let earliest = Infinity;
  for (const x of scored) if (x.score > 0.05 && x.c.first < earliest) earliest = x.c.first;
  for (const x of scored) {
    const callees = callGraph.get(x.c.service);
    let worstCallee = 0;
    if (callees) for (const t of callees.keys()) worstCallee = Math.max(worstCallee, scoreOf.get(t) ?? 0);
    if (worstCallee >= x.score && x.score > 0) x.score *= 0.85; // its dependency explains it at least as well
    if (x.c.first === earliest) x.score = Math.min(1, x.score * 1.05);
  }
  scored.sort((a, b) => b.score - a.score || a.c.first - b.c.first || (a.c.service < b.c.service ? -1 : 1));
  return scored.filter((x) => x.score > 0).map(({ c, score }) => {
    const parts = [...c.byFamily.values()].sort((a, b) => b.value - a.value);
    const firstAnomaly = parts.find((p) => p.a)?.a;
    const headline = parts[0]?.text ?? 'anomalous';
    return {
      entity: c.entity, score, evidence: parts.map((p) => p.text), eventIds: c.eventIds,
      narrative: `${c.service}: ${parts.map((p) => p.text).slice(0, 3).join('; ')}`,
      headline, recommendations: parts.filter((p) => p.a).slice(0, 2).map((p) => recommendationFor(p.a!, c.service)), firstAnomaly,
    };
  });
}
