import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';

/** A memory-limited cgroup for tests, on cgroup v2 or on a v1/hybrid host's memory hierarchy. */
export interface MemoryCgroup {
  /** Path inside the hierarchy, as the receiver reports it ("/tapio-test-…"). */
  path: string;
  /** The cgroup.procs file a process writes its pid into to join. */
  procsFile: string;
  remove(): void;
}

function memoryHierarchyRoot(): { root: string; v2: boolean } | undefined {
  const mounts = readFileSync('/proc/self/mountinfo', 'utf8').split('\n');
  for (const line of mounts) {
    const [pre, post] = line.split(' - ');
    if (!post) continue;
    const mnt = pre.split(' ')[4];
    const [fstype, , superOpts] = post.split(' ');
    if (fstype === 'cgroup' && superOpts.split(',').includes('memory')) return { root: mnt, v2: false };
  }
  for (const line of mounts) {
    const [pre, post] = line.split(' - ');
    if (!post) continue;
    const mnt = pre.split(' ')[4];
    if (post.startsWith('cgroup2 ') && readFileSync(path.join(mnt, 'cgroup.controllers'), 'utf8').includes('memory')) return { root: mnt, v2: true };
  }
  return undefined;
}

export function createMemoryCgroup(name: string, limitBytes: number): MemoryCgroup {
  const h = memoryHierarchyRoot();
  if (!h) throw new Error('no cgroup hierarchy with the memory controller');
  const dir = path.join(h.root, name);
  if (!existsSync(dir)) mkdirSync(dir);
  if (h.v2) {
    const subtree = path.join(h.root, 'cgroup.subtree_control');
    if (!readFileSync(subtree, 'utf8').includes('memory')) writeFileSync(subtree, '+memory');
    writeFileSync(path.join(dir, 'memory.max'), String(limitBytes));
    if (existsSync(path.join(dir, 'memory.swap.max'))) writeFileSync(path.join(dir, 'memory.swap.max'), '0');
  } else {
    writeFileSync(path.join(dir, 'memory.limit_in_bytes'), String(limitBytes));
    // memory+swap limit: no swapping around the limit (must be set after memory.limit_in_bytes)
    const memsw = path.join(dir, 'memory.memsw.limit_in_bytes');
    if (existsSync(memsw)) writeFileSync(memsw, String(limitBytes));
  }
  return {
    path: '/' + name,
    procsFile: path.join(dir, 'cgroup.procs'),
    remove() {
      // a cgroup can be removed once its processes are gone; they may still be exiting
      for (let i = 0; i < 50; i++) {
        try { rmdirSync(dir); return; } catch { Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20); }
      }
    },
  };
}
