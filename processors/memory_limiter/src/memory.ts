import * as fs from 'node:fs';
import * as os from 'node:os';
import * as v8 from 'node:v8';

/** Where memory use is read from, and what the percentages are of. */
export interface MemoryReader {
  /** Bytes in use now. */
  used(): number;
  /** Bytes available in total (percentage limits are of this). */
  total(): number;
}

/**
 * Resident set size of the process, against the cgroup memory limit when there is one
 * (containers), else physical memory. RSS includes Buffers and native memory, which is what
 * an OOM killer looks at.
 */
export const rssReader: MemoryReader = {
  used: () => process.memoryUsage.rss(),
  total: () => Math.min(os.totalmem(), cgroupLimit() ?? Infinity),
};

/** V8 heap in use, against V8's heap limit (`--max-old-space-size`). */
export const heapReader: MemoryReader = {
  used: () => v8.getHeapStatistics().used_heap_size,
  total: () => v8.getHeapStatistics().heap_size_limit,
};

/** The memory limit of this process's cgroup (v2, then v1), or undefined when unlimited. */
export function cgroupLimit(readFile: (p: string) => string = (p) => fs.readFileSync(p, 'utf8')): number | undefined {
  for (const file of ['/sys/fs/cgroup/memory.max', '/sys/fs/cgroup/memory/memory.limit_in_bytes']) {
    let text: string;
    try { text = readFile(file).trim(); } catch { continue; }
    if (text === 'max') return undefined;
    const n = Number(text);
    // cgroup v1 reports "unlimited" as a huge page-aligned number.
    if (Number.isFinite(n) && n > 0 && n < 2 ** 60) return n;
    return undefined;
  }
  return undefined;
}
