import { parseDuration } from '../config/duration';

/** JSON Schemas shared by every exporter, with the OpenTelemetry Collector's option names. */
export const RETRY_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  properties: {
    enabled: { type: 'boolean', default: true },
    initial_interval: { type: 'string', format: 'duration', default: '5s' },
    randomization_factor: { type: 'number', minimum: 0, maximum: 1, default: 0.5 },
    /** As in the Collector, ≥ 0: below 1 the wait shrinks (never below min(initial_interval, 100ms), see retry.ts). */
    multiplier: { type: 'number', minimum: 0, default: 1.5 },
    max_interval: { type: 'string', format: 'duration', default: '30s' },
    max_elapsed_time: { type: 'string', format: 'duration', default: '300s', description: '0s retries forever' },
  },
  default: {},
};

export type SizerType = 'requests' | 'items' | 'bytes';

/** `sending_queue.batch` (Collector v0.123+): merge queued requests before they are sent. */
export const QUEUE_BATCH_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  properties: {
    flush_timeout: { type: 'string', format: 'duration', default: '200ms', description: 'send a batch below min_size this long after its first request arrived' },
    min_size: { type: 'integer', minimum: 0, default: 8192, description: 'send as soon as a batch reaches this size' },
    max_size: { type: 'integer', minimum: 0, default: 0, description: 'split larger batches (0: no limit); must be ≥ min_size' },
    /** Default: the queue's sizer when that is items or bytes, else items (the Collector has no `requests` batch sizer). */
    sizer: { enum: ['items', 'bytes'] },
  },
};

export const QUEUE_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  properties: {
    enabled: { type: 'boolean', default: true },
    num_consumers: { type: 'integer', minimum: 1, default: 10 },
    queue_size: { type: 'integer', minimum: 1, default: 1000, description: 'capacity, in units of `sizer`' },
    /** What queue_size counts: batches (requests), events (items) or bytes of the batch's tapio.v1 protobuf encoding. */
    sizer: { enum: ['requests', 'items', 'bytes'], default: 'requests' },
    /** When full: block the caller (back-pressure) or refuse with a retryable error. Never drop. */
    blocking: { type: 'boolean', default: false },
    /** The newer OpenTelemetry Collector name of `blocking`; either one set to true blocks. */
    block_on_overflow: { type: 'boolean', default: false },
    /** consume() resolves once the data was exported (rejects if that finally failed), not once it is queued. */
    wait_for_result: { type: 'boolean', default: false },
    /** Id of a storage extension (file_storage) for a persistent queue. */
    storage: { type: 'string', 'x-extension-ref': true },
    batch: QUEUE_BATCH_SCHEMA,
    /** Tapio addition: how long shutdown keeps delivering queued batches before it stops (persistent: the rest stays stored). */
    drain_timeout: { type: 'string', format: 'duration', default: '10s' },
  },
  default: {},
};

/**
 * The exporter-level `batcher` section of Collector v0.110–v0.129 (removed in v0.130), mapped onto
 * `sending_queue.batch` (see batcherAsQueueBatch). An exporter that wants to run such configs
 * unchanged adds `batcher: BATCHER_SCHEMA` to its schema and passes it as `batcher`.
 */
export const BATCHER_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  properties: {
    enabled: { type: 'boolean', default: false },
    flush_timeout: { type: 'string', format: 'duration', default: '200ms' },
    sizer: { enum: ['items', 'bytes'] },
    min_size: { type: 'integer', minimum: 0 },
    max_size: { type: 'integer', minimum: 0 },
    min_size_items: { type: 'integer', minimum: 0, description: 'older name of min_size with sizer items' },
    max_size_items: { type: 'integer', minimum: 0, description: 'older name of max_size with sizer items' },
  },
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

export interface BatchSettings {
  flushTimeoutMs: number;
  minSize: number;
  /** 0: no limit. */
  maxSize: number;
  sizer: 'items' | 'bytes';
}

