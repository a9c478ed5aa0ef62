import type { ComponentContext, Incident, UnifiedEvent } from '@tapio/core';
import { describeAction, parseRecommendation, type KubeAction } from './actions';
import { correlateTrace, type CorrelationSummary } from './correlate';
import { matches, type EventFilter } from './filter';
import { Hub, type StreamSink, type Subscriber } from './hub';
import { buildServiceMap, type ServiceMap } from './servicemap';
import { EventStore, type StoredEvent, type StoredIncident, type StoreOptions } from './store';

/** A 4xx-class problem with the request (bad filter, page size, unknown id). */
export class RequestError extends Error {
  constructor(readonly status: 400 | 401 | 404 | 429 | 503, message: string) { super(message); this.name = 'RequestError'; }
}

/** An incident as streamed: the incident, its sequence number and its JSON (serialised once for all clients). */
export interface IncidentItem { seq: number; json: string; incident: Incident }

export interface Page<T> { items: T[]; nextPageToken?: string }

/**
 * What the REST, SSE and gRPC front ends share: the store, the live hubs and the request
 * checks. The exporter hands batches to ingest(); the front ends only read.
 */
export class ApiService {
  readonly events: Hub<StoredEvent>;
  readonly incidents: Hub<IncidentItem>;
  readonly startedAt = Date.now();
  ingested = 0;

  constructor(readonly store: EventStore, readonly maxPageSize: number, streams: { maxClients: number; queueSize: number }, ctx: ComponentContext) {
    const slow = (n: number) => ctx.telemetry.dropped(n, 'slow_stream_client');
    this.events = new Hub(streams.maxClients, streams.queueSize, slow);
    this.incidents = new Hub(streams.maxClients, streams.queueSize, slow);
  }

  static open(options: StoreOptions, maxPageSize: number, streams: { maxClients: number; queueSize: number }, ctx: ComponentContext): ApiService {
    return new ApiService(new EventStore(options), maxPageSize, streams, ctx);
  }

  /**
   * Stores a batch and fans it out to live clients. Synchronous: one SQLite transaction.
   * TODO(issue 10): writes run on the event loop; if large batches at high rates ever stall the API's
   * own requests, move the SQLite writer to a worker thread (better-sqlite3 works there).
   */
  ingest(events: UnifiedEvent[]): void {
    if (!events.length) return;
    const stored = this.store.insertMany(events);
    this.ingested += stored.length;
    this.events.publish(stored);
    if (this.incidents.size) {
      const items: IncidentItem[] = [];
      for (const s of stored) {
        if (s.event.kind === 'correlation' && s.event.incident) items.push({ seq: s.seq, json: JSON.stringify(s.event.incident), incident: s.event.incident as unknown as Incident });
      }
      if (items.length) this.incidents.publish(items);
    }
  }

  pageSize(raw: string | number | undefined | null, fallback = 100): number {
    if (raw === undefined || raw === null || raw === '' || raw === 0) return Math.min(fallback, this.maxPageSize);
    const n = typeof raw === 'number' ? raw : Number(raw);
    if (!Number.isInteger(n) || n < 1) throw new RequestError(400, `page size must be a positive integer, got '${raw}'`);
    if (n > this.maxPageSize) throw new RequestError(400, `page size ${n} is larger than the maximum ${this.maxPageSize}`);
    return n;
  }

  listEvents(filter: EventFilter, opts: { limit?: string | number | null; pageToken?: string | null; since?: number; until?: number }): Page<StoredEvent> {
    const limit = this.pageSize(opts.limit);
    const beforeSeq = parsePageToken(opts.pageToken);
    const items = this.store.queryEvents({ filter, limit, beforeSeq, since: opts.since, until: opts.until });
    return { items, nextPageToken: items.length === limit ? String(items[items.length - 1]!.seq) : undefined };
  }

  getEvent(id: string): StoredEvent {
    const e = this.store.eventById(id);
    if (!e) throw new RequestError(404, `no stored event with id '${id}' (it may be past retention)`);
    return e;
  }

