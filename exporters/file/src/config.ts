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

export interface GroupByConfig {
  enabled: boolean;
  /** The resource attribute whose value replaces the `*` in `path`. */
  resource_attribute: string;
  /** Files kept open at once; the least recently written one is closed beyond it. */
  max_open_files: number;
}

export interface FileExporterConfig {
  path: string;
  /**
   * `json`: one UnifiedEvent per line (Tapio's own, unlike the Collector's `json`). `otlp_json`:
   * one OTLP/JSON export request per signal per batch per line (the Collector's `json`).
   * `proto`: length-prefixed OTLP protobuf export requests (the Collector's `proto`).
   */
  format: 'json' | 'otlp_json' | 'proto';
  /** Rotation is off unless this section is present. */
  rotation?: RotationConfig;
  /**
   * `gzip`: the file is a sequence of complete gzip members (one per flush); `zcat` reads it.
   * `zstd`: as the Collector, each message (export request; a batch for `json`) is one zstd
   * frame after its 4-byte big-endian length.
   */
  compression: 'none' | 'gzip' | 'zstd';
  /** How often buffered lines are written; 0s: write every batch at once. */
  flush_interval: string;
  /** Continue an existing file. Unset: false (the file starts empty), except with rotation or storage, which always continue it. */
  append?: boolean;
  group_by?: GroupByConfig;
  /** The Collector's encoding extension id: there are no encoding extensions in Tapio, so refused. */
  encoding?: string;
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
    path: { type: 'string', minLength: 1, default: 'tapio-events.jsonl', description: 'with group_by: must contain exactly one *, replaced by the resource attribute value' },
    format: {
      enum: ['json', 'otlp_json', 'proto'], default: 'json',
      description: "json: one Tapio UnifiedEvent per line (NOT the Collector's json, which is OTLP/JSON: use otlp_json for that); "
        + 'otlp_json: one OTLP/JSON export request per signal and batch per line; proto: 4-byte big-endian length + OTLP protobuf export request, as the Collector',
    },
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
    compression: {
      enum: ['none', 'gzip', 'zstd'], default: 'none',
      description: "gzip: the file is a sequence of gzip members (zcat reads it); zstd: as the Collector's, every message (an export request per signal and batch; for json a batch of lines) is compressed into one zstd frame and written after its 4-byte big-endian length",
    },
    flush_interval: { type: 'string', format: 'duration', default: '1s' },
    append: {
      type: 'boolean',
      description: 'true: continue an existing file; false (default): start it empty, as the Collector. Not with rotation or compression (as the Collector); rotation and storage always continue the file',
    },
    group_by: {
      type: 'object',
      additionalProperties: false,
      properties: {
        enabled: { type: 'boolean', default: false },
        resource_attribute: { type: 'string', minLength: 1, default: 'fileexporter.path_segment' },
        max_open_files: { type: 'integer', minimum: 1, default: 100 },
      },
    },
    encoding: { type: 'string', description: 'the Collector\'s encoding extension id; refused: Tapio has no encoding extensions' },
    storage: { type: 'string', minLength: 1, 'x-extension-ref': true },
    sending_queue: { ...QUEUE_SCHEMA, properties: { ...(QUEUE_SCHEMA.properties as object), enabled: { type: 'boolean', default: false } } },
    retry_on_failure: RETRY_SCHEMA,
  },
};

export function createDefaultConfig(): FileExporterConfig {
  return { path: 'tapio-events.jsonl', format: 'json', compression: 'none', flush_interval: '1s' };
}

/** Combinations JSON Schema cannot express; the messages name the keys involved. */
export interface Issue { path: string[]; message: string }

export function configIssues(c: FileExporterConfig, numConsumers: number): Issue[] {
  const issues: Issue[] = [];
  const issue = (path: string[], message: string): void => { issues.push({ path, message }); };
  // The ledger needs each stream in order; several queue consumers would reorder batches.
  if (c.storage && c.sending_queue?.enabled && numConsumers > 1) {
    issue(['sending_queue', 'num_consumers'], 'must be 1 when storage is set (exactly-once output needs batches in order)');
  }
  if (c.encoding !== undefined) {
    issue(['encoding'], 'encoding extensions do not exist in Tapio; use format: otlp_json (the Collector\'s json) or proto instead');
  }
  if (c.append === true && c.rotation) issue(['append'], 'append and rotation together are not supported (as in the Collector): rotation continues the file anyway');
  if (c.append === true && c.compression !== 'none') issue(['append'], 'append and compression together are not supported (as in the Collector)');
  if (c.append === false && c.storage) issue(['append'], 'must not be false with storage: exactly-once output continues the committed file');
  if (c.group_by?.enabled) {
    const stars = c.path.split('*').length - 1;
    if (stars !== 1) issue(['path'], `must contain exactly one * when group_by is enabled (has ${stars})`);
    else if (c.path.startsWith('*')) issue(['path'], 'must not start with * when group_by is enabled');
    if (c.rotation) issue(['group_by'], 'group_by with rotation is not supported');
    if (c.storage) issue(['group_by'], 'group_by with storage is not supported');
  }
  return issues;
}
