import { parseDuration, type JsonSchema } from '@tapio/core';
import type { EngineSettings } from './engine/engine';
import { loadRules, type RawRule } from './engine/rules';

export interface CorrelationConfig {
  window: string;
  allowed_lateness: string;
  max_clock_skew: string;
  detection: {
    z_threshold: number;
    tail_quantile: number;
    min_baseline_samples: number;
    baseline_warmup: string;
    min_window_samples: number;
    min_hits: number;
    baseline_samples: number;
    relative_margin: number;
  };
  incident: { open_after_windows: number; recovery_windows: number; max_causes: number; case_id_attribute: string };
  limits: { max_spans: number; max_features: number; max_discrete: number; max_entities: number };
  rules: { use_defaults: boolean; files: string[]; inline: RawRule[] };
  early_warning: { enabled: boolean; horizon: string; min_points: number; max_points: number; metric_pattern: string };
  /** Forward the input events after correlation (false: emit only correlation events). */
  pass_through: boolean;
}

const duration = (d: string, description: string): JsonSchema => ({ type: 'string', format: 'duration', default: d, description });
const int = (d: number, min: number, description: string): JsonSchema => ({ type: 'integer', minimum: min, default: d, description });

export const configSchema: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    window: duration('10s', 'Detection window (event time)'),
    allowed_lateness: duration('5s', 'Watermark = newest event time minus this; later events are counted as late'),
    max_clock_skew: duration('5m', 'Event times further than this ahead of their observed time are clamped'),
    detection: {
      type: 'object', additionalProperties: false, default: {},
      properties: {
        z_threshold: { type: 'number', minimum: 1, default: 4, description: 'Significance needed for an anomaly' },
        tail_quantile: { type: 'number', minimum: 0.5, maximum: 0.9999, default: 0.99, description: 'Baseline tail a sample must pass to count' },
        min_baseline_samples: int(8, 3, 'Samples a feature needs before it is judged'),
        baseline_warmup: duration('20s', 'Event time a feature is learned over before it is judged'),
        min_window_samples: int(3, 1, 'Samples a window needs before it is judged'),
        min_hits: int(2, 1, 'Samples beyond the tail needed for an anomaly'),
        baseline_samples: int(512, 16, 'Samples kept per feature baseline'),
        relative_margin: { type: 'number', minimum: 0, default: 0.05, description: 'Relative margin beyond a tail before a sample counts' },
      },
    },
    incident: {
      type: 'object', additionalProperties: false, default: {},
      properties: {
        open_after_windows: int(2, 1, 'Consecutive anomalous windows before anomalies alone open an incident'),
        recovery_windows: int(6, 1, 'Consecutive clean windows before an incident resolves'),
        max_causes: int(5, 1, 'Ranked causes kept per incident'),
        case_id_attribute: { type: 'string', default: 'tapio.case.id', description: 'Resource/event attribute copied into incident.caseId' },
      },
    },
    limits: {
      type: 'object', additionalProperties: false, default: {},
      properties: {
        max_spans: int(200_000, 100, 'Spans held in the window'),
        max_features: int(50_000, 10, 'Feature baselines (service × operation × signal)'),
        max_discrete: int(10_000, 10, 'Discrete failure events held per incident'),
        max_entities: int(100_000, 10, 'Learned address/container/node entries'),
      },
    },
    rules: {
      type: 'object', additionalProperties: false, default: {},
      properties: {
        use_defaults: { type: 'boolean', default: true, description: 'Load the shipped causal rule library' },
        files: { type: 'array', items: { type: 'string' }, default: [], description: 'Extra YAML rule files' },
        inline: {
          type: 'array', default: [],
          items: {
            type: 'object', additionalProperties: false, required: ['id', 'cause', 'effect'],
            properties: {
              id: { type: 'string' },
              cause: { anyOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }] },
              effect: { anyOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }] },
              relation: { enum: ['same_entity', 'peer', 'caller', 'node', 'any'] },
              max_lag: { type: 'string', format: 'duration' },
              recommendation: { type: 'string' },
            },
          },
        },
      },
    },
    early_warning: {
      type: 'object', additionalProperties: false, default: {},
      properties: {
        enabled: { type: 'boolean', default: true },
        horizon: duration('30m', 'Warn when a memory/disk series is projected to hit its limit within this time'),
        min_points: int(5, 3, 'Points needed before a trend is trusted'),
        max_points: int(30, 5, 'Points kept per series'),
        metric_pattern: { type: 'string', default: '(memory|disk|filesystem).*(utilization|usage)', description: 'Metric names watched (regular expression)' },
      },
    },
    pass_through: { type: 'boolean', default: true, description: 'Forward the input events; false emits only correlation events' },
  },
};

export function createDefaultConfig(): CorrelationConfig {
  return {
    window: '10s', allowed_lateness: '5s', max_clock_skew: '5m',
    detection: { z_threshold: 4, tail_quantile: 0.99, min_baseline_samples: 8, baseline_warmup: '20s', min_window_samples: 3, min_hits: 2, baseline_samples: 512, relative_margin: 0.05 },
    incident: { open_after_windows: 2, recovery_windows: 6, max_causes: 5, case_id_attribute: 'tapio.case.id' },
    limits: { max_spans: 200_000, max_features: 50_000, max_discrete: 10_000, max_entities: 100_000 },
    rules: { use_defaults: true, files: [], inline: [] },
    early_warning: { enabled: true, horizon: '30m', min_points: 5, max_points: 30, metric_pattern: '(memory|disk|filesystem).*(utilization|usage)' },
    pass_through: true,
  };
}

/** Validated config → engine settings (durations parsed, rules loaded). Throws with a clear message on bad rule files. */
export function engineSettings(c: CorrelationConfig): EngineSettings {
  const d = c.detection;
  return {
    windowMs: parseDuration(c.window), allowedLatenessMs: parseDuration(c.allowed_lateness), maxClockSkewMs: parseDuration(c.max_clock_skew),
    detection: {
      baselineCapacity: d.baseline_samples, minBaselineSamples: d.min_baseline_samples, minBaselineWindows: Math.max(1, Math.ceil(parseDuration(d.baseline_warmup) / parseDuration(c.window))), minWindowSamples: d.min_window_samples,
      minHits: d.min_hits, tailQuantile: d.tail_quantile, zThreshold: d.z_threshold, relativeMargin: d.relative_margin,
    },
    openAfterWindows: c.incident.open_after_windows, recoveryWindows: c.incident.recovery_windows, maxCauses: c.incident.max_causes,
    caseIdAttribute: c.incident.case_id_attribute,
    maxSpans: c.limits.max_spans, maxFeatures: c.limits.max_features, maxDiscrete: c.limits.max_discrete, maxEntities: c.limits.max_entities,
    rules: loadRules({ useDefaults: c.rules.use_defaults, files: c.rules.files, inline: c.rules.inline }),
    earlyWarning: {
      enabled: c.early_warning.enabled, horizonMs: parseDuration(c.early_warning.horizon), minPoints: c.early_warning.min_points,
      maxPoints: c.early_warning.max_points, metricPattern: new RegExp(c.early_warning.metric_pattern, 'i'),
    },
    source: 'correlation',
  };
}