  listIncidents(opts: { status?: string | null; service?: string | null; limit?: string | number | null; pageToken?: string | null }): Page<StoredIncident> {
    const limit = this.pageSize(opts.limit, 50);
    if (opts.status && opts.status !== 'open' && opts.status !== 'resolved') throw new RequestError(400, `status must be open or resolved, got '${opts.status}'`);
    const items = this.store.listIncidents({ status: (opts.status || undefined) as 'open' | undefined, service: opts.service || undefined, beforeSeq: parsePageToken(opts.pageToken), limit });
    return { items, nextPageToken: items.length === limit ? String(items[items.length - 1]!.seq) : undefined };
  }

  getIncident(id: string): Incident {
    const found = this.store.getIncident(id);
    if (!found) throw new RequestError(404, `no incident with id '${id}'`);
    return found.incident;
  }

  /** The stored events an incident's chain names, for the timeline (missing ones are past retention). */
  incidentEvents(id: string): StoredEvent[] {
    const inc = this.getIncident(id);
    return this.store.eventsByIds([...new Set([...inc.chain.map((l) => l.eventId), ...inc.rootCause.eventIds])]);
  }

  /** Each recommendation with the Kubernetes action it reads as (null: advice for a human). Never executed here. */
  incidentActions(id: string): { index: number; recommendation: string; action: KubeAction | null; description: string | null }[] {
    const inc = this.getIncident(id);
    return inc.recommendations.map((r, i) => {
      const action = parseRecommendation(r, inc) ?? null;
      return { index: i + 1, recommendation: r, action, description: action ? describeAction(action) : null };
    });
  }

  correlate(traceId: string | null | undefined): CorrelationSummary {
    if (!traceId || !/^[0-9a-f]{1,64}$/i.test(traceId)) throw new RequestError(400, `trace_id must be a hex trace id, got '${traceId ?? ''}'`);
    const summary = correlateTrace(this.store, traceId);
    if (!summary.found && !summary.incidentId) throw new RequestError(404, `no stored events for trace ${traceId}`);
    return summary;
  }

  serviceMap(): ServiceMap {
    const spans = this.store.queryEvents({ filter: { kinds: new Set(['span']) }, limit: 20_000 }).map((s) => s.event);
    const open = this.store.listIncidents({ status: 'open', limit: 500 }).map((s) => s.incident);
    return buildServiceMap(spans, open);
  }

  health() {
    const stats = this.store.stats();
    return {
      status: 'ok' as const,
      uptimeSeconds: Math.round((Date.now() - this.startedAt) / 1000),
      ingestedEvents: this.ingested,
      store: stats,
      streams: { eventClients: this.events.size, incidentClients: this.incidents.size, droppedForSlowClients: this.dropCounts() },
    };
  }

  private dropCounts(): number {
    let n = 0;
    for (const c of this.events.clients()) n += c.dropped;
    for (const c of this.incidents.clients()) n += c.dropped;
    return n;
  }

  subscribeEvents(filter: EventFilter, sink: StreamSink<StoredEvent>): Subscriber<StoredEvent> {
    const s = this.events.subscribe((item) => matches(filter, item.event), sink);
    if (!s) throw new RequestError(503, `too many stream clients (max ${this.events.maxClients})`);
    return s;
  }

  subscribeIncidents(opts: { status?: string; service?: string }, sink: StreamSink<IncidentItem>): Subscriber<IncidentItem> {
    if (opts.status && opts.status !== 'open' && opts.status !== 'resolved') throw new RequestError(400, `status must be open or resolved, got '${opts.status}'`);
    const s = this.incidents.subscribe((item) => incidentMatches(item.incident, opts), sink);
    if (!s) throw new RequestError(503, `too many stream clients (max ${this.incidents.maxClients})`);
    return s;
  }

  close(): void {
    this.events.closeAll();
    this.incidents.closeAll();
    this.store.close();
  }
}

function incidentMatches(inc: Incident, opts: { status?: string; service?: string }): boolean {
  if (opts.status && inc.status !== opts.status) return false;
  if (opts.service) {
    const svc = opts.service;
    if (inc.rootCause?.entity?.service !== svc && !(inc.impact?.services ?? []).includes(svc) && !inc.chain.some((l) => l.entity?.service === svc)) return false;
  }
  return true;
}

function parsePageToken(token: string | null | undefined): number | undefined {
  if (!token) return undefined;
  if (!/^\d{1,15}$/.test(token)) throw new RequestError(400, `malformed page_token '${token.slice(0, 40)}'`);
  return Number(token);
}
