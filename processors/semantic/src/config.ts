import type { JsonSchema } from '@tapio/core';
import { ruleSchema, type RuleSpec } from './rules/types';

export interface SemanticConfig {
  /** Load the rules shipped in this package (rules/*.yaml). */
  include_builtin: boolean;
  /** Extra rule files, loaded after the shipped ones and plugin packs; a rule with an existing id replaces it. */
  rules_files: string[];
  /** Rules written inline in the config, loaded last. */
  rules: RuleSpec[];
  /** Rule ids to switch off. */
  disabled_rules: string[];
  /** Re-tag events that already carry `semantic` (from a receiver or an earlier processor). */
  overwrite: boolean;
  /** Numbers rules compare against as `$name`. */
  variables: Record<string, number>;
  /** Per service.name overrides of `variables` (e.g. a tighter latency SLO for payment). */
  service_variables: Record<string, Record<string, number>>;
  /** Distinct keys kept for rate rules (retransmit storms …); the oldest is forgotten when full. */
  max_rate_keys: number;
}

export const DEFAULT_VARIABLES: Record<string, number> = {
  latency_slo_ms: 1000,
  cpu_throttling_ratio: 0.25,
  cpu_throttling_percent: 25,
};

export const configSchema: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    include_builtin: { type: 'boolean', default: true },
    rules_files: { type: 'array', items: { type: 'string', minLength: 1 }, default: [] },
    rules: { type: 'array', items: ruleSchema, default: [] },
    disabled_rules: { type: 'array', items: { type: 'string' }, default: [] },
    overwrite: { type: 'boolean', default: false },
    variables: { type: 'object', additionalProperties: { type: 'number' }, propertyNames: { pattern: '^[a-z_][a-z0-9_]*$' }, default: {} },
    service_variables: { type: 'object', additionalProperties: { type: 'object', additionalProperties: { type: 'number' } }, default: {} },
    max_rate_keys: { type: 'integer', minimum: 1, default: 10000 },
  },
};

export function createDefaultConfig(): SemanticConfig {
  return {
    include_builtin: true, rules_files: [], rules: [], disabled_rules: [], overwrite: false,
    variables: { ...DEFAULT_VARIABLES }, service_variables: {}, max_rate_keys: 10000,
  };
}
