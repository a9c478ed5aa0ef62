import type { Logger } from '@tapio/core';
import type { SqliteStore } from './store';

const MIB = 1024 * 1024;

/**
 * `compaction.on_rebound` as the Collector's file_storage: once the database file has grown past
 * `neededMiB`, compaction is due; it runs (a full VACUUM) as soon as the data in it has fallen
 * below `triggerMiB` — a queue that filled up during an outage and has drained since. Checked
 * every `checkIntervalMs`. Returns the stop function.
 */
export function watchRebound(store: () => SqliteStore | undefined, o: { neededMiB: number; triggerMiB: number; checkIntervalMs: number }, logger: Logger): () => void {
  let due = false;
  const check = (): void => {
    const s = store();
    if (!s) return;
    const { allocatedBytes, dataBytes } = s.usage();
    if (allocatedBytes > o.neededMiB * MIB) due = true;
    if (!due || dataBytes >= o.triggerMiB * MIB) return;
    try {
      s.vacuum();
      due = false;
      logger.info({ beforeBytes: allocatedBytes, afterBytes: s.sizeBytes() }, 'file_storage compacted after a rebound');
    } catch (err) {
      logger.warn({ err: (err as Error).message }, 'rebound compaction failed; will try again');
    }
  };
  const timer = setInterval(check, Math.max(10, o.checkIntervalMs));
  timer.unref();
  return () => clearInterval(timer);
}
