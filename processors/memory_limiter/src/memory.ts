import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
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

type ReadFile = (p: string) => string;

/**
 * The memory limit of this process's cgroup, or undefined when unlimited: the smallest
 * memory.max (v2) or memory.limit_in_bytes (v1) of the cgroup /proc/self/cgroup names and its
 * ancestors, found through /proc/self/mountinfo — so a limit on a nested cgroup (a systemd
 * unit's MemoryMax, a v1 host's per-job cgroup) counts, not only one at the hierarchy's root.
 * Without /proc/self/cgroup, the hierarchy's root files (a container with its own namespace).
 */
export function cgroupLimit(readFile: ReadFile = (p) => fs.readFileSync(p, 'utf8')): number | undefined {
  const own = ownCgroupFiles(readFile);
  const files = own.length ? own : ['/sys/fs/cgroup/memory.max', '/sys/fs/cgroup/memory/memory.limit_in_bytes'];
  let limit: number | undefined;
  for (const file of files) {
    let text: string;
    try { text = readFile(file).trim(); } catch { continue; }
    const n = text === 'max' ? Infinity : Number(text);
    // cgroup v1 reports "unlimited" as a huge page-aligned number.
    if (Number.isFinite(n) && n > 0 && n < 2 ** 60 && (limit === undefined || n < limit)) limit = n;
    if (!own.length) break; // the root fallback: the first file that exists decides
  }
  return limit;
}

/** The limit files of this process's memory cgroups (v1 and v2 alike) and of their ancestors up to the mount. */
function ownCgroupFiles(readFile: ReadFile): string[] {
  let cgroups: string, mountinfo: string;
  try { cgroups = readFile('/proc/self/cgroup'); mountinfo = readFile('/proc/self/mountinfo'); } catch { return []; }
  const out: string[] = [];
  for (const line of cgroups.split('\n')) {
    // "hierarchy-id:controllers:path"; v2 is "0::path"
    const m = /^(\d+):([^:]*):(.*)$/.exec(line);
    if (!m) continue;
    const v2 = m[1] === '0' && m[2] === '';
    if (!v2 && !m[2]!.split(',').includes('memory')) continue;
    const mount = findMount(mountinfo, v2);
    if (!mount) continue;
    // the mount may show only a subtree of the hierarchy (its root): the path is relative to it
    const rel = mount.root !== '/' && m[3]!.startsWith(mount.root) ? m[3]!.slice(mount.root.length) : m[3]!;
    const file = v2 ? 'memory.max' : 'memory.limit_in_bytes';
    for (let dir = path.posix.join(mount.point, rel); ; dir = path.posix.dirname(dir)) {
      out.push(path.posix.join(dir, file));
      if (dir === mount.point || dir === '/' || !dir.startsWith(mount.point)) break;
    }
  }
  return out;
}

function findMount(mountinfo: string, v2: boolean): { point: string; root: string } | undefined {
  for (const line of mountinfo.split('\n')) {
    const [pre, post] = line.split(' - ');
    if (!pre || !post) continue;
    const fields = pre.split(' ');
    const [fstype, , superOpts = ''] = post.split(' ');
    const match = v2 ? fstype === 'cgroup2' : fstype === 'cgroup' && superOpts.split(',').includes('memory');
    if (match) return { root: fields[3]!, point: fields[4]! };
  }
  return undefined;
}
