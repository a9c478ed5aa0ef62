import * as fs from 'node:fs';
import * as path from 'node:path';
import Database from 'better-sqlite3';
import type { Incident, UnifiedEvent } from '@tapio/core';
import { SEVERITY_RANK, type EventFilter } from './filter';

export interface StoreOptions {
  /** SQLite file, or ':memory:'. */
  path: string;
  retentionMs: number;
  maxEvents: number;
  maxBytes: number;
  maxIncidents: number;
}

/** One stored event as the store hands it out: the event, its sequence number and its JSON. */
export interface StoredEvent {
  seq: number;
  json: string;
  event: UnifiedEvent;
  /** Caches filled lazily by the stream front ends, once per event for all clients. */
  sse?: Buffer;
  pb?: Buffer;
}

export interface EventQuery {
  filter: EventFilter;
  /** Unix ns bounds on event time. */
  since?: number;
  until?: number;
  /** Return events with seq below this (paging newest-first). */
  beforeSeq?: number;
  /** Return events with seq above this (stream resume), oldest first. */
  afterSeq?: number;
  limit: number;
}

export interface IncidentQuery { status?: 'open' | 'resolved'; service?: string; beforeSeq?: number; limit: number }
export interface StoredIncident { seq: number; incident: Incident }

export interface StoreStats { events: number; bytes: number; incidents: number; oldestEventTime?: number; newestEventTime?: number; evicted: number; expired: number }

/**
 * The embedded event/incident store (SQLite via better-sqlite3, WAL mode). Events are a bounded
 * ring: when max rows or max bytes is passed the oldest go first; retention removes events and
 * incidents older than the retention window. Indexed by trace id, entity, service and time.
 * Everything is synchronous (better-sqlite3), so a batch insert is one transaction.
 */
export class EventStore {
  private readonly db: Database.Database;
  private readonly insertEvent: Database.Statement;
  private readonly upsertIncident: Database.Statement;
  private count = 0;
  private bytes = 0;
  private evictedTotal = 0;
  private expiredTotal = 0;
  private closed = false;
  readonly insertMany: (events: UnifiedEvent[]) => StoredEvent[];

