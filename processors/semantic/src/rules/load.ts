import * as fs from 'node:fs';
import * as path from 'node:path';
import { compileSchema, explainAjvErrors } from '@tapio/core';
import { LineCounter, parseDocument, type Node } from 'yaml';
import { compileRule, type CompiledRule } from './compile';
import { ruleFileSchema, type RuleSpec } from './types';

/** Where the rules shipped with this package live (`rules/*.yaml` next to `dist/`). */
export const BUILTIN_RULES_DIR = path.resolve(__dirname, '..', '..', '..', 'rules');

/** A set of rules from one place: a file, inline config, or a plugin. */
export interface RuleSource {
  /** Shown in errors: a file path, `processors.semantic.rules`, `plugin my-pack`. */
  origin: string;
  rules: unknown[];
  /** Line of each rule in its file, when known. */
  lines?: (number | undefined)[];
}

export class RuleLoadError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid semantic rules (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n` + problems.map((p) => '  ' + p).join('\n'));
    this.name = 'RuleLoadError';
  }
}

/** Parses a rule file; problems (unreadable, not YAML, wrong shape) are pushed, never thrown. */
export function readRuleFile(file: string, problems: string[]): RuleSource | undefined {
  let text: string;
  try { text = fs.readFileSync(file, 'utf8'); } catch (err) { problems.push(`${file}: cannot read: ${(err as Error).message}`); return undefined; }
  return parseRuleText(text, file, problems);
}

export function parseRuleText(text: string, origin: string, problems: string[]): RuleSource | undefined {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false });
  if (doc.errors.length) {
    for (const e of doc.errors) {
      const at = lc.linePos(e.pos[0]);
      problems.push(`${origin}${at ? `:${at.line}:${at.col}` : ''}: not valid YAML: ${e.message.split('\n')[0]}`);
    }
    return undefined;
  }
  const data = doc.toJS() as unknown;
  const fileValidate = compileSchema(ruleFileSchema);
  if (!data || typeof data !== 'object' || !Array.isArray((data as { rules?: unknown }).rules)) {
    problems.push(`${origin}: must be a mapping with a "rules:" list`);
    return undefined;
  }
  const rules = (data as { rules: unknown[] }).rules;
  const lines = rules.map((_, i) => {
    const node = doc.getIn(['rules', i], true) as Node | undefined;
    return node?.range ? lc.linePos(node.range[0]).line : undefined;
  });
  if (!fileValidate(data)) {
    // Unknown top-level keys are reported here; rule-level problems are reported per rule below.
    for (const e of explainAjvErrors(fileValidate.errors, ruleFileSchema)) {
      if (e.parts[0] !== 'rules') problems.push(`${origin}: ${e.parts.join('.') || '<root>'}: ${e.message}`);
    }
  }
  return { origin, rules, lines };
}

function ruleLabel(src: RuleSource, i: number): string {
  const r = src.rules[i] as { id?: unknown } | undefined;
  const line = src.lines?.[i];
  const id = r && typeof r.id === 'string' ? `rule "${r.id}"` : `rule #${i + 1}`;
  return `${src.origin}${line ? `:${line}` : ''}: ${id} (rules[${i}])`;
}

/**
 * Validates (JSON Schema) and compiles every rule of every source, in order. A later rule with
 * the same id replaces an earlier one (so config can override a shipped rule). Every problem is
 * collected with its file, line and rule id; the caller decides whether to throw.
 */
export function compileSources(sources: RuleSource[], knownVars: Set<string>, problems: string[]): CompiledRule[] {
  const validateFile = compileSchema(ruleFileSchema);
  const byId = new Map<string, CompiledRule>();
  let order = 0;
  for (const src of sources) {
    for (let i = 0; i < src.rules.length; i++) {
      const raw = src.rules[i];
      if (!validateFile({ rules: [raw] })) {
        for (const e of explainAjvErrors(validateFile.errors, ruleFileSchema)) {
          problems.push(`${ruleLabel(src, i)}: ${e.parts.slice(2).join('.') || '<rule>'}: ${e.message}`);
        }
        continue;
      }
      try {
        const rule = compileRule(raw as RuleSpec, src.origin, order++, knownVars);
        byId.delete(rule.id);
        byId.set(rule.id, rule);
      } catch (err) {
        problems.push(`${ruleLabel(src, i)}: ${(err as Error).message}`);
      }
    }
  }
  return [...byId.values()];
}

/** The rule files shipped in this package, sorted by name. */
export function builtinRuleFiles(): string[] {
  try {
    return fs.readdirSync(BUILTIN_RULES_DIR).filter((f) => /\.ya?ml$/.test(f)).sort().map((f) => path.join(BUILTIN_RULES_DIR, f));
  } catch {
    return [];
  }
}

const pluginPacks: RuleSource[] = [];

/**
 * How a plugin adds rules: call this when its module loads, with a file path or rule objects.
 * Plugin rules load after the shipped ones and before the config's own.
 */
export function registerRulePack(name: string, pack: { file: string } | { rules: unknown[] }): void {
  if ('file' in pack) {
    const problems: string[] = [];
    const src = readRuleFile(pack.file, problems);
    if (!src) throw new RuleLoadError(problems.map((p) => `plugin ${name}: ${p}`));
    pluginPacks.push({ ...src, origin: `plugin ${name}: ${src.origin}` });
  } else {
    pluginPacks.push({ origin: `plugin ${name}`, rules: pack.rules });
  }
}

export function registeredRulePacks(): readonly RuleSource[] {
  return pluginPacks;
}
