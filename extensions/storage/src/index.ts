import * as fs from 'node:fs';
import * as path from 'node:path';
import { defineExtension, parseByteSize, parseDuration, type StorageClient, type StorageExtension } from '@tapio/core';
import { configSchema, createDefaultConfig, type FileStorageConfig } from './config';
import { StorageLock } from './lock';
import { watchRebound } from './rebound';
import { NamespacedClient, SqliteStore, StorageClosedError, StorageFullError, type SynchronousLevel } from './store';

export { NamespacedClient, SqliteStore, StorageClosedError, StorageFullError, configSchema, createDefaultConfig };
export type { FileStorageConfig, SynchronousLevel };

/** The database file of an extension instance: `file_storage/queue` → `<directory>/file_storage_queue.sqlite`. */
export function databaseFile(directory: string, extensionId: string): string {
  return path.join(directory, extensionId.replace(/[^A-Za-z0-9_.-]/g, '_') + '.sqlite');
}

export default defineExtension<FileStorageConfig>({
  type: 'file_storage',
  stability: 'beta',
  configSchema,
  createDefaultConfig,
  create(ctx, config) {
    let store: SqliteStore | undefined;
    let lock: StorageLock | undefined;
    let compactTimer: NodeJS.Timeout | undefined;
    let stopRebound = (): void => undefined;
    let stopped = false;
    const file = databaseFile(config.directory, ctx.id);
    const synchronous: SynchronousLevel = config.synchronous ?? (config.fsync ? 'full' : 'normal');

    ctx.telemetry.gauge('tapio_storage_size_bytes', 'Size of the file_storage database', () => store?.sizeBytes() ?? 0);

    const ext: StorageExtension & { start(): Promise<void>; shutdown(): Promise<void>; readonly file: string } = {
      file,
      async start() {
        const mode = config.directory_permissions ? parseInt(config.directory_permissions, 8) : 0o750;
        if (config.create_directory) fs.mkdirSync(config.directory, { recursive: true, mode });
        else if (!fs.existsSync(config.directory)) throw new Error(`directory ${config.directory} does not exist (set create_directory: true to create it)`);
        lock = StorageLock.acquire(file, parseDuration(config.timeout));
        try {
          store = new SqliteStore(file, {
            synchronous,
            maxSizeBytes: parseByteSize(config.max_size),
            busyTimeoutMs: parseDuration(config.timeout),
            vacuumOnOpen: config.compaction.on_start,
          });
        } catch (err) {
          lock.release();
          throw err;
        }
        const intervalMs = parseDuration(config.compaction.interval);
        if (intervalMs > 0) {
          compactTimer = setInterval(() => {
            try { store?.compact(); } catch (err) { ctx.logger.warn({ err: (err as Error).message }, 'compaction failed'); }
          }, intervalMs);
          compactTimer.unref();
        }
        if (config.compaction.on_rebound) {
          stopRebound = watchRebound(() => store, {
            neededMiB: config.compaction.rebound_needed_threshold_mib,
            triggerMiB: config.compaction.rebound_trigger_threshold_mib,
            checkIntervalMs: parseDuration(config.compaction.check_interval),
          }, ctx.logger);
        }
        ctx.logger.info({ file, synchronous }, 'file_storage opened');
      },
      async shutdown() {
        if (stopped) return;
        stopped = true;
        clearInterval(compactTimer);
        stopRebound();
        store?.close();
        lock?.release();
      },
      async getClient(kind: string, componentId: string, name?: string): Promise<StorageClient> {
        if (!store || stopped) throw new StorageClosedError(`file_storage "${ctx.id}" (not started or shut down)`);
        return new NamespacedClient(store, name ? `${kind}/${componentId}/${name}` : `${kind}/${componentId}`);
      },
    };
    return ext;
  },
});
