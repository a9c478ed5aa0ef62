import { defineProcessor } from '@tapio/core';
import { configSchema, createDefaultConfig, type UnifiedEventConfig } from './config';
import { createUnifiedEventProcessor } from './processor';

export type { HostMapping, StaticEntity, UnifiedEventConfig } from './config';
export { canonicalSeverity, fromGrpcStatus, fromHttpStatus, fromSeverityNumber, fromSeverityText } from './severity';
export { parseCgroupPath, type CgroupIdentity } from './cgroup';
export { traceFromFields, traceFromText } from './tracecontext';
export { dedupKey } from './dedup';
export { UnifiedEventProcessor } from './processor';

export default defineProcessor<UnifiedEventConfig>({
  type: 'unifiedevent',
  stability: { traces: 'beta', metrics: 'beta', logs: 'beta', events: 'beta' },
  configSchema,
  createDefaultConfig,
  create: (ctx, config, next) => createUnifiedEventProcessor(ctx, config, next),
});
