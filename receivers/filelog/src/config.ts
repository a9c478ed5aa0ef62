import type { JsonSchema } from '@tapio/core';

/** One entry of `operators:` — validated per type by the operator builder (operators/index.ts). */
export interface OperatorConfig {
  type: string;
  id?: string;
  [key: string]: unknown;
}

export interface FilelogConfig {
  include: string[];
  exclude: string[];
  start_at: 'beginning' | 'end';
  poll_interval: string | number;
  fingerprint_size: string | number;
  max_log_size: string | number;
  /** What happens to the rest of a line longer than max_log_size: emitted as further entries, or dropped. */
  max_log_size_behavior: 'split' | 'truncate';
  max_concurrent_files: number;
  /** An unterminated last line (or a held multiline entry) is emitted after this long without growth. */
  force_flush_period: string | number;
  multiline?: { line_start_pattern?: string; line_end_pattern?: string };
  encoding: string;
  compression: '' | 'gzip';
  storage?: string;
  include_file_path: boolean;
  include_file_name: boolean;
  /** Entries per batch handed to the pipeline. */
  max_batch_size: number;
  operators: OperatorConfig[];
}

export const ENCODINGS = ['utf-8', 'utf8', 'utf-16le', 'utf-16be', 'latin1', 'iso-8859-1', 'ascii'] as const;

export const configSchema: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    include: { type: 'array', items: { type: 'string', minLength: 1 }, default: [], description: 'Glob patterns of files to read (fast-glob syntax)' },
    exclude: { type: 'array', items: { type: 'string', minLength: 1 }, default: [], description: 'Glob patterns of files to skip' },
    start_at: { enum: ['beginning', 'end'], default: 'end', description: 'Where to start in files found at startup that have no checkpoint' },
    poll_interval: { type: 'string', format: 'duration', default: '200ms' },
    fingerprint_size: { type: ['string', 'integer'], format: 'byte-size', default: '1KiB', description: 'Bytes at the start of a file that identify it' },
    max_log_size: { type: ['string', 'integer'], format: 'byte-size', default: '1MiB', description: 'Longest entry in bytes' },
    max_log_size_behavior: { enum: ['split', 'truncate'], default: 'split' },
    max_concurrent_files: { type: 'integer', minimum: 2, default: 1024, description: 'Most files open at once' },
    force_flush_period: { type: 'string', format: 'duration', default: '500ms' },
    multiline: {
      type: 'object',
      additionalProperties: false,
      properties: {
        line_start_pattern: { type: 'string', minLength: 1 },
        line_end_pattern: { type: 'string', minLength: 1 },
      },
    },
    encoding: { enum: [...ENCODINGS], default: 'utf-8' },
    compression: { enum: ['', 'gzip'], default: '' },
    storage: { type: 'string', minLength: 1, 'x-extension-ref': true, description: 'Id of a storage extension (file_storage) for checkpoints' },
    include_file_path: { type: 'boolean', default: true },
    include_file_name: { type: 'boolean', default: true },
    max_batch_size: { type: 'integer', minimum: 1, default: 1000 },
    operators: {
      type: 'array',
      default: [],
      items: {
        type: 'object',
        required: ['type'],
        properties: {
          type: { enum: ['json_parser', 'regex_parser', 'syslog_parser', 'container', 'time_parser', 'severity_parser', 'trace_parser', 'move', 'remove', 'add'] },
          id: { type: 'string' },
        },
      },
    },
  },
};

export function createDefaultConfig(): FilelogConfig {
  return {
    include: [],
    exclude: [],
    start_at: 'end',
    poll_interval: '200ms',
    fingerprint_size: '1KiB',
    max_log_size: '1MiB',
    max_log_size_behavior: 'split',
    max_concurrent_files: 1024,
    force_flush_period: '500ms',
    encoding: 'utf-8',
    compression: '',
    include_file_path: true,
    include_file_name: true,
    max_batch_size: 1000,
    operators: [],
  };
}