export interface QueueSettings {
  enabled: boolean;
  numConsumers: number;
  queueSize: number;
  sizer: SizerType;
  blocking: boolean;
  waitForResult: boolean;
  storage?: string;
  batch?: BatchSettings;
  drainTimeoutMs: number;
}

export interface RawRetry { enabled?: boolean; initial_interval?: string; randomization_factor?: number; multiplier?: number; max_interval?: string; max_elapsed_time?: string }
export interface RawQueueBatch { flush_timeout?: string; min_size?: number; max_size?: number; sizer?: 'items' | 'bytes' }
export interface RawQueue {
  enabled?: boolean; num_consumers?: number; queue_size?: number; sizer?: SizerType; blocking?: boolean; block_on_overflow?: boolean;
  wait_for_result?: boolean; storage?: string; batch?: RawQueueBatch; drain_timeout?: string;
}
export interface RawBatcher {
  enabled?: boolean; flush_timeout?: string; sizer?: 'items' | 'bytes'; min_size?: number; max_size?: number; min_size_items?: number; max_size_items?: number;
}

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
  const sizer = raw.sizer ?? 'requests';
  return {
    enabled: raw.enabled ?? true,
    numConsumers: raw.num_consumers ?? 10,
    queueSize: raw.queue_size ?? 1000,
    sizer,
    blocking: (raw.blocking ?? false) || (raw.block_on_overflow ?? false),
    waitForResult: raw.wait_for_result ?? false,
    storage: raw.storage,
    batch: raw.batch ? batchSettings(raw.batch, sizer) : undefined,
    drainTimeoutMs: parseDuration(raw.drain_timeout ?? '10s'),
  };
}

function batchSettings(raw: RawQueueBatch, queueSizer: SizerType): BatchSettings {
  return {
    flushTimeoutMs: parseDuration(raw.flush_timeout ?? '200ms'),
    minSize: raw.min_size ?? 8192,
    maxSize: raw.max_size ?? 0,
    sizer: raw.sizer ?? (queueSizer === 'requests' ? 'items' : queueSizer),
  };
}

/** The pre-0.130 `batcher` section as a `sending_queue.batch` section; undefined when not enabled. */
export function batcherAsQueueBatch(raw: RawBatcher | undefined): RawQueueBatch | undefined {
  if (!raw?.enabled) return undefined;
  const sizer = raw.sizer ?? 'items';
  return {
    flush_timeout: raw.flush_timeout ?? '200ms',
    sizer,
    min_size: raw.min_size ?? (sizer === 'items' ? raw.min_size_items : undefined) ?? 8192,
    max_size: raw.max_size ?? (sizer === 'items' ? raw.max_size_items : undefined) ?? 0,
  };
}

/**
 * Rules the JSON Schema cannot express, as in the Collector's Validate(). An exporter's `validate`
 * hook can return these so `tapio validate` reports them; createSendingExporter throws on them.
 */
export function queueConfigIssues(raw: RawQueue | undefined, pathPrefix: (string | number)[] = ['sending_queue']): { path: (string | number)[]; message: string }[] {
  if (!raw || raw.enabled === false || !raw.batch) return [];
  const q = queueSettings(raw);
  const b = q.batch!;
  const out: { path: (string | number)[]; message: string }[] = [];
  if (b.flushTimeoutMs <= 0) out.push({ path: [...pathPrefix, 'batch', 'flush_timeout'], message: 'must be positive' });
  if (b.maxSize > 0 && b.maxSize < b.minSize) out.push({ path: [...pathPrefix, 'batch', 'max_size'], message: `must be greater than or equal to min_size (${b.minSize})` });
  if (b.sizer === q.sizer && b.minSize > q.queueSize) out.push({ path: [...pathPrefix, 'batch', 'min_size'], message: `must be less than or equal to queue_size (${q.queueSize})` });
  return out;
}
