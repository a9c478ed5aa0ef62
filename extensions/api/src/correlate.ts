import type { ChainLink, Incident, UnifiedEvent } from '@tapio/core';
import type { EventStore } from './store';

export type Layer = ChainLink['layer'];
export const LAYERS: readonly Layer[] = ['application', 'network', 'kubernetes', 'kernel'];

export function layerOf(e: UnifiedEvent): Layer {
  switch (e.kind) {
    case 'kernel': return 'kernel';
    case 'network': return 'network';
    case 'k8s': return 'kubernetes';
    default: return 'application';
  }
}

/** One line that says what an event is. */
export function summarize(e: UnifiedEvent): string {
  if (e.semantic?.narrative) return e.semantic.narrative;
  const who = (e.resource['service.name'] as string | undefined) ?? e.entity?.name ?? e.source;
  switch (e.kind) {
    case 'span': return `${e.span?.name ?? 'span'} in ${who}${e.span?.status?.code === 2 ? ` failed${e.span.status.message ? ': ' + e.span.status.message : ''}` : ''}`;
    case 'log': return `${who}: ${typeof e.log?.body === 'string' ? e.log.body : JSON.stringify(e.log?.body ?? '')}`;
    case 'metric': return `${e.metric?.name} = ${e.metric?.value ?? '?'} (${who})`;
    case 'k8s': return `${e.k8s?.reason}${e.entity ? ` ${e.entity.kind}/${e.entity.name}` : ''}${e.k8s?.message ? ': ' + e.k8s.message : ''}`;
    case 'kernel': return `${e.kernel?.event}${e.kernel?.comm ? ` ${e.kernel.comm}` : ''}${e.kernel?.pid ? ` (pid ${e.kernel.pid})` : ''}`;
    case 'network': return `${e.network?.event}${e.network?.dstAddr ? ` to ${e.network.dstAddr}:${e.network.dstPort ?? ''}` : ''}`;
    case 'correlation': return String((e.incident as { title?: string } | undefined)?.title ?? 'incident');
  }
}

export interface ChainEntry {
  eventId: string;
  time: number;
  layer: Layer;
  kind: string;
  severity: string;
  service?: string;
  entity?: string;
  intent?: string;
  summary: string;
  /** How many events this entry stands for (de-duplicated counts, and repeats of one intent on one entity folded). */
  count: number;
}

export interface CorrelationSummary {
  traceId: string;
  /** False when no stored event carries this trace id. */
  found: boolean;
  incidentId?: string;
  rootCause?: { summary: string; service?: string; entity?: string; layer?: Layer; eventId?: string; confidence?: number };
  impact?: { severity: string; score: number; revenueAtRisk?: number; customerFacing: boolean; sloViolation?: boolean; source: 'incident' | 'events' };
  /** Distinct `enduser.id` on failing events of the incident's services in its window (else of the trace); null when none carries one. */
  affectedUsers: number | null;
  affectedUsersSource: 'enduser.id' | 'impact' | 'none';
  /** From the incident (first evidence → detection), or null when no incident covers the trace. */
  timeToDetectMs: number | null;
  failedRequests: number;
  chain: ChainEntry[];
  byLayer: Record<Layer, number>;
  recommendations: string[];
  eventCount: number;
}

const MAX_TRACE_EVENTS = 5000;
const CHAIN_LIMIT = 50;

/**
 * The correlation summary for one trace, computed on demand from stored events: the trace's
 * own events plus the chain of any incident that names one of them (kernel and Kubernetes
 * events carry no trace id; the correlation processor linked them). Nothing is invented:
 * a figure with no event behind it is reported as unknown.
 */
export function correlateTrace(store: EventStore, traceId: string): CorrelationSummary {
  const id = traceId.toLowerCase();
  const traceEvents = store.queryEvents({ filter: { traceIds: new Set([id]) }, limit: MAX_TRACE_EVENTS }).map((s) => s.event);
  const ids = new Set(traceEvents.map((e) => e.id));
  const incidents = store.incidentsForEvents(ids);
  // Incidents carried on this trace's own correlation events count too.
  for (const e of traceEvents) if (e.kind === 'correlation' && e.incident && !incidents.some((i) => i.id === (e.incident as { id?: string }).id)) incidents.push(e.incident as unknown as Incident);
  const incident = incidents.sort((a, b) => b.confidence - a.confidence)[0];

  const all = new Map<string, UnifiedEvent>();
  for (const e of traceEvents) if (e.kind !== 'correlation') all.set(e.id, e);
  if (incident) {
    const chainIds = [...incident.chain.map((l) => l.eventId), ...incident.rootCause.eventIds];
    for (const s of store.eventsByIds(chainIds.filter((x) => !all.has(x)))) all.set(s.event.id, s.event);
  }
  const events = [...all.values()].sort((a, b) => a.time - b.time);
  return buildSummary(id, events, incident, traceEvents.length > 0, incident ? incidentFailures(store, incident) : undefined);
}

/** Failing events of the incident's services inside its time window: who and how many requests it hurt. */
function incidentFailures(store: EventStore, incident: Incident): UnifiedEvent[] {
  const services = new Set<string>(incident.impact?.services ?? []);
  if (incident.rootCause.entity.service) services.add(incident.rootCause.entity.service);
  for (const l of incident.chain) if (l.entity?.service) services.add(l.entity.service);
  if (!services.size) return [];
  const since = Number(incident.startTimeUnixNano);
  const until = Number(incident.endTimeUnixNano ?? incident.detectedTimeUnixNano);
  return store.queryEvents({ filter: { services, minSeverity: 3 }, since, until: until >= since ? until : undefined, limit: MAX_TRACE_EVENTS }).map((s) => s.event);
}

