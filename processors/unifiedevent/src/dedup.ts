import type { Attributes, UnifiedEvent } from '@tapio/core';

interface Entry {
  /** The first occurrence: what later events are compared with. */
  first: UnifiedEvent;
  /** Event time of the first occurrence (ns). */
  firstTime: number;
  /** Wall-clock ms when the first occurrence passed; drives the flush timer. */
  firstWall: number;
  /** How many duplicates (weighted by their own `count`) were held back. */
  suppressed: number;
  last?: UnifiedEvent;
  /** Still in the index (false once replaced, flushed or evicted). */
  live: boolean;
  /** Age order: the next younger entry. */
  next?: Entry;
  key: string;
}

/**
 * The text that most tells events apart, used as the index key as it is (no concatenation, so
 * V8's cached string hash is used and nothing is allocated). Undefined: never merged.
 */
export function primaryKey(e: UnifiedEvent): string | undefined {
  if (!e.resource) return undefined;
  switch (e.kind) {
    case 'log': { const b = e.log?.body; return typeof b === 'string' ? b : undefined; }
    case 'k8s': {
      const k = e.k8s;
      if (!k) return undefined;
      return typeof k.message === 'string' && k.message ? k.message : k.reason + '|' + (e.entity?.name ?? '');
    }
    // Kernel and network kinds have few distinct values: add what separates one process or flow.
    case 'kernel': return e.kernel ? e.kernel.event + '|' + String(e.kernel.pid ?? e.kernel.comm ?? '') : undefined;
    case 'network': {
      const n = e.network;
      return n ? n.event + '|' + String(n.dstAddr ?? '') + ':' + String(n.dstPort ?? '') + '|' + String(n.pid ?? n.srcPort ?? '') : undefined;
    }
    default: return undefined;
  }
}

/** Events sharing one primary text beyond this are passed without de-duplication (bounded work). */
const MAX_PER_KEY = 32;

const WHO = ['service.name', 'k8s.pod.name', 'container.id', 'host.name'];

function sameWho(a: Attributes, b: Attributes): boolean {
  for (let i = 0; i < WHO.length; i++) if (a[WHO[i]!] !== b[WHO[i]!]) return false;
  return true;
}

/** Identical for de-duplication: same kind, source, thing and text (the primary key is already equal). */
export function sameEvent(a: UnifiedEvent, b: UnifiedEvent): boolean {
  if (a.kind !== b.kind || a.source !== b.source || !sameWho(a.resource, b.resource)) return false;
  switch (a.kind) {
    case 'log': return a.severity === b.severity && a.trace?.traceId === b.trace?.traceId;
    case 'k8s': {
      const x = a.entity; const y = b.entity;
      return a.k8s!.reason === b.k8s!.reason && (x === y || (!!x && !!y && x.kind === y.kind && x.name === y.name && x.namespace === y.namespace));
    }
    case 'kernel': {
      const x = a.kernel!; const y = b.kernel!;
      return x.pid === y.pid && x.comm === y.comm && x.signal === y.signal && x.exitCode === y.exitCode && x.errno === y.errno && x.syscall === y.syscall;
    }
    case 'network': {
      const x = a.network!; const y = b.network!;
      return x.dstAddr === y.dstAddr && x.dstPort === y.dstPort && x.srcAddr === y.srcAddr && x.pid === y.pid;
    }
    default: return false;
  }
}

/**
 * Merges identical events within a window of event time. The first occurrence passes at once
 * (no added latency); later identical ones are held back and, when the window closes, one
 * summary event (the last duplicate) goes out with `count` = how many it stands for. So the
 * counts of what leaves always add up to what came in.
 *
 * Index: primary text → entries with that text (usually one); age order: a linked list, so
 * flushing and evicting the oldest never scan.
 */
export class Deduplicator {
  private readonly index = new Map<string, Entry | Entry[]>();
  private head?: Entry;
  private tail?: Entry;
  private live = 0;
  private readonly windowNs: number;

