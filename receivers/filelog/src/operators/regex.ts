import type { AttributeValue } from '@tapio/core';
import { Options } from './options';
import { Parser } from './parser';
import type { OperatorEnv } from './types';

/** Go/RE2 `(?P<name>…)` named groups → JavaScript `(?<name>…)`, so OTel configs carry over. */
export function toJsRegex(re: string): RegExp {
  return new RegExp(re.replace(/\(\?P</g, '(?<'));
}

/** `regex_parser`: the named groups of `regex` become fields of `parse_to`. */
export class RegexParser extends Parser {
  private readonly re: RegExp;
  private readonly names: string[];

  constructor(id: string, o: Options, env: OperatorEnv) {
    super(id, o, env);
    const src = o.str('regex');
    if (!src) throw new Error(`${o.where}.regex is required`);
    try { this.re = toJsRegex(src); } catch (err) { throw new Error(`${o.where}.regex: ${(err as Error).message}`); }
    this.names = [...src.matchAll(/\(\?P?<([A-Za-z_][A-Za-z0-9_]*)>/g)].map((m) => m[1]!);
    if (this.names.length === 0) throw new Error(`${o.where}.regex needs at least one named group like (?P<level>\\w+)`);
  }

  protected parse(value: AttributeValue): Record<string, AttributeValue> | string {
    if (typeof value !== 'string') return `${this.from.text} is not a string`;
    const m = this.re.exec(value);
    if (!m || !m.groups) return 'regex does not match';
    const out: Record<string, AttributeValue> = {};
    for (let i = 0; i < this.names.length; i++) {
      const k = this.names[i]!;
      const v = m.groups[k];
      if (v !== undefined) out[k] = v;
    }
    return out;
  }
}
