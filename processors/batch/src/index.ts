import { defineProcessor, parseDuration } from '@tapio/core';
import { checkConfig, configSchema, createDefaultConfig, type BatchConfig } from './config';
import { Batcher, type BatcherSettings } from './processor';

export { Batcher, configSchema, createDefaultConfig };
export type { BatchConfig, BatcherSettings };

export default defineProcessor<BatchConfig>({
  type: 'batch',
  stability: { traces: 'beta', metrics: 'beta', logs: 'beta', events: 'beta' },
  configSchema,
  createDefaultConfig,
  create(ctx, config, next) {
    checkConfig(config);
    return new Batcher(ctx, {
      sendBatchSize: config.send_batch_size,
      timeoutMs: parseDuration(config.timeout),
      maxSize: config.send_batch_max_size,
    }, next);
  },
});
