import { parseDuration, type Severity, type UnifiedEvent } from '@tapio/core';
import { compileFields, type Accessor } from './fields';
import { compileTemplate, type CompiledTemplate } from './template';
import type { ConditionSpec, RuleSpec } from './types';

/** Numbers a rule compares against: a literal or a `$variable` from the processor config (per service when set). */
export interface Variables {
  global: Record<string, number>;
  /** service.name → variables that override the global ones for that service. */
  byService: Map<string, Record<string, number>>;
}

/** A compiled condition: a plain function, so matching is a chain of calls with no lookups by name. */
export type Predicate = (e: UnifiedEvent, vars: Variables) => boolean;

export interface CompiledRule {
  id: string;
  origin: string;
  priority: number;
  order: number;
  kinds: string[];
  test: Predicate;
  /** Regexes with named groups, re-run on a match to fill `{{match.x}}`. */
  captures: { field: Accessor; re: RegExp }[];
  rate?: { count: number; windowNs: number; by: Accessor[] };
  intent: string;
  category: string;
  tags: string[];
  confidence: number;
  narrative: CompiledTemplate;
  actions: CompiledTemplate[];
  severity?: Severity;
  spec: RuleSpec;
}

function toNumber(v: unknown): number | undefined {
  if (typeof v === 'number') return v;
  if (typeof v === 'string' && v.trim() !== '') { const n = Number(v); return Number.isFinite(n) ? n : undefined; }
  if (typeof v === 'boolean') return undefined;
  return undefined;
}

type Operand = (e: UnifiedEvent, vars: Variables) => number | undefined;

function operand(v: number | string, knownVars: Set<string>, where: string): Operand {
  if (typeof v === 'number') return () => v;
  const name = v.slice(1);
  if (!knownVars.has(name)) throw new Error(`${where}: unknown variable "${v}" (known: ${[...knownVars].map((k) => '$' + k).join(', ') || 'none'})`);
  return (e, vars) => {
    if (vars.byService.size) {
      const svc = e.resource?.['service.name'];
      const o = typeof svc === 'string' ? vars.byService.get(svc) : undefined;
      if (o && o[name] !== undefined) return o[name];
    }
    return vars.global[name];
  };
}

function text(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (v === undefined || v === null) return undefined;
  return typeof v === 'object' ? JSON.stringify(v) : String(v);
}

function compileRegex(src: string, flags: string, where: string): RegExp {
  try { return new RegExp(src, flags); } catch (err) { throw new Error(`${where}: invalid regex /${src}/: ${(err as Error).message}`); }
}

interface Ctx { knownVars: Set<string>; captures: { field: Accessor; re: RegExp }[] }

