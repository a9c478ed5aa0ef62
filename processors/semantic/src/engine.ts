import type { SemanticInfo, Severity, UnifiedEvent } from '@tapio/core';
import type { CompiledRule, Variables } from './rules/compile';
import { renderTemplate } from './rules/template';

const SEVERITY_RANK: Record<Severity, number> = { debug: 0, info: 1, warn: 2, error: 3, fatal: 4 };

interface RateState { start: number; n: number }

/**
 * Matches events against compiled rules. Rules are indexed by event kind and sorted by
 * priority, so an event is only tested against the rules for its kind; the first match wins.
 */
export class RuleEngine {
  private readonly byKind = new Map<string, CompiledRule[]>();
  private readonly rates = new Map<string, RateState>();

  constructor(readonly rules: CompiledRule[], private readonly vars: Variables, private readonly maxRateKeys = 10_000) {
    const sorted = [...rules].sort((a, b) => b.priority - a.priority || a.order - b.order);
    for (const r of sorted) {
      for (const k of r.kinds) {
        let list = this.byKind.get(k);
        if (!list) { list = []; this.byKind.set(k, list); }
        list.push(r);
      }
    }
  }

  get rateKeys(): number { return this.rates.size; }

  /** The first rule that matches, or undefined. Rate rules count the event even when below threshold. */
  match(e: UnifiedEvent): CompiledRule | undefined {
    const list = this.byKind.get(e.kind);
    if (!list) return undefined;
    for (let i = 0; i < list.length; i++) {
      const r = list[i]!;
      if (!r.test(e, this.vars)) continue;
      if (r.rate && !this.overRate(r, e)) continue;
      return r;
    }
    return undefined;
  }

  /** Every rule that matches (for `tapio rules test`); no rate state is touched. */
  matchAll(e: UnifiedEvent): CompiledRule[] {
    return (this.byKind.get(e.kind) ?? []).filter((r) => r.test(e, this.vars));
  }

  private overRate(r: CompiledRule, e: UnifiedEvent): boolean {
    const rate = r.rate!;
    let key = r.id;
    for (let i = 0; i < rate.by.length; i++) key += '|' + String(rate.by[i]!(e) ?? '');
    let st = this.rates.get(key);
    const t = e.time;
    if (!st || t - st.start > rate.windowNs || t < st.start - rate.windowNs) {
      if (!st && this.rates.size >= this.maxRateKeys) {
        // Forget the oldest key: the map keeps insertion order.
        const oldest = this.rates.keys().next();
        if (!oldest.done) this.rates.delete(oldest.value);
      }
      st = { start: t, n: 0 };
      this.rates.delete(key);
      this.rates.set(key, st);
    }
    st.n += e.count ?? 1;
    return st.n >= rate.count;
  }

  /** Applies a matched rule to the event: `semantic`, and severity raised when the rule says so. */
  apply(r: CompiledRule, e: UnifiedEvent): SemanticInfo {
    let captures: Record<string, string> | undefined;
    for (let i = 0; i < r.captures.length; i++) {
      const c = r.captures[i]!;
      const v = c.field(e);
      const m = typeof v === 'string' ? c.re.exec(v) : v === undefined || v === null ? null : c.re.exec(typeof v === 'object' ? JSON.stringify(v) : String(v));
      if (m?.groups) {
        captures ??= {};
        for (const k in m.groups) { const g = m.groups[k]; if (g !== undefined && captures[k] === undefined) captures[k] = g; }
      }
    }
    const actions: string[] = new Array(r.actions.length);
    for (let i = 0; i < r.actions.length; i++) actions[i] = renderTemplate(r.actions[i]!, e, captures);
    const info: SemanticInfo = {
      intent: r.intent,
      category: r.category,
      tags: r.tags.slice(),
      narrative: renderTemplate(r.narrative, e, captures),
      confidence: r.confidence,
      suggestedActions: actions,
      ruleId: r.id,
    };
    e.semantic = info;
    if (r.severity && SEVERITY_RANK[r.severity] > (SEVERITY_RANK[e.severity] ?? 1)) e.severity = r.severity;
    return info;
  }
}
