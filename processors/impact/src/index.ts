import { defineProcessor } from '@tapio/core';
import { configSchema, createDefaultConfig, type ImpactConfig } from './config';
import { ImpactProcessor } from './processor';

export type { BurnWindow, ImpactConfig, ServiceEntry } from './config';
export { ImpactModel, isFailure, type ImpactDetails } from './model';
export { CallGraph } from './callgraph';
export { ImpactProcessor } from './processor';

export default defineProcessor<ImpactConfig>({
  type: 'impact',
  stability: { traces: 'beta', metrics: 'beta', logs: 'beta', events: 'beta' },
  configSchema,
  createDefaultConfig,
  create: (ctx, config, next) => new ImpactProcessor(ctx, config, next),
});
