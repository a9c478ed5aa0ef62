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

/** `name` may be nested (a/b/c): every level is created and removed again. `limitBytes` 0: no limit. */
export function createMemoryCgroup(name: string, limitBytes: number): MemoryCgroup {
  const h = memoryHierarchyRoot();
  if (!h) throw new Error('no cgroup hierarchy with the memory controller');
  const dir = path.join(h.root, name);
  const levels: string[] = [];
  for (let p = dir; p !== h.root; p = path.dirname(p)) levels.push(p);
  const created = levels.reverse().filter((p) => !existsSync(p));
  for (const p of created) mkdirSync(p);
  if (limitBytes === 0) {
    // no limit
  } else if (h.v2) {
    // the memory controller must be enabled in every ancestor's subtree_control
    for (let p = path.dirname(dir); ; p = path.dirname(p)) {
      const subtree = path.join(p, 'cgroup.subtree_control');
      if (!readFileSync(subtree, 'utf8').includes('memory')) writeFileSync(subtree, '+memory');
      if (p === h.root) break;
    }
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
      for (const p of created.reverse()) {
        for (let i = 0; i < 50; i++) {
          try { rmdirSync(p); break; } catch { Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20); }
        }
      }
    },
  };
}