export function compileCondition(c: ConditionSpec, where: string, ctx: Ctx): Predicate {
  const preds: Predicate[] = [];
  if (c.all) { const ps = c.all.map((x, i) => compileCondition(x, `${where}.all[${i}]`, ctx)); preds.push(allOf(ps)); }
  if (c.any) { const ps = c.any.map((x, i) => compileCondition(x, `${where}.any[${i}]`, ctx)); preds.push(anyOf(ps)); }
  if (c.not) { const p = compileCondition(c.not, `${where}.not`, ctx); preds.push((e, v) => !p(e, v)); }
  const hasOp = ['equals', 'not_equals', 'in', 'regex', 'iregex', 'contains', 'exists', 'gt', 'gte', 'lt', 'lte'].some((k) => (c as Record<string, unknown>)[k] !== undefined);
  if (c.field === undefined) {
    if (hasOp) throw new Error(`${where}: an operator needs a "field"`);
  } else {
    if (!hasOp) throw new Error(`${where}: field "${String(c.field)}" has no operator (equals, in, regex, exists, gt, …)`);
    let get: Accessor;
    try { get = compileFields(c.field); } catch (err) { throw new Error(`${where}: ${(err as Error).message}`); }
    if (c.exists !== undefined) { const want = c.exists; preds.push((e) => { const v = get(e); return (v !== undefined && v !== null) === want; }); }
    if (c.equals !== undefined) {
      const want = c.equals;
      preds.push(typeof want === 'number' ? (e) => toNumber(get(e)) === want : (e) => get(e) === want);
    }
    if (c.not_equals !== undefined) { const no = c.not_equals; preds.push((e) => { const v = get(e); return v !== undefined && v !== no; }); }
    if (c.in !== undefined) {
      const set = new Set<unknown>(c.in);
      const numeric = c.in.every((x) => typeof x === 'number');
      preds.push(numeric ? (e) => set.has(toNumber(get(e))) : (e) => set.has(get(e)));
    }
    if (c.contains !== undefined) { const needle = c.contains; preds.push((e) => text(get(e))?.includes(needle) === true); }
    for (const [key, flags] of [['regex', ''], ['iregex', 'i']] as const) {
      const src = c[key];
      if (src === undefined) continue;
      const re = compileRegex(src, flags, `${where}.${key}`);
      if (/\(\?<[a-zA-Z]/.test(src)) ctx.captures.push({ field: get, re });
      preds.push((e) => { const t = text(get(e)); return t !== undefined && re.test(t); });
    }
    for (const [key, cmp] of [['gt', (a: number, b: number) => a > b], ['gte', (a: number, b: number) => a >= b], ['lt', (a: number, b: number) => a < b], ['lte', (a: number, b: number) => a <= b]] as const) {
      const raw = c[key];
      if (raw === undefined) continue;
      const rhs = operand(raw, ctx.knownVars, `${where}.${key}`);
      preds.push((e, vars) => { const a = toNumber(get(e)); const b = rhs(e, vars); return a !== undefined && b !== undefined && cmp(a, b); });
    }
  }
  if (!preds.length) throw new Error(`${where}: empty condition`);
  return preds.length === 1 ? preds[0]! : allOf(preds);
}

function allOf(ps: Predicate[]): Predicate {
  if (ps.length === 1) return ps[0]!;
  if (ps.length === 2) { const [a, b] = ps as [Predicate, Predicate]; return (e, v) => a(e, v) && b(e, v); }
  return (e, v) => { for (let i = 0; i < ps.length; i++) if (!ps[i]!(e, v)) return false; return true; };
}

function anyOf(ps: Predicate[]): Predicate {
  if (ps.length === 1) return ps[0]!;
  return (e, v) => { for (let i = 0; i < ps.length; i++) if (ps[i]!(e, v)) return true; return false; };
}

/** Compiles one validated rule; throws with the offending part named. */
export function compileRule(spec: RuleSpec, origin: string, order: number, knownVars: Set<string>): CompiledRule {
  const ctx: Ctx = { knownVars, captures: [] };
  const m = spec.match;
  const preds: Predicate[] = [];
  if (m.all) preds.push(allOf(m.all.map((c, i) => compileCondition(c, `match.all[${i}]`, ctx))));
  if (m.any) preds.push(anyOf(m.any.map((c, i) => compileCondition(c, `match.any[${i}]`, ctx))));
  if (m.none) { const n = anyOf(m.none.map((c, i) => compileCondition(c, `match.none[${i}]`, ctx))); preds.push((e, v) => !n(e, v)); }
  const test: Predicate = preds.length ? allOf(preds) : () => true;
  let rate: CompiledRule['rate'];
  if (m.rate) {
    let windowMs: number;
    try { windowMs = parseDuration(m.rate.window); } catch (err) { throw new Error(`match.rate.window: ${(err as Error).message}`); }
    rate = { count: m.rate.count, windowNs: windowMs * 1e6, by: (m.rate.by ?? []).map((f, i) => { try { return compileFields(f); } catch (err) { throw new Error(`match.rate.by[${i}]: ${(err as Error).message}`); } }) };
  }
  (spec.extract ?? []).forEach((x, i) => {
    const where = `extract[${i}]`;
    let field: Accessor;
    try { field = compileFields(x.field); } catch (err) { throw new Error(`${where}: ${(err as Error).message}`); }
    const re = compileRegex(x.regex, 'i', `${where}.regex`);
    if (!/\(\?<[a-zA-Z]/.test(x.regex)) throw new Error(`${where}.regex: has no named group (?<name>…) to extract`);
    ctx.captures.push({ field, re });
  });
  const s = spec.set;
  let narrative: CompiledTemplate;
  try { narrative = compileTemplate(s.narrative); } catch (err) { throw new Error(`set.narrative: ${(err as Error).message}`); }
  const actions = (s.suggested_actions ?? []).map((a, i) => { try { return compileTemplate(a); } catch (err) { throw new Error(`set.suggested_actions[${i}]: ${(err as Error).message}`); } });
  return {
    id: spec.id, origin, priority: spec.priority ?? 0, order,
    kinds: Array.isArray(m.kind) ? m.kind : [m.kind],
    test, captures: ctx.captures, rate,
    intent: s.intent, category: s.category, tags: s.tags ?? [], confidence: s.confidence ?? 0.8,
    narrative, actions, severity: s.severity, spec,
  };
}
