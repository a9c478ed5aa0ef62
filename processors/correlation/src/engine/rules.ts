import * as fs from 'node:fs';
import * as path from 'node:path';
import { parse } from 'yaml';
import { parseDuration } from '@tapio/core';

export type Relation = 'same_entity' | 'peer' | 'caller' | 'node' | 'any';

export interface CausalRule {
  id: string;
  cause: string[];
  effect: string[];
  relation: Relation;
  maxLagMs: number;
  recommendation?: string;
}

export interface RawRule { id: string; cause: string | string[]; effect: string | string[]; relation?: Relation; max_lag?: string; recommendation?: string }

const RELATIONS: Relation[] = ['same_entity', 'peer', 'caller', 'node', 'any'];

export function compileRule(r: RawRule, where: string): CausalRule {
  if (!r || typeof r.id !== 'string') throw new Error(`${where}: a rule needs an id`);
  const list = (v: string | string[] | undefined, f: string): string[] => {
    const out = Array.isArray(v) ? v : typeof v === 'string' ? [v] : [];
    if (!out.length) throw new Error(`${where}: rule ${r.id} needs ${f}`);
    return out.map(String);
  };
  const relation = r.relation ?? 'any';
  if (!RELATIONS.includes(relation)) throw new Error(`${where}: rule ${r.id}: relation must be one of ${RELATIONS.join(', ')}`);
  return { id: r.id, cause: list(r.cause, 'cause'), effect: list(r.effect, 'effect'), relation, maxLagMs: parseDuration(r.max_lag ?? '5m'), recommendation: r.recommendation };
}

export function parseRuleFile(text: string, where: string): CausalRule[] {
  const doc = parse(text) as { rules?: RawRule[] } | null;
  if (!doc || !Array.isArray(doc.rules)) throw new Error(`${where}: expected a mapping with a "rules" list`);
  return doc.rules.map((r, i) => compileRule(r, `${where} rules[${i}]`));
}

export const DEFAULT_RULES_FILE = path.resolve(__dirname, '../../../src/rules/default-rules.yaml');

/** Shipped rules, then user files, then inline rules; a later rule with the same id replaces an earlier one. */
export function loadRules(opts: { useDefaults: boolean; files: string[]; inline: RawRule[] }): CausalRule[] {
  const byId = new Map<string, CausalRule>();
  const put = (rs: CausalRule[]): void => { for (const r of rs) byId.set(r.id, r); };
  if (opts.useDefaults) put(parseRuleFile(fs.readFileSync(DEFAULT_RULES_FILE, 'utf8'), DEFAULT_RULES_FILE));
  for (const f of opts.files) put(parseRuleFile(fs.readFileSync(f, 'utf8'), f));
  put(opts.inline.map((r, i) => compileRule(r, `rules.inline[${i}]`)));
  return [...byId.values()];
}
