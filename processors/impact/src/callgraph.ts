/**
 * The service call graph learned from spans: a child span in another service than its parent
 * is a call parent → child. Bounded: recent span ids only, a cap on callers per service.
 */
export class CallGraph {
  /** callee → caller → last seen (ns). */
  private readonly callers = new Map<string, Map<string, number>>();
  private readonly spanService = new Map<string, string>();
  /** Children that arrived before their parent: parentSpanId → child services. */
  private readonly waiting = new Map<string, string[]>();
  private version = 0;
  private readonly upstreamCache = new Map<string, { version: number; services: string[] }>();

  constructor(private readonly maxSpans: number, private readonly maxCallers = 200) {}

  get edges(): number { let n = 0; for (const m of this.callers.values()) n += m.size; return n; }

  /** Feeds one span. */
  observe(spanId: string | undefined, parentSpanId: string | undefined, service: string, timeNs: number): void {
    if (spanId) {
      if (this.spanService.size >= this.maxSpans) {
        // Forget the oldest tenth at once: insertion order is arrival order.
        let drop = Math.ceil(this.maxSpans / 10);
        for (const k of this.spanService.keys()) { this.spanService.delete(k); if (--drop === 0) break; }
      }
      this.spanService.set(spanId, service);
      const kids = this.waiting.get(spanId);
      if (kids) {
        this.waiting.delete(spanId);
        for (const child of kids) this.addCall(service, child, timeNs);
      }
    }
    if (parentSpanId) {
      const parent = this.spanService.get(parentSpanId);
      if (parent !== undefined) this.addCall(parent, service, timeNs);
      else {
        if (this.waiting.size >= this.maxSpans) this.waiting.clear();
        const list = this.waiting.get(parentSpanId);
        if (list) { if (list.length < 16) list.push(service); } else this.waiting.set(parentSpanId, [service]);
      }
    }
  }

  addCall(caller: string, callee: string, timeNs: number): void {
    if (caller === callee) return;
    let m = this.callers.get(callee);
    if (!m) { m = new Map(); this.callers.set(callee, m); }
    if (!m.has(caller)) {
      if (m.size >= this.maxCallers) return;
      this.version++;
    }
    m.set(caller, timeNs);
  }

  /** Every service that calls this one, directly or through others (breadth-first, bounded). */
  upstream(service: string): string[] {
    const cached = this.upstreamCache.get(service);
    if (cached && cached.version === this.version) return cached.services;
    const seen = new Set<string>([service]);
    const out: string[] = [];
    let frontier = [service];
    for (let depth = 0; depth < 8 && frontier.length && out.length < 500; depth++) {
      const next: string[] = [];
      for (const s of frontier) {
        const m = this.callers.get(s);
        if (!m) continue;
        for (const c of m.keys()) if (!seen.has(c)) { seen.add(c); out.push(c); next.push(c); }
      }
      frontier = next;
    }
    if (this.upstreamCache.size > 10_000) this.upstreamCache.clear();
    this.upstreamCache.set(service, { version: this.version, services: out });
    return out;
  }
}
