import * as path from 'node:path';
import { defineProcessor } from '@tapio/core';
import { rulesCliCommand } from './cli';
import { loadLibrary } from './library';
import { RuleLoadError } from './rules/load';
import { configSchema, createDefaultConfig, type SemanticConfig } from './config';
import { SemanticProcessor } from './processor';

export type { SemanticConfig } from './config';
export type { ConditionSpec, RuleFile, RuleSpec } from './rules/types';
export type { CompiledRule } from './rules/compile';
export { BUILTIN_RULES_DIR, registerRulePack, RuleLoadError } from './rules/load';
export { loadLibrary, type RuleLibrary } from './library';
export { RuleEngine } from './engine';
export { rulesCommand } from './cli';
export { SemanticProcessor } from './processor';

export default defineProcessor<SemanticConfig>({
  type: 'semantic',
  stability: { traces: 'beta', metrics: 'beta', logs: 'beta', events: 'beta' },
  configSchema,
  createDefaultConfig,
  commands: [rulesCliCommand],
  validate: (config) => checkRules(config),
  create: (ctx, config, next) => new SemanticProcessor(ctx, config, next),
});

/**
 * Loads and compiles every rule the config names, for `tapio validate` (and before start/reload):
 * one problem per broken rule, with the file, line, rule id and reason, under the config key
 * that brought the file in.
 */
export function checkRules(config: SemanticConfig): { path?: (string | number)[]; message: string }[] {
  try {
    loadLibrary(config);
    return [];
  } catch (err) {
    if (!(err instanceof RuleLoadError)) return [{ message: (err as Error).message }];
    const files = (config.rules_files ?? []).map((f) => path.resolve(f));
    return err.problems.map((message) => {
      const i = files.findIndex((f) => message.startsWith(f + ':'));
      if (i >= 0) return { path: ['rules_files', i], message };
      if (message.startsWith('inline rules')) return { path: ['rules'], message };
      return { message };
    });
  }
}