  constructor(private readonly windowMs: number, private readonly maxEntries: number, private readonly kinds: ReadonlySet<string>) {
    this.windowNs = windowMs * 1e6;
  }

  get size(): number { return this.live; }

  /**
   * True when the event passes on; false when it was held back as a duplicate. Summaries of
   * entries that closed or were evicted are pushed onto `out`.
   */
  offer(e: UnifiedEvent, nowMs: number, out: UnifiedEvent[]): boolean {
    if (!this.kinds.has(e.kind)) return true;
    const key = primaryKey(e);
    if (key === undefined) return true;
    const slot = this.index.get(key);
    const entry = slot === undefined ? undefined : Array.isArray(slot) ? slot.find((x) => sameEvent(x.first, e)) : sameEvent(slot.first, e) ? slot : undefined;
    if (entry) {
      const dt = e.time - entry.firstTime;
      if (dt < this.windowNs && dt > -this.windowNs) {
        entry.suppressed += e.count ?? 1;
        entry.last = e;
        return false;
      }
      this.close(entry, out);
    } else if (Array.isArray(slot) && slot.length >= MAX_PER_KEY) {
      return true;
    } else if (this.live >= this.maxEntries) {
      this.evictOldest(out);
    }
    this.add(key, { first: e, firstTime: e.time, firstWall: nowMs, suppressed: 0, live: true, key });
    return true;
  }

  /** Closes every entry older than the window (by wall clock); with `all`, every entry. */
  flush(nowMs: number, all: boolean, out: UnifiedEvent[]): void {
    while (this.head) {
      const h = this.head;
      if (h.live && !all && nowMs - h.firstWall < this.windowMs) break;
      this.head = h.next;
      if (!this.head) this.tail = undefined;
      if (h.live) this.close(h, out);
    }
  }

  private add(key: string, entry: Entry): void {
    const slot = this.index.get(key);
    if (slot === undefined) this.index.set(key, entry);
    else if (Array.isArray(slot)) slot.push(entry);
    else this.index.set(key, [slot, entry]);
    if (this.tail) this.tail.next = entry; else this.head = entry;
    this.tail = entry;
    this.live++;
  }

  /** Takes an entry out of the index (its list node is skipped lazily) and emits its summary. */
  private close(entry: Entry, out: UnifiedEvent[]): void {
    entry.live = false;
    this.live--;
    const slot = this.index.get(entry.key);
    if (slot === entry) this.index.delete(entry.key);
    else if (Array.isArray(slot)) {
      const i = slot.indexOf(entry);
      if (i >= 0) slot.splice(i, 1);
      if (slot.length === 1) this.index.set(entry.key, slot[0]!);
      else if (!slot.length) this.index.delete(entry.key);
    }
    if (entry.suppressed > 0) out.push(summary(entry));
    // A closed node may wait in the age list a while: let go of the events it held.
    entry.first = undefined as unknown as UnifiedEvent;
    entry.last = undefined;
  }

  private evictOldest(out: UnifiedEvent[]): void {
    while (this.head && !this.head.live) this.head = this.head.next;
    const h = this.head;
    if (!h) { this.tail = undefined; return; }
    this.head = h.next;
    if (!this.head) this.tail = undefined;
    this.close(h, out);
  }
}

function summary(entry: Entry): UnifiedEvent {
  const e = entry.last!;
  e.count = entry.suppressed;
  e.attributes['tapio.dedup.first_time_unix_nano'] = String(entry.firstTime);
  return e;
}

/** The identity of an event for de-duplication, as text (for tools and tests). */
export function dedupKey(e: UnifiedEvent): string | undefined {
  const p = primaryKey(e);
  if (p === undefined) return undefined;
  const r = e.resource;
  return [e.kind, e.source, ...WHO.map((k) => String(r[k] ?? '')), p].join('|');
}