  constructor(readonly options: StoreOptions) {
    if (options.path !== ':memory:') fs.mkdirSync(path.dirname(path.resolve(options.path)), { recursive: true });
    this.db = new Database(options.path);
    this.db.pragma('journal_mode = WAL');
    // NORMAL is durable across process crashes in WAL mode; only an OS crash can lose the last commits.
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma('cache_size = -32768'); // 32 MiB page cache: index updates stay in memory
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS events (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        id TEXT NOT NULL,
        time REAL NOT NULL,
        kind TEXT NOT NULL,
        severity INTEGER NOT NULL,
        service TEXT,
        trace_id TEXT,
        entity TEXT,
        namespace TEXT,
        intent TEXT,
        source TEXT,
        size INTEGER NOT NULL,
        body TEXT NOT NULL
      );
      CREATE INDEX IF NOT EXISTS events_id ON events(id);
      CREATE INDEX IF NOT EXISTS events_trace ON events(trace_id) WHERE trace_id IS NOT NULL;
      CREATE INDEX IF NOT EXISTS events_entity ON events(entity) WHERE entity IS NOT NULL;
      CREATE INDEX IF NOT EXISTS events_service ON events(service, seq) WHERE service IS NOT NULL;
      CREATE INDEX IF NOT EXISTS events_time ON events(time);
      CREATE TABLE IF NOT EXISTS incidents (
        id TEXT PRIMARY KEY,
        seq INTEGER NOT NULL,
        status TEXT NOT NULL,
        start_time REAL NOT NULL,
        updated_time REAL NOT NULL,
        services TEXT NOT NULL,
        body TEXT NOT NULL
      );
      CREATE INDEX IF NOT EXISTS incidents_seq ON incidents(seq);
      CREATE INDEX IF NOT EXISTS incidents_updated ON incidents(updated_time);
    `);
    const totals = this.db.prepare('SELECT COUNT(*) AS n, COALESCE(SUM(size), 0) AS b FROM events').get() as { n: number; b: number };
    this.count = totals.n;
    this.bytes = totals.b;
    this.insertEvent = this.db.prepare(
      'INSERT INTO events (id, time, kind, severity, service, trace_id, entity, namespace, intent, source, size, body) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)',
    );
    this.upsertIncident = this.db.prepare(
      `INSERT INTO incidents (id, seq, status, start_time, updated_time, services, body) VALUES (?,?,?,?,?,?,?)
       ON CONFLICT(id) DO UPDATE SET seq=excluded.seq, status=excluded.status, updated_time=excluded.updated_time, services=excluded.services, body=excluded.body`,
    );
    this.insertMany = this.db.transaction((events: UnifiedEvent[]) => this.insertBatch(events));
    this.expire(Date.now() * 1e6);
  }

  private insertBatch(events: UnifiedEvent[]): StoredEvent[] {
    const out: StoredEvent[] = new Array(events.length);
    let n = 0;
    for (const e of events) {
      const json = JSON.stringify(e);
      const service = e.resource['service.name'];
      const pod = e.resource['k8s.pod.name'];
      const ns = e.entity?.namespace ?? e.resource['k8s.namespace.name'];
      const entity = e.entity?.name ?? (typeof pod === 'string' ? pod : null);
      const info = this.insertEvent.run(
        e.id, e.time, e.kind, SEVERITY_RANK[e.severity] ?? 1, typeof service === 'string' ? service : null,
        e.trace?.traceId ?? null, entity, typeof ns === 'string' ? ns : null, e.semantic?.intent ?? null, e.source, json.length, json,
      );
      const seq = Number(info.lastInsertRowid);
      this.count++;
      this.bytes += json.length;
      if (e.kind === 'correlation' && e.incident && typeof (e.incident as { id?: unknown }).id === 'string') {
        this.putIncident(e.incident as unknown as Incident, seq);
      }
      out[n++] = { seq, json, event: e };
    }
    this.enforceLimits();
    return out;
  }

  private putIncident(inc: Incident, seq: number): void {
    const services = new Set<string>();
    if (inc.rootCause?.entity?.service) services.add(inc.rootCause.entity.service);
    for (const s of inc.impact?.services ?? []) services.add(s);
    for (const l of inc.chain ?? []) if (l.entity?.service) services.add(l.entity.service);
    const start = Number(inc.startTimeUnixNano) || Date.now() * 1e6;
    const updated = Number(inc.endTimeUnixNano ?? inc.detectedTimeUnixNano) || start;
    this.upsertIncident.run(inc.id, seq, inc.status ?? 'open', start, updated, '|' + [...services].join('|') + '|', JSON.stringify(inc));
    const n = (this.db.prepare('SELECT COUNT(*) AS n FROM incidents').get() as { n: number }).n;
    if (n > this.options.maxIncidents) {
      this.db.prepare('DELETE FROM incidents WHERE id IN (SELECT id FROM incidents ORDER BY seq ASC LIMIT ?)').run(n - this.options.maxIncidents);
    }
  }

  /** Deletes the oldest events while the ring is over its row or byte bound. */
  private enforceLimits(): void {
    const { maxEvents, maxBytes } = this.options;
    if (this.count <= maxEvents && this.bytes <= maxBytes) return;
    // Evict in chunks of ~5% so that a full ring does not pay one DELETE per insert.
    const overRows = this.count - maxEvents;
    const chunk = Math.max(overRows, Math.ceil(maxEvents / 20), 1);
    for (;;) {
      if (this.count <= maxEvents && this.bytes <= maxBytes) break;
      const r = this.db.prepare('SELECT MAX(seq) AS s, COUNT(*) AS n, COALESCE(SUM(size),0) AS b FROM (SELECT seq, size FROM events ORDER BY seq ASC LIMIT ?)').get(chunk) as { s: number | null; n: number; b: number };
      if (!r.s) break;
      this.db.prepare('DELETE FROM events WHERE seq <= ?').run(r.s);
      this.count -= r.n;
      this.bytes -= r.b;
      this.evictedTotal += r.n;
    }
  }

  /** Removes events and incidents older than the retention window; returns how many events went. */
  expire(nowNs: number): number {
    if (this.closed) return 0;
    const cutoff = nowNs - this.options.retentionMs * 1e6;
    const r = this.db.prepare('SELECT COUNT(*) AS n, COALESCE(SUM(size),0) AS b FROM events WHERE time < ?').get(cutoff) as { n: number; b: number };
    if (r.n > 0) {
      this.db.prepare('DELETE FROM events WHERE time < ?').run(cutoff);
      this.count -= r.n;
      this.bytes -= r.b;
      this.expiredTotal += r.n;
    }
    this.db.prepare('DELETE FROM incidents WHERE updated_time < ?').run(cutoff);
    return r.n;
  }

  queryEvents(q: EventQuery): StoredEvent[] {
    const where: string[] = [];
    const args: unknown[] = [];
    const inList = (col: string, values: Set<string> | undefined) => {
      if (!values) return;
      where.push(`${col} IN (${[...values].map(() => '?').join(',')})`);
      args.push(...values);
    };
    const f = q.filter;
    inList('kind', f.kinds);
    inList('service', f.services);
    inList('trace_id', f.traceIds);
    inList('entity', f.entities);
    inList('namespace', f.namespaces);
    inList('intent', f.intents);
    inList('source', f.sources);
    if (f.minSeverity !== undefined) { where.push('severity >= ?'); args.push(f.minSeverity); }
    if (q.since !== undefined) { where.push('time >= ?'); args.push(q.since); }
    if (q.until !== undefined) { where.push('time <= ?'); args.push(q.until); }
    if (q.beforeSeq !== undefined) { where.push('seq < ?'); args.push(q.beforeSeq); }
    if (q.afterSeq !== undefined) { where.push('seq > ?'); args.push(q.afterSeq); }
    const order = q.afterSeq !== undefined ? 'ASC' : 'DESC';
    const sql = `SELECT seq, body FROM events ${where.length ? 'WHERE ' + where.join(' AND ') : ''} ORDER BY seq ${order} LIMIT ?`;
    args.push(q.limit);
    return (this.db.prepare(sql).all(...args) as { seq: number; body: string }[]).map(rowToEvent);
  }

  /** Events by id (an incident's chain); unknown ids are left out. */
  eventsByIds(ids: string[]): StoredEvent[] {
    if (!ids.length) return [];
    const out: StoredEvent[] = [];
    const stmt = this.db.prepare('SELECT seq, body FROM events WHERE id = ? ORDER BY seq DESC LIMIT 1');
    for (const id of ids) {
      const row = stmt.get(id) as { seq: number; body: string } | undefined;
      if (row) out.push(rowToEvent(row));
    }
    return out;
  }

  eventById(id: string): StoredEvent | undefined {
    return this.eventsByIds([id])[0];
  }

  getIncident(id: string): StoredIncident | undefined {
    const row = this.db.prepare('SELECT seq, body FROM incidents WHERE id = ?').get(id) as { seq: number; body: string } | undefined;
    return row ? { seq: row.seq, incident: JSON.parse(row.body) as Incident } : undefined;
  }

  listIncidents(q: IncidentQuery): StoredIncident[] {
    const where: string[] = [];
    const args: unknown[] = [];
    if (q.status) { where.push('status = ?'); args.push(q.status); }
    if (q.service) { where.push('services LIKE ?'); args.push(`%|${q.service.replace(/[%_|]/g, '')}|%`); }
    if (q.beforeSeq !== undefined) { where.push('seq < ?'); args.push(q.beforeSeq); }
    args.push(q.limit);
    const rows = this.db.prepare(`SELECT seq, body FROM incidents ${where.length ? 'WHERE ' + where.join(' AND ') : ''} ORDER BY seq DESC LIMIT ?`).all(...args) as { seq: number; body: string }[];
    return rows.map((r) => ({ seq: r.seq, incident: JSON.parse(r.body) as Incident }));
  }

  /** Incidents whose chain or root cause names one of these event ids. */
  incidentsForEvents(eventIds: Set<string>, limit = 50): Incident[] {
    const out: Incident[] = [];
    for (const { incident } of this.listIncidents({ limit: 1000 })) {
      const ids = [...(incident.chain ?? []).map((l) => l.eventId), ...(incident.rootCause?.eventIds ?? [])];
      if (ids.some((id) => eventIds.has(id))) out.push(incident);
      if (out.length >= limit) break;
    }
    return out;
  }

  stats(): StoreStats {
    const r = this.db.prepare('SELECT MIN(time) AS lo, MAX(time) AS hi FROM events').get() as { lo: number | null; hi: number | null };
    const n = (this.db.prepare('SELECT COUNT(*) AS n FROM incidents').get() as { n: number }).n;
    return { events: this.count, bytes: this.bytes, incidents: n, oldestEventTime: r.lo ?? undefined, newestEventTime: r.hi ?? undefined, evicted: this.evictedTotal, expired: this.expiredTotal };
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.db.close();
  }
}

function rowToEvent(row: { seq: number; body: string }): StoredEvent {
  return { seq: row.seq, json: row.body, event: JSON.parse(row.body) as UnifiedEvent };
}
