'use strict';
// Kubelet-style cgroups for the scenario's "pods": <root>/kubepods/burstable/pod<uid>/<container id>,
// in the memory controller's hierarchy (cgroup v1/hybrid or v2), optionally memory-limited.
// The eBPF receiver and unifiedevent derive the container id and pod uid from exactly this shape.
const fs = require('node:fs');
const path = require('node:path');

function memoryHierarchy() {
  const mounts = fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n');
  const parsed = mounts.map((line) => {
    const [pre, post] = line.split(' - ');
    if (!post) return undefined;
    const [fstype, , superOpts = ''] = post.split(' ');
    return { mnt: pre.split(' ')[4], fstype, opts: superOpts.split(',') };
  }).filter(Boolean);
  const v1 = parsed.find((m) => m.fstype === 'cgroup' && m.opts.includes('memory'));
  if (v1) return { root: v1.mnt, v2: false };
  const v2 = parsed.find((m) => m.fstype === 'cgroup2' && fs.readFileSync(path.join(m.mnt, 'cgroup.controllers'), 'utf8').includes('memory'));
  return v2 ? { root: v2.mnt, v2: true } : undefined;
}

function sleepSync(ms) { Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms); }

/** Why kubelet-style cgroups cannot be made here, or undefined when they can. */
function cgroupsUnavailable() {
  try {
    return memoryHierarchy() ? undefined : 'no cgroup hierarchy with the memory controller';
  } catch (err) {
    return `cannot read the cgroup mounts: ${err.message}`;
  }
}

/**
 * Creates `<rootName>/kubepods/burstable/pod<podUid>/<containerId>` (each missing level).
 * Returns { path (inside the hierarchy, as the kernel reports it), procsFile, remove() }.
 */
function createPodCgroup(rootName, podUid, containerId, limitBytes) {
  const h = memoryHierarchy();
  if (!h) throw new Error('no cgroup hierarchy with the memory controller');
  const rel = path.join(rootName, 'kubepods', 'burstable', `pod${podUid}`, containerId);
  const dir = path.join(h.root, rel);
  const levels = [];
  for (let p = dir; p !== h.root; p = path.dirname(p)) levels.unshift(p);
  const created = levels.filter((p) => !fs.existsSync(p));
  for (const p of created) fs.mkdirSync(p);
  if (limitBytes > 0) {
    if (h.v2) {
      for (const p of [h.root, ...levels.slice(0, -1)]) {
        const subtree = path.join(p, 'cgroup.subtree_control');
        if (!fs.readFileSync(subtree, 'utf8').includes('memory')) fs.writeFileSync(subtree, '+memory');
      }
      fs.writeFileSync(path.join(dir, 'memory.max'), String(limitBytes));
      const swap = path.join(dir, 'memory.swap.max');
      if (fs.existsSync(swap)) fs.writeFileSync(swap, '0');
    } else {
      fs.writeFileSync(path.join(dir, 'memory.limit_in_bytes'), String(limitBytes));
      // memory+swap at the same limit: no swapping around it (set after memory.limit_in_bytes)
      const memsw = path.join(dir, 'memory.memsw.limit_in_bytes');
      if (fs.existsSync(memsw)) fs.writeFileSync(memsw, String(limitBytes));
    }
  }
  return {
    path: '/' + rel,
    procsFile: path.join(dir, 'cgroup.procs'),
    /** Removes the levels this call created (deepest first); processes inside must have exited. */
    remove() {
      for (const p of [...created].reverse()) {
        for (let i = 0; i < 100 && fs.existsSync(p); i++) {
          try { fs.rmdirSync(p); } catch { sleepSync(20); }
        }
      }
    },
  };
}

module.exports = { createPodCgroup, cgroupsUnavailable };
