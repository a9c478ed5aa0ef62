import * as path from 'node:path';
import { compileSources, builtinRuleFiles, readRuleFile, registeredRulePacks, RuleLoadError, type RuleSource } from './rules/load';
import type { CompiledRule, Variables } from './rules/compile';
import { DEFAULT_VARIABLES, type SemanticConfig } from './config';

export interface RuleLibrary { rules: CompiledRule[]; vars: Variables }

/**
 * Everything the processor matches with, in load order: shipped rules, plugin packs, rules_files,
 * inline rules; then disabled ones removed. Throws RuleLoadError naming every file, rule and reason.
 */
export function loadLibrary(cfg: Partial<SemanticConfig>, baseDir = process.cwd()): RuleLibrary {
  const problems: string[] = [];
  const sources: RuleSource[] = [];
  if (cfg.include_builtin !== false) for (const f of builtinRuleFiles()) { const s = readRuleFile(f, problems); if (s) sources.push(s); }
  sources.push(...registeredRulePacks());
  for (const f of cfg.rules_files ?? []) { const s = readRuleFile(path.resolve(baseDir, f), problems); if (s) sources.push(s); }
  if (cfg.rules?.length) sources.push({ origin: 'inline rules', rules: cfg.rules });
  const global = { ...DEFAULT_VARIABLES, ...(cfg.variables ?? {}) };
  const byService = new Map(Object.entries(cfg.service_variables ?? {}));
  const known = new Set(Object.keys(global));
  for (const o of byService.values()) for (const k of Object.keys(o)) known.add(k);
  let rules = compileSources(sources, known, problems);
  if (problems.length) throw new RuleLoadError(problems);
  const disabled = new Set(cfg.disabled_rules ?? []);
  if (disabled.size) rules = rules.filter((r) => !disabled.has(r.id));
  return { rules, vars: { global, byService } };
}
