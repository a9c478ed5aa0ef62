/**
 * The service call graph learned from spans: a child span in another service than its parent
 * is a call parent → child. Bounded: recent span ids only, a cap on callers per service.
 */
export class CallGraph {
  /** callee → caller → last seen (ns). */
  private readonly callers = new Map<string, Map<string, number>>();
  private readonly spanService = new Map<string, string>();
  /** SERVER spans that arrived before their CLIENT parent: parentSpanId → callee service. */
  private readonly waiting = new Map<string, string>();
  private version = 0;
  private readonly upstreamCache = new Map<string, { version: number; services: string[] }>();

  constructor(private readonly maxSpans: number, private readonly maxCallers = 200) {}

  get edges(): number { let n = 0; for (const m of this.callers.values()) n += m.size; return n; }

  /**
   * Feeds one span. A call between services is a CLIENT/PRODUCER span in the caller whose child
   * is a SERVER/CONSUMER span in the callee; only those two kinds are kept, which is enough for
   * the graph and keeps the work per span small. Either side may arrive first.
   */
  // TODO(issue 4): learn from a sample of traces (by trace id) once the graph is stable; every
  // CLIENT span id is remembered today, the largest per-span cost of this processor.
  observe(spanId: string | undefined, parentSpanId: string | undefined, spanKind: number | undefined, service: string, timeNs: number): void {
    if (spanId && (spanKind === 3 || spanKind === 4)) {
      if (this.spanService.size >= this.maxSpans) this.forgetOldest(this.spanService);
      this.spanService.set(spanId, service);
      const child = this.waiting.get(spanId);
      if (child !== undefined) {
        this.waiting.delete(spanId);
        this.addCall(service, child, timeNs);
      }
    } else if (parentSpanId && (spanKind === 2 || spanKind === 5)) {
      const parent = this.spanService.get(parentSpanId);
      if (parent !== undefined) this.addCall(parent, service, timeNs);
      else {
        if (this.waiting.size >= this.maxSpans) this.forgetOldest(this.waiting);
        this.waiting.set(parentSpanId, service);
      }
    }
  }

  /** Forgets the oldest tenth at once: insertion order is arrival order. */
  private forgetOldest(m: Map<string, string>): void {
    let drop = Math.ceil(this.maxSpans / 10);
    for (const k of m.keys()) { m.delete(k); if (--drop === 0) break; }
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
