import { defineProcessor } from '@tapio/core';
import { configSchema, createDefaultConfig, engineSettings, type CorrelationConfig } from './config';
import { createCorrelationProcessor, CorrelationProcessor } from './processor';
import { replayCommand } from './replay/command';

const factory = defineProcessor<CorrelationConfig>({
  type: 'correlation',
  stability: { traces: 'alpha', logs: 'alpha', metrics: 'alpha', events: 'alpha' },
  configSchema,
  createDefaultConfig,
  commands: [replayCommand],
  create: (ctx, config, next) => createCorrelationProcessor(ctx, config, next),
});

export default factory;
export { factory as correlationFactory, CorrelationProcessor, configSchema, createDefaultConfig, engineSettings, type CorrelationConfig };
export { CorrelationEngine, type EngineSettings } from './engine/engine';
export { rankCauses, type RankedCause } from './engine/ranking';
export { loadRules, parseRuleFile, DEFAULT_RULES_FILE, type CausalRule } from './engine/rules';
export { decodeLogs, decodeMetrics, decodeRequest, decodeTraces, type OtlpSignal } from './otlp/decode';
export { readReplayRequests, type ReplayRequest } from './replay/reader';
