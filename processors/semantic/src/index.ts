import { defineProcessor } from '@tapio/core';
import { rulesCliCommand } from './cli';
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
  create: (ctx, config, next) => new SemanticProcessor(ctx, config, next),
});
