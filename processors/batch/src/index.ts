import { defineProcessor, parseDuration } from '@tapio/core';
import { checkConfig, configSchema, createDefaultConfig, type BatchConfig } from './config';
import { BatchProcessor, type BatchProcessorSettings } from './processor';

export { BatchProcessor, configSchema, createDefaultConfig };
export type { BatchConfig, BatchProcessorSettings };

export default defineProcessor<BatchConfig>({
  type: 'batch',
  stability: { traces: 'beta', metrics: 'beta', logs: 'beta', events: 'beta' },
  configSchema,
  createDefaultConfig,
  create(ctx, config, next) {
    checkConfig(config);
    return new BatchProcessor(ctx, {
      sendBatchSize: config.send_batch_size,
      timeoutMs: parseDuration(config.timeout),
      maxSize: config.send_batch_max_size,
      metadataKeys: (config.metadata_keys ?? []).map((k) => k.toLowerCase()),
      metadataCardinalityLimit: config.metadata_cardinality_limit,
      waitForResult: config.wait_for_result,
    }, next);
  },
});
