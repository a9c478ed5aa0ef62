import type { AttributeValue, UnifiedEvent } from '@tapio/core';
import { getField, parseField, type FieldRef } from '../fields';
import { DEFAULT_SEVERITY_WORDS, SEVERITY_NUMBERS, severityFromNumber } from '../severity';
import { Options } from './options';
import { CONTINUE, type Operator, type Verdict } from './types';

interface Range { min: number; max: number; sev: number }

/**
 * `severity_parser` (and a parser's `severity:` block), as in the OTel Collector: `mapping` from
 * severity names (`error`, `warn2` …) to a value, a list of values, or `{min, max}` for numbers
 * (HTTP status codes); `preset: default` adds the usual words (INFO, Warning, ERR, …).
 */
export class SeverityOperator implements Operator {
  private readonly from: FieldRef;
  private readonly words = new Map<string, number>();
  private readonly ranges: Range[] = [];

  constructor(readonly id: string, o: Options) {
    this.from = parseField(o.str('parse_from', 'attributes.severity')!);
    const preset = o.oneOf('preset', ['default', 'none'] as const, 'default');
    if (preset === 'default') for (const [w, n] of Object.entries(DEFAULT_SEVERITY_WORDS)) this.words.set(w, n);
    const mapping = o.obj('mapping') ?? {};
    for (const [name, spec] of Object.entries(mapping)) {
      const sev = SEVERITY_NUMBERS[name.toLowerCase()];
      if (sev === undefined) throw new Error(`${o.where}.mapping: "${name}" is not a severity (trace, debug, info, warn, error, fatal, or with 2-4)`);
      for (const v of Array.isArray(spec) ? spec : [spec]) this.addValue(v, sev, o.where);
    }
  }

  private addValue(v: unknown, sev: number, where: string): void {
    if (typeof v === 'string' || typeof v === 'number') { this.words.set(String(v).toLowerCase(), sev); return; }
    if (typeof v === 'object' && v !== null && 'min' in v && 'max' in v) {
      const r = v as { min: unknown; max: unknown };
      this.ranges.push({ min: Number(r.min), max: Number(r.max), sev });
      return;
    }
    if (v === '2xx' || v === '3xx' || v === '4xx' || v === '5xx') return;
    throw new Error(`${where}.mapping: values must be strings, numbers or {min, max}`);
  }

  /** The severity number for a raw value, or 0 when it maps to nothing. */
  lookup(v: AttributeValue | undefined): number {
    if (v === undefined || v === null) return 0;
    if (typeof v === 'number') {
      for (let i = 0; i < this.ranges.length; i++) { const r = this.ranges[i]!; if (v >= r.min && v <= r.max) return r.sev; }
    }
    if (typeof v !== 'string' && typeof v !== 'number') return 0;
    const key = typeof v === 'string' ? v.toLowerCase() : String(v);
    const hit = this.words.get(key);
    if (hit !== undefined) return hit;
    if (typeof v === 'string' && this.ranges.length) {
      const n = Number(v);
      if (!Number.isNaN(n)) return this.lookup(n);
    }
    return 0;
  }

  process(e: UnifiedEvent): Verdict {
    const raw = getField(e, this.from);
    if (raw === undefined) return CONTINUE;
    const n = this.lookup(raw);
    const log = e.log!;
    log.severityText = typeof raw === 'string' ? raw : String(raw);
    if (n > 0) { log.severityNumber = n; e.severity = severityFromNumber(n); }
    return CONTINUE;
  }
}
