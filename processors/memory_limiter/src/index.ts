import { defineProcessor, parseDuration, type ComponentContext } from '@tapio/core';
import { computeLimits, configSchema, createDefaultConfig, type Limits, type MemoryLimiterConfig } from './config';
import { cgroupLimit, heapReader, rssReader, type MemoryReader } from './memory';
import { LimiterCore, MemoryLimiter, type LimiterSettings, type LimiterState } from './processor';

export { LimiterCore, MemoryLimiter, cgroupLimit, computeLimits, configSchema, createDefaultConfig, heapReader, rssReader };
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
    const settings: LimiterSettings = {
      checkIntervalMs, limits: computeLimits(config, reader.total()), reader,
      minGcIntervalSoftMs: parseDuration(config.min_gc_interval_when_soft_limited),
      minGcIntervalHardMs: parseDuration(config.min_gc_interval_when_hard_limited),
    };
    return new MemoryLimiter(ctx, settings, next, sharedCore(ctx, JSON.stringify(config), settings));
  },
});

/**
 * One core per component id and config, shared by the pipelines that use it (the Collector's
 * factory does the same). The processors of all pipelines are created before any starts, so a
 * core is shared until every pipeline that started it shut down; then the next collector built
 * gets a fresh one.
 */
const cores = new Map<string, LimiterCore>();

function sharedCore(ctx: ComponentContext, configKey: string, settings: LimiterSettings): LimiterCore {
  const key = `${ctx.id}\u0000${configKey}`;
  const existing = cores.get(key);
  if (existing && !existing.retired) return existing;
  const core = new LimiterCore(ctx, settings);
  cores.set(key, core);
  return core;
}
