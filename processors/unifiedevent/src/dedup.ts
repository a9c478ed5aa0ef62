import type { UnifiedEvent } from '@tapio/core';

interface Entry {
  /** Event time of the first occurrence (ns). */
  firstTime: number;
  /** Wall-clock ms when the first occurrence passed; drives the flush timer. */
  firstWall: number;
  /** How many duplicates (weighted by their own `count`) were held back. */
  suppressed: number;
  last?: UnifiedEvent;
}

function s(v: unknown): string {
  return v === undefined || v === null ? '' : typeof v === 'object' ? '' : String(v);
}

/**
 * The identity of an event for de-duplication: same kind, same thing, same text. Returns
 * undefined for events that are never merged (spans, metrics, structured bodies).
 */
export function dedupKey(e: UnifiedEvent): string | undefined {
  const r = e.resource;
  if (!r) return undefined;
  const who = s(r['service.name']) + '|' + s(r['k8s.pod.name']) + '|' + s(r['container.id']) + '|' + s(r['host.name']);
  switch (e.kind) {
    case 'log': {
      const body = e.log?.body;
      if (typeof body !== 'string') return undefined;
      return 'l|' + e.source + '|' + who + '|' + e.severity + '|' + (e.trace?.traceId ?? '') + '|' + body;
    }
    case 'k8s': {
      const k = e.k8s;
      if (!k) return undefined;
      const en = e.entity;
      return 'k|' + e.source + '|' + who + '|' + (en ? en.kind + '/' + (en.namespace ?? '') + '/' + en.name : '') + '|' + k.reason + '|' + s(k.message);
    }
    case 'kernel': {
      const k = e.kernel;
      if (!k) return undefined;
      return 'x|' + e.source + '|' + who + '|' + k.event + '|' + s(k.pid) + '|' + s(k.comm) + '|' + s(k.signal) + '|' + s(k.exitCode) + '|' + s(k.errno) + '|' + s(k.syscall);
    }
    case 'network': {
      const n = e.network;
      if (!n) return undefined;
      return 'n|' + e.source + '|' + who + '|' + n.event + '|' + s(n.srcAddr) + '|' + s(n.dstAddr) + ':' + s(n.dstPort) + '|' + s(n.pid);
    }
    default:
      return undefined;
  }
}

/**
 * Merges identical events within a window of event time. The first occurrence passes at once
 * (no added latency); later identical ones are held back and, when the window closes, one
 * summary event (the last duplicate) goes out with `count` = how many it stands for. So the
 * counts of what leaves always add up to what came in.
 */
export class Deduplicator {
  private readonly entries = new Map<string, Entry>();
  private readonly windowNs: number;

  constructor(private readonly windowMs: number, private readonly maxEntries: number, private readonly kinds: ReadonlySet<string>) {
    this.windowNs = windowMs * 1e6;
  }

  get size(): number { return this.entries.size; }

  /**
   * True when the event passes on; false when it was held back as a duplicate. Summaries of
   * entries that closed or were evicted are pushed onto `out`.
   */
  offer(e: UnifiedEvent, nowMs: number, out: UnifiedEvent[]): boolean {
    if (!this.kinds.has(e.kind)) return true;
    const key = dedupKey(e);
    if (key === undefined) return true;
    const entry = this.entries.get(key);
    if (entry) {
      const dt = e.time - entry.firstTime;
      if (dt < this.windowNs && dt > -this.windowNs) {
        entry.suppressed += e.count ?? 1;
        entry.last = e;
        return false;
      }
      this.entries.delete(key);
      if (entry.suppressed > 0) out.push(summary(entry));
    } else if (this.entries.size >= this.maxEntries) {
      this.evictOldest(out);
    }
    this.entries.set(key, { firstTime: e.time, firstWall: nowMs, suppressed: 0 });
    return true;
  }

  /** Closes every entry older than the window (by wall clock); with `all`, every entry. */
  flush(nowMs: number, all: boolean, out: UnifiedEvent[]): void {
    for (const [key, entry] of this.entries) {
      if (!all && nowMs - entry.firstWall < this.windowMs) break; // insertion order = age order
      this.entries.delete(key);
      if (entry.suppressed > 0) out.push(summary(entry));
    }
  }

  private evictOldest(out: UnifiedEvent[]): void {
    const first = this.entries.entries().next();
    if (first.done) return;
    const [key, entry] = first.value;
    this.entries.delete(key);
    if (entry.suppressed > 0) out.push(summary(entry));
  }
}

function summary(entry: Entry): UnifiedEvent {
  const e = entry.last!;
  e.count = entry.suppressed;
  e.attributes['tapio.dedup.first_time_unix_nano'] = String(entry.firstTime);
  return e;
}
