/**
 * What a cgroup path tells about a container: container runtimes name the leaf cgroup after
 * the 64-hex container id (`/docker/<id>`, `docker-<id>.scope`, `cri-containerd-<id>.scope`,
 * `crio-<id>.scope`, `libpod-<id>.scope`, `/kubepods/burstable/pod<uid>/<id>`), and kubelet
 * puts the pod uid in a parent (`pod<uid>`, `-pod<uid_with_underscores>.slice`).
 */
export interface CgroupInfo {
  path: string;
  containerId?: string;
  podUid?: string;
}

const CONTAINER_LEAF = /(?:^|[-/])([0-9a-f]{64})(?:\.scope)?$/;
const POD_UID = /pod([0-9a-f]{8}[-_][0-9a-f]{4}[-_][0-9a-f]{4}[-_][0-9a-f]{4}[-_][0-9a-f]{12})/;

export function cgroupInfo(path: string): CgroupInfo {
  const info: CgroupInfo = { path };
  const leaf = path.slice(path.lastIndexOf('/'));
  // conmon (the CRI-O/podman monitor) has its own scope named after the container; it is not the container
  if (!leaf.includes('conmon')) {
    const m = CONTAINER_LEAF.exec(leaf);
    if (m) info.containerId = m[1];
  }
  const p = POD_UID.exec(path);
  if (p) info.podUid = p[1].replace(/_/g, '-');
  return info;
}

/** True when `path` is one of `prefixes` or below one of them. */
export function underAny(path: string, prefixes: string[]): boolean {
  for (const p of prefixes) {
    if (p === '/' || path === p || (path.startsWith(p) && path.charCodeAt(p.length) === 47 /* / */)) return true;
  }
  return false;
}
