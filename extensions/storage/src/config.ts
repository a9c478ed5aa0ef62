import type { JsonSchema } from '@tapio/core';

export interface FileStorageConfig {
  /** Directory holding one SQLite database per extension instance. */
  directory: string;
  /** Create `directory` (mode 0750) when it is missing. */
  create_directory: boolean;
  /**
   * fsync on every commit (SQLite `synchronous=FULL`). Off (`NORMAL` in WAL mode) a crash of
   * the process never loses a committed write; only an OS crash or power loss may lose the
   * last commits.
   */
  fsync: boolean;
  /** Overrides `fsync` with an explicit SQLite synchronous level. */
  synchronous?: 'off' | 'normal' | 'full' | 'extra';
  /** Largest the database may grow; writes beyond it fail with a clear error. 0: no limit. */
  max_size: string | number;
  /** How long to wait for the database lock held by another process. */
  timeout: string;
  compaction: {
    /** VACUUM the database when the extension starts (reclaims all free pages). */
    on_start: boolean;
    /** Periodically return free pages to the OS (incremental vacuum) and truncate the WAL. 0s: never. */
    interval: string;
  };
}

export const configSchema: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    directory: { type: 'string', minLength: 1, default: '/var/lib/tapio/file_storage' },
    create_directory: { type: 'boolean', default: true },
    fsync: { type: 'boolean', default: false },
    synchronous: { enum: ['off', 'normal', 'full', 'extra'] },
    max_size: { type: ['string', 'integer'], format: 'byte-size', default: '1GiB', description: '0 means no limit' },
    timeout: { type: 'string', format: 'duration', default: '1s' },
    compaction: {
      type: 'object',
      additionalProperties: false,
      properties: {
        on_start: { type: 'boolean', default: false },
        interval: { type: 'string', format: 'duration', default: '5m' },
      },
      default: {},
    },
  },
};

export function createDefaultConfig(): FileStorageConfig {
  return {
    directory: '/var/lib/tapio/file_storage',
    create_directory: true,
    fsync: false,
    max_size: '1GiB',
    timeout: '1s',
    compaction: { on_start: false, interval: '5m' },
  };
}
