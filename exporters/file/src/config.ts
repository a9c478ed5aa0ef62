import { QUEUE_SCHEMA, RETRY_SCHEMA, type JsonSchema, type RawQueue, type RawRetry } from '@tapio/core';

export interface RotationConfig {
  /** Rotate when the file would grow beyond this many megabytes (MiB). */
  max_megabytes: number;
  /** Delete rotated files older than this many days (0: keep by age forever). */
  max_days: number;
  /** Keep at most this many rotated files (0: keep all). */
  max_backups: number;
  /** Name rotated files with local time instead of UTC. */
  localtime: boolean;
}

export interface FileExporterConfig {
  path: string;
  /** `json`: one UnifiedEvent per line. `otlp_json`: one OTLP/JSON export request per signal per batch per line. */
  format: 'json' | 'otlp_json';
  /** Rotation is off unless this section is present. */
  rotation?: RotationConfig;
  /** `gzip`: the file is a sequence of complete gzip members (one per flush); `zcat` reads it. */
  compression: 'none' | 'gzip';
  /** How often buffered lines are written; 0s: write every batch at once. */
  flush_interval: string;
  /**
   * A storage extension (file_storage) for exactly-once output: a delivery ledger skips replays
   * of events already written (positional ids, e.g. from filelog) and cuts uncommitted bytes
   * after a crash. Each batch is then written and committed before it is acknowledged
   * (flush_interval does not apply).
   */
  storage?: string;
  sending_queue?: RawQueue;
  retry_on_failure?: RawRetry;
}

export const configSchema: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    path: { type: 'string', minLength: 1, default: 'tapio-events.jsonl' },
    format: { enum: ['json', 'otlp_json'], default: 'json' },
    rotation: {
      type: 'object',
      additionalProperties: false,
      properties: {
        max_megabytes: { type: 'integer', minimum: 1, default: 100 },
        max_days: { type: 'integer', minimum: 0, default: 0 },
        max_backups: { type: 'integer', minimum: 0, default: 100 },
        localtime: { type: 'boolean', default: false },
      },
    },
    compression: { enum: ['none', 'gzip'], default: 'none' },
    flush_interval: { type: 'string', format: 'duration', default: '1s' },
    storage: { type: 'string', minLength: 1, 'x-extension-ref': true },
    sending_queue: { ...QUEUE_SCHEMA, properties: { ...(QUEUE_SCHEMA.properties as object), enabled: { type: 'boolean', default: false } } },
    retry_on_failure: RETRY_SCHEMA,
  },
};

export function createDefaultConfig(): FileExporterConfig {
  return { path: 'tapio-events.jsonl', format: 'json', compression: 'none', flush_interval: '1s' };
}
