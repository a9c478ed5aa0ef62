import type { UnifiedEvent } from '@tapio/core';
import { compileField, type Accessor } from './fields';

/**
 * Narrative and action templates:
 *   "Pod {{resource.k8s.pod.name | entity.name}} OOM-killed[[: container exceeded its {{match.limit}} memory limit]]"
 *  - `{{ a | b | "text" }}`: the first alternative that has a value; `match.<group>` is a named regex group;
 *  - `{{ field:bytes }}` formats a number of bytes (2147483648 → 2Gi), `:ms` milliseconds, `:pct` a ratio as percent,
 *    `:line` the first line of a text (at most 160 characters);
 *  - `[[ … ]]`: an optional part, left out when any value inside is missing.
 * A required value that is missing renders as "unknown", so a narrative is never broken.
 */
type Part = string | Expr | Optional;
interface Expr { alternatives: Alt[]; format?: Formatter }
type Alt = { literal: string } | { capture: string } | { field: Accessor };
interface Optional { optional: Part[] }
type Formatter = (v: unknown) => string;

export interface CompiledTemplate {
  source: string;
  parts: Part[];
  /** True when the template is plain text (no lookups). */
  constant: boolean;
}

const FORMATS: Record<string, Formatter> = {
  bytes: (v) => {
    const n = typeof v === 'number' ? v : Number(v);
    if (!Number.isFinite(n)) return String(v);
    const units = ['', 'Ki', 'Mi', 'Gi', 'Ti'];
    let x = n; let i = 0;
    while (x >= 1024 && i < units.length - 1) { x /= 1024; i++; }
    return (Number.isInteger(x) ? String(x) : x.toFixed(1)) + units[i];
  },
  ms: (v) => {
    const n = Number(v);
    if (!Number.isFinite(n)) return String(v);
    return n >= 1000 ? (n / 1000).toFixed(n >= 10_000 ? 0 : 1) + ' s' : Math.round(n) + ' ms';
  },
  /** The first line, at most 160 characters: for log bodies and stack traces in a narrative. */
  line: (v) => {
    const t = String(v).trimStart();
    const nl = t.indexOf('\n');
    const first = nl >= 0 ? t.slice(0, nl).trimEnd() : t;
    return first.length > 160 ? first.slice(0, 157) + '...' : first;
  },
  pct: (v) => { const n = Number(v); return Number.isFinite(n) ? Math.round(n * 100) + '%' : String(v); },
};

function parseExpr(text: string): Expr {
  let body = text.trim();
  let format: Formatter | undefined;
  const colon = /:([a-z]+)$/.exec(body);
  if (colon && FORMATS[colon[1]!]) { format = FORMATS[colon[1]!]; body = body.slice(0, colon.index).trim(); }
  const alternatives: Alt[] = body.split('|').map((raw) => {
    const a = raw.trim();
    if (!a) throw new Error(`empty alternative in "{{${text}}}"`);
    if (/^".*"$|^'.*'$/.test(a)) return { literal: a.slice(1, -1) };
    if (a.startsWith('match.')) return { capture: a.slice(6) };
    return { field: compileField(a) };
  });
  return format ? { alternatives, format } : { alternatives };
}

function parseParts(src: string): Part[] {
  const parts: Part[] = [];
  let i = 0;
  while (i < src.length) {
    const open = src.indexOf('{{', i);
    const opt = src.indexOf('[[', i);
    const next = open < 0 ? opt : opt < 0 ? open : Math.min(open, opt);
    if (next < 0) { parts.push(src.slice(i)); break; }
    if (next > i) parts.push(src.slice(i, next));
    if (next === opt) {
      const close = src.indexOf(']]', opt);
      if (close < 0) throw new Error(`"[[" without "]]" in template "${src}"`);
      parts.push({ optional: parseParts(src.slice(opt + 2, close)) });
      i = close + 2;
    } else {
      const close = src.indexOf('}}', open);
      if (close < 0) throw new Error(`"{{" without "}}" in template "${src}"`);
      parts.push(parseExpr(src.slice(open + 2, close)));
      i = close + 2;
    }
  }
  return parts;
}

export function compileTemplate(source: string): CompiledTemplate {
  const parts = parseParts(source);
  return { source, parts, constant: parts.every((p) => typeof p === 'string') };
}

function valueOf(x: Expr, e: UnifiedEvent, captures: Record<string, string> | undefined): string | undefined {
  for (const a of x.alternatives) {
    let v: unknown;
    if ('literal' in a) return a.literal;
    if ('capture' in a) v = captures?.[a.capture];
    else v = a.field(e);
    if (v === undefined || v === null || v === '') continue;
    if (typeof v === 'object') v = JSON.stringify(v);
    return x.format ? x.format(v) : String(v);
  }
  return undefined;
}

function render(parts: Part[], e: UnifiedEvent, captures: Record<string, string> | undefined, optional: boolean): string | undefined {
  let out = '';
  for (const p of parts) {
    if (typeof p === 'string') { out += p; continue; }
    if ('optional' in p) { out += render(p.optional, e, captures, true) ?? ''; continue; }
    const v = valueOf(p, e, captures);
    if (v === undefined) { if (optional) return undefined; out += 'unknown'; continue; }
    out += v;
  }
  return out;
}

export function renderTemplate(t: CompiledTemplate, e: UnifiedEvent, captures?: Record<string, string>): string {
  return t.constant ? t.source : render(t.parts, e, captures, false)!;
}