const SPAN_KIND_SERVER = 2;
const SPAN_KIND_CONSUMER = 5;

/**
 * A span that stands for one request handled: SERVER or CONSUMER, or a root span. A failing
 * request also fails its CLIENT/INTERNAL child spans; counting those would count it twice.
 */
function isEntrySpan(e: UnifiedEvent): boolean {
  if (e.kind !== 'span') return false;
  const k = e.span?.kind;
  return k === SPAN_KIND_SERVER || k === SPAN_KIND_CONSUMER || !e.trace?.parentSpanId;
}

export function buildSummary(traceId: string, events: UnifiedEvent[], incident: Incident | undefined, found: boolean, windowFailures?: UnifiedEvent[]): CorrelationSummary {
  const byLayer: Record<Layer, number> = { application: 0, network: 0, kubernetes: 0, kernel: 0 };
  const users = new Set<string>();
  let failedRequests = 0;
  const interesting: UnifiedEvent[] = [];
  for (const e of events) {
    byLayer[layerOf(e)]++;
    const failing = e.severity === 'error' || e.severity === 'fatal';
    if (failing || e.severity === 'warn' || e.semantic) interesting.push(e);
  }
  // Users and failed requests: across the incident's window when there is one, else this trace alone.
  for (const e of windowFailures ?? events) {
    if (e.severity !== 'error' && e.severity !== 'fatal') continue;
    if (isEntrySpan(e)) failedRequests++;
    const u = e.attributes['enduser.id'] ?? e.resource['enduser.id'];
    if (typeof u === 'string' || typeof u === 'number') users.add(String(u));
  }

  const chain = foldChain(interesting.length ? interesting : events);
  let rootCause: CorrelationSummary['rootCause'];
  if (incident) {
    const rootEvent = events.find((e) => incident.rootCause.eventIds.includes(e.id));
    const ent = incident.rootCause.entity;
    rootCause = {
      summary: incident.rootCause.narrative, service: ent.service, entity: ent.pod ?? ent.container ?? ent.node ?? ent.process,
      layer: rootEvent ? layerOf(rootEvent) : undefined, eventId: rootEvent?.id ?? incident.rootCause.eventIds[0], confidence: incident.confidence,
    };
  } else if (interesting.length) {
    // Without an incident, the earliest event of the deepest layer that went wrong is the best candidate.
    const depth: Record<Layer, number> = { kernel: 0, kubernetes: 1, network: 2, application: 3 };
    const first = [...interesting].sort((a, b) => depth[layerOf(a)] - depth[layerOf(b)] || a.time - b.time)[0]!;
    rootCause = { summary: summarize(first), service: first.resource['service.name'] as string | undefined, entity: first.entity?.name, layer: layerOf(first), eventId: first.id };
  }

  let impact: CorrelationSummary['impact'];
  if (incident?.impact) {
    const i = incident.impact;
    impact = { severity: i.severity, score: i.score, revenueAtRisk: i.revenueAtRisk, customerFacing: i.customerFacing, sloViolation: i.sloViolation, source: 'incident' };
  } else {
    for (const e of events) {
      if (e.impact && (!impact || e.impact.score > impact.score)) {
        impact = { severity: e.impact.severity, score: e.impact.score, revenueAtRisk: e.impact.revenueAtRisk, customerFacing: e.impact.customerFacing, sloViolation: e.impact.sloViolation, source: 'events' };
      }
    }
  }

  let affectedUsers: number | null = users.size || null;
  let affectedUsersSource: CorrelationSummary['affectedUsersSource'] = users.size ? 'enduser.id' : 'none';
  if (!users.size && incident?.impact?.affectedUsers !== undefined) {
    affectedUsers = incident.impact.affectedUsers;
    affectedUsersSource = 'impact';
  }

  const recommendations: string[] = [];
  for (const r of incident?.recommendations ?? []) if (!recommendations.includes(r)) recommendations.push(r);
  for (const e of interesting) for (const a of e.semantic?.suggestedActions ?? []) if (!recommendations.includes(a)) recommendations.push(a);

  return {
    traceId, found, incidentId: incident?.id, rootCause, impact, affectedUsers, affectedUsersSource,
    timeToDetectMs: incident ? incident.timeToDetectMs : null, failedRequests, chain, byLayer, recommendations, eventCount: events.length,
  };
}

/** Folds repeats (same layer, intent/summary and entity in a row) into one entry with a count. */
function foldChain(events: UnifiedEvent[]): ChainEntry[] {
  const out: ChainEntry[] = [];
  for (const e of events) {
    const summary = summarize(e);
    const layer = layerOf(e);
    const entity = e.entity?.name ?? (e.resource['k8s.pod.name'] as string | undefined);
    const prev = out[out.length - 1];
    const key = e.semantic?.intent ?? summary;
    if (prev && prev.layer === layer && (prev.intent ?? prev.summary) === key && prev.entity === entity) { prev.count += e.count ?? 1; continue; }
    if (out.length >= CHAIN_LIMIT) break;
    out.push({
      eventId: e.id, time: e.time, layer, kind: e.kind, severity: e.severity, service: e.resource['service.name'] as string | undefined,
      entity, intent: e.semantic?.intent, summary, count: e.count ?? 1,
    });
  }
  return out;
}
