import { defineProcessor, parseDuration } from '@tapio/core';
import { computeLimits, configSchema, createDefaultConfig, type Limits, type MemoryLimiterConfig } from './config';
import { cgroupLimit, heapReader, rssReader, type MemoryReader } from './memory';
import { MemoryLimiter, type LimiterSettings, type LimiterState } from './processor';

export { MemoryLimiter, cgroupLimit, computeLimits, configSchema, createDefaultConfig, heapReader, rssReader };
export type { Limits, LimiterSettings, LimiterState, MemoryLimiterConfig, MemoryReader };

export default defineProcessor<MemoryLimiterConfig>({
  type: 'memory_limiter',
  stability: { traces: 'beta', metrics: 'beta', logs: 'beta', events: 'beta' },
  configSchema,
  createDefaultConfig,
  create(ctx, config, next) {
    const reader = config.memory_source === 'heap' ? heapReader : rssReader;
    const checkIntervalMs = parseDuration(config.check_interval);
    if (checkIntervalMs <= 0) throw new Error('check_interval must be greater than zero');
    return new MemoryLimiter(ctx, {
      checkIntervalMs, limits: computeLimits(config, reader.total()), reader,
      minGcIntervalSoftMs: parseDuration(config.min_gc_interval_when_soft_limited),
      minGcIntervalHardMs: parseDuration(config.min_gc_interval_when_hard_limited),
    }, next);
  },
});
