import { EVENT_KINDS, SEVERITIES, type EventKind, type Severity, type UnifiedEvent } from '@tapio/core';

/**
 * One filter language for REST query strings, SSE, gRPC and the CLI:
 * `kind=kernel|network,service=payment,severity=warn` — comma between keys (AND), `|` between
 * values of one key (OR). `severity` means "at least". Unknown keys or values are errors.
 */
export interface EventFilter {
  kinds?: Set<string>;
  services?: Set<string>;
  /** Minimum severity rank (see SEVERITY_RANK). */
  minSeverity?: number;
  traceIds?: Set<string>;
  /**
   * Matches entity.name or the resource's k8s.pod.name.
   * TODO(issue 10): the store indexes one entity column (entity.name, else the pod name), so a history
   * query for the pod of an event whose entity is something else misses it while the live stream matches.
   */
  entities?: Set<string>;
  namespaces?: Set<string>;
  intents?: Set<string>;
  sources?: Set<string>;
}

export const FILTER_KEYS = ['kind', 'service', 'severity', 'trace_id', 'entity', 'namespace', 'intent', 'source'] as const;
export type FilterKey = (typeof FILTER_KEYS)[number];

export const SEVERITY_RANK: Record<Severity, number> = { debug: 0, info: 1, warn: 2, error: 3, fatal: 4 };

const HEX_ID = /^[0-9a-f]{1,64}$/i;
const MAX_FILTER_LENGTH = 4096;

export class FilterError extends Error {
  constructor(message: string) { super(message); this.name = 'FilterError'; }
}

/** Parses `key=v1|v2,key2=v` into a filter; throws FilterError with a message fit for a 400. */
export function parseFilter(text: string | undefined): EventFilter {
  const filter: EventFilter = {};
  if (!text || !text.trim()) return filter;
  if (text.length > MAX_FILTER_LENGTH) throw new FilterError(`filter is longer than ${MAX_FILTER_LENGTH} characters`);
  for (const part of text.split(',')) {
    const clause = part.trim();
    if (!clause) continue;
    const eq = clause.indexOf('=');
    if (eq <= 0) throw new FilterError(`malformed filter clause '${clause}': expected key=value (keys: ${FILTER_KEYS.join(', ')})`);
    const key = clause.slice(0, eq).trim();
    const values = clause.slice(eq + 1).split('|').map((v) => v.trim()).filter(Boolean);
    if (!values.length) throw new FilterError(`filter key '${key}' has no value`);
    addClause(filter, key, values);
  }
  return filter;
}

/** Builds a filter from separate parameters (REST query `?kind=kernel&service=payment`). */
export function filterFromParams(params: URLSearchParams): EventFilter {
  const parts: string[] = [];
  const expr = params.get('filter');
  if (expr) parts.push(expr);
  for (const key of FILTER_KEYS) {
    for (const v of params.getAll(key)) parts.push(`${key}=${v}`);
  }
  return parseFilter(parts.join(','));
}

function addClause(filter: EventFilter, key: string, values: string[]): void {
  const add = (field: keyof Omit<EventFilter, 'minSeverity'>) => {
    const set = (filter[field] ??= new Set<string>());
    for (const v of values) set.add(v);
  };
  switch (key) {
    case 'kind':
      for (const v of values) if (!EVENT_KINDS.includes(v as EventKind)) throw new FilterError(`unknown kind '${v}' (kinds: ${EVENT_KINDS.join(', ')})`);
      return add('kinds');
    case 'severity': {
      if (values.length !== 1 || !SEVERITIES.includes(values[0] as Severity)) throw new FilterError(`severity takes one of ${SEVERITIES.join(', ')} (it means "at least")`);
      filter.minSeverity = SEVERITY_RANK[values[0] as Severity];
      return;
    }
    case 'trace_id':
      for (const v of values) if (!HEX_ID.test(v)) throw new FilterError(`trace_id '${v}' is not a hex id`);
      values = values.map((v) => v.toLowerCase());
      return add('traceIds');
    case 'service': return add('services');
    case 'entity': return add('entities');
    case 'namespace': return add('namespaces');
    case 'intent': return add('intents');
    case 'source': return add('sources');
    default:
      throw new FilterError(`unknown filter key '${key}' (keys: ${FILTER_KEYS.join(', ')})`);
  }
}

export function isEmptyFilter(f: EventFilter): boolean {
  return !f.kinds && !f.services && f.minSeverity === undefined && !f.traceIds && !f.entities && !f.namespaces && !f.intents && !f.sources;
}

/** True when the event passes the filter (live streams; the store uses SQL for history). */
export function matches(f: EventFilter, e: UnifiedEvent): boolean {
  if (f.kinds && !f.kinds.has(e.kind)) return false;
  if (f.minSeverity !== undefined && SEVERITY_RANK[e.severity] < f.minSeverity) return false;
  if (f.services) {
    const s = e.resource['service.name'];
    if (typeof s !== 'string' || !f.services.has(s)) return false;
  }
  if (f.traceIds && (!e.trace || !f.traceIds.has(e.trace.traceId))) return false;
  if (f.entities) {
    const pod = e.resource['k8s.pod.name'];
    if (!(e.entity && f.entities.has(e.entity.name)) && !(typeof pod === 'string' && f.entities.has(pod))) return false;
  }
  if (f.namespaces) {
    const ns = e.entity?.namespace ?? e.resource['k8s.namespace.name'];
    if (typeof ns !== 'string' || !f.namespaces.has(ns)) return false;
  }
  if (f.intents && (!e.semantic || !f.intents.has(e.semantic.intent))) return false;
  if (f.sources && !f.sources.has(e.source)) return false;
  return true;
}

/** A filter back to its text form (for logs and the CLI). */
export function formatFilter(f: EventFilter): string {
  const parts: string[] = [];
  const sets: [string, Set<string> | undefined][] = [['kind', f.kinds], ['service', f.services], ['trace_id', f.traceIds], ['entity', f.entities], ['namespace', f.namespaces], ['intent', f.intents], ['source', f.sources]];
  for (const [k, s] of sets) if (s) parts.push(`${k}=${[...s].join('|')}`);
  if (f.minSeverity !== undefined) parts.push(`severity=${SEVERITIES[f.minSeverity]}`);
  return parts.join(',');
}
