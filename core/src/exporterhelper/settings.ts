import { parseDuration } from '../config/duration';

/** JSON Schemas shared by every exporter, with the OpenTelemetry Collector's option names. */
export const RETRY_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  properties: {
    enabled: { type: 'boolean', default: true },
    initial_interval: { type: 'string', format: 'duration', default: '5s' },
    randomization_factor: { type: 'number', minimum: 0, maximum: 1, default: 0.5 },
    multiplier: { type: 'number', minimum: 1, default: 1.5 },
    max_interval: { type: 'string', format: 'duration', default: '30s' },
    max_elapsed_time: { type: 'string', format: 'duration', default: '300s', description: '0s retries forever' },
  },
  default: {},
};

export const QUEUE_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  properties: {
    enabled: { type: 'boolean', default: true },
    num_consumers: { type: 'integer', minimum: 1, default: 10 },
    queue_size: { type: 'integer', minimum: 1, default: 1000, description: 'capacity in batches' },
    /** When full: block the caller (back-pressure) or refuse with a retryable error. Never drop. */
    blocking: { type: 'boolean', default: false },
    /** The newer OpenTelemetry Collector name of `blocking`; either one set to true blocks. */
    block_on_overflow: { type: 'boolean', default: false },
    /** Id of a storage extension (file_storage) for a persistent queue. */
    storage: { type: 'string', 'x-extension-ref': true },
    /** Tapio addition: how long shutdown keeps delivering queued batches before it stops (persistent: the rest stays stored). */
    drain_timeout: { type: 'string', format: 'duration', default: '10s' },
  },
  default: {},
};

export const TIMEOUT_SCHEMA = { type: 'string', format: 'duration', default: '5s' };

export interface RetrySettings {
  enabled: boolean;
  initialIntervalMs: number;
  randomizationFactor: number;
  multiplier: number;
  maxIntervalMs: number;
  maxElapsedMs: number;
}

export interface QueueSettings {
  enabled: boolean;
  numConsumers: number;
  queueSize: number;
  blocking: boolean;
  storage?: string;
  drainTimeoutMs: number;
}

export interface RawRetry { enabled?: boolean; initial_interval?: string; randomization_factor?: number; multiplier?: number; max_interval?: string; max_elapsed_time?: string }
export interface RawQueue { enabled?: boolean; num_consumers?: number; queue_size?: number; blocking?: boolean; block_on_overflow?: boolean; storage?: string; drain_timeout?: string }

export function retrySettings(raw: RawRetry = {}): RetrySettings {
  return {
    enabled: raw.enabled ?? true,
    initialIntervalMs: parseDuration(raw.initial_interval ?? '5s'),
    randomizationFactor: raw.randomization_factor ?? 0.5,
    multiplier: raw.multiplier ?? 1.5,
    maxIntervalMs: parseDuration(raw.max_interval ?? '30s'),
    maxElapsedMs: parseDuration(raw.max_elapsed_time ?? '300s'),
  };
}

export function queueSettings(raw: RawQueue = {}): QueueSettings {
  return {
    enabled: raw.enabled ?? true,
    numConsumers: raw.num_consumers ?? 10,
    queueSize: raw.queue_size ?? 1000,
    blocking: (raw.blocking ?? false) || (raw.block_on_overflow ?? false),
    storage: raw.storage,
    drainTimeoutMs: parseDuration(raw.drain_timeout ?? '10s'),
  };
}
