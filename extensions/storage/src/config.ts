import type { JsonSchema } from '@tapio/core';

export interface FileStorageConfig {
  /** Directory holding one SQLite database per extension instance. */
  directory: string;
  /** Create `directory` when it is missing, with `directory_permissions`. */
  create_directory: boolean;
  /** Octal mode for a directory create_directory makes (subject to the umask, as in the Collector); unset: 0750. */
  directory_permissions?: string;
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
    /** The Collector's online compaction: VACUUM once the database grew past rebound_needed_threshold_mib and its data then fell below rebound_trigger_threshold_mib. */
    on_rebound: boolean;
    rebound_needed_threshold_mib: number;
    rebound_trigger_threshold_mib: number;
    /** How often on_rebound looks at the sizes. */
    check_interval: string;
  };
}

export const configSchema: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    directory: { type: 'string', minLength: 1, default: '/var/lib/tapio/file_storage' },
    create_directory: { type: 'boolean', default: false },
    directory_permissions: { type: 'string', pattern: '^0?[0-7]{3}$', description: 'octal mode ("0750") of a directory create_directory makes, subject to the umask; unset: 0750' },
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
        on_rebound: { type: 'boolean', default: false, description: 'VACUUM when the database grew past rebound_needed_threshold_mib and its data later fell below rebound_trigger_threshold_mib, checked every check_interval' },
        rebound_needed_threshold_mib: { type: 'integer', minimum: 0, default: 100 },
        rebound_trigger_threshold_mib: { type: 'integer', minimum: 0, default: 10 },
        check_interval: { type: 'string', format: 'duration', default: '5s' },
        directory: { type: 'string', 'x-no-effect': 'SQLite compacts in place (VACUUM); it needs no directory for a copy' },
        max_transaction_size: { type: 'integer', 'x-no-effect': 'a bbolt copy setting; SQLite VACUUM rewrites the database in one transaction' },
        cleanup_on_start: { type: 'boolean', 'x-no-effect': 'SQLite compaction leaves no temporary files behind to clean up' },
      },
      default: {},
    },
  },
};

export function createDefaultConfig(): FileStorageConfig {
  return {
    directory: '/var/lib/tapio/file_storage',
    create_directory: false,
    fsync: false,
    max_size: '1GiB',
    timeout: '1s',
    compaction: { on_start: false, interval: '5m', on_rebound: false, rebound_needed_threshold_mib: 100, rebound_trigger_threshold_mib: 10, check_interval: '5s' },
  };
}
