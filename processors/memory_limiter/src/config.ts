import type { JsonSchema } from '@tapio/core';

const MIB = 1024 * 1024;

/** Option names as in the OpenTelemetry Collector's memory_limiter processor. */
export interface MemoryLimiterConfig {
  /** How often memory use is measured. */
  check_interval: string;
  /** Hard limit in MiB (0: use limit_percentage); takes precedence over limit_percentage. */
  limit_mib: number;
  /** Headroom below the hard limit; the soft limit is limit − spike. 0: 20 % of the limit. */
  spike_limit_mib: number;
  /** Hard limit as a percentage of the total (cgroup/physical memory, or the V8 heap limit). */
  limit_percentage: number;
  spike_limit_percentage: number;
  /** Above the soft limit, force a GC at most this often (needs node --expose-gc). */
  min_gc_interval_when_soft_limited: string;
  /** Above the hard limit, force a GC at most this often; 0s: at every check (needs node --expose-gc). */
  min_gc_interval_when_hard_limited: string;
  /** Tapio addition: measure the process RSS (default) or the V8 heap. */
  memory_source: 'rss' | 'heap';
}

export const configSchema: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    check_interval: { type: 'string', format: 'duration', default: '1s' },
    limit_mib: { type: 'integer', minimum: 0, default: 0 },
    spike_limit_mib: { type: 'integer', minimum: 0, default: 0 },
    limit_percentage: { type: 'integer', minimum: 0, maximum: 100, default: 0 },
    spike_limit_percentage: { type: 'integer', minimum: 0, maximum: 100, default: 0 },
    min_gc_interval_when_soft_limited: {
      type: 'string', format: 'duration', default: '10s',
      description: 'above the soft limit, force a garbage collection when the last one is longer ago than this. Only when node runs with --expose-gc (global.gc); otherwise no GC is forced',
    },
    min_gc_interval_when_hard_limited: {
      type: 'string', format: 'duration', default: '0s',
      description: 'as min_gc_interval_when_soft_limited, above the hard limit (0s: at every check)',
    },
    memory_source: { enum: ['rss', 'heap'], default: 'rss' },
  },
};

export function createDefaultConfig(): MemoryLimiterConfig {
  return { check_interval: '1s', limit_mib: 0, spike_limit_mib: 0, limit_percentage: 80, spike_limit_percentage: 0,
    min_gc_interval_when_soft_limited: '10s', min_gc_interval_when_hard_limited: '0s', memory_source: 'rss' };
}

export interface Limits { hardBytes: number; softBytes: number }

/** Turns the config into byte limits; throws naming the keys when they make no sense. */
export function computeLimits(c: MemoryLimiterConfig, totalBytes: number): Limits {
  // As in the Collector, limit_mib wins over limit_percentage (so a config giving only MiB works with our default 80 %).
  if (c.limit_mib > 0) {
    const spike = c.spike_limit_mib > 0 ? c.spike_limit_mib : Math.floor(c.limit_mib / 5);
    if (spike >= c.limit_mib) throw new Error(`spike_limit_mib (${spike}) must be smaller than limit_mib (${c.limit_mib})`);
    return { hardBytes: c.limit_mib * MIB, softBytes: (c.limit_mib - spike) * MIB };
  }
  if (c.limit_percentage > 0) {
    const spike = c.spike_limit_percentage > 0 ? c.spike_limit_percentage : c.limit_percentage / 5;
    if (spike >= c.limit_percentage) throw new Error(`spike_limit_percentage (${spike}) must be smaller than limit_percentage (${c.limit_percentage})`);
    return { hardBytes: Math.floor((totalBytes * c.limit_percentage) / 100), softBytes: Math.floor((totalBytes * (c.limit_percentage - spike)) / 100) };
  }
  throw new Error('limit_mib or limit_percentage must be greater than zero');
}
