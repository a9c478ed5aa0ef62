/** What a cgroup path tells about the container and the pod it belongs to. */
export interface CgroupIdentity {
  containerId?: string;
  /** The runtime named in the path: containerd, docker, crio. */
  runtime?: string;
  /** Pod UID (with dashes) when the path is under kubepods. */
  podUid?: string;
}

// Container ids are 64 hex chars for containerd, docker and cri-o.
//   cgroup v2 + systemd:  /kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod<uid_>.slice/cri-containerd-<id>.scope
//   containerd systemd cgroup driver, v1: …/kubepods-besteffort-pod<uid_>.slice:cri-containerd:<id>
//   cgroupfs driver:      /kubepods/burstable/pod<uid>/<id>
//   docker:               /system.slice/docker-<id>.scope, /docker/<id>
//   cri-o:                …/crio-<id>.scope  (crio-conmon-<id> is the monitor, not the container)
const CONTAINER = /(?:(cri-containerd|docker|crio|libpod)[-:]|\/(docker)\/|\/)([0-9a-f]{64})(?:\.scope)?(?:\/|$)/;
const POD_UID = /pod([0-9a-f]{8}[-_][0-9a-f]{4}[-_][0-9a-f]{4}[-_][0-9a-f]{4}[-_][0-9a-f]{12})/;

const RUNTIME: Record<string, string> = { 'cri-containerd': 'containerd', docker: 'docker', crio: 'crio', libpod: 'podman' };

export function parseCgroupPath(path: string): CgroupIdentity {
  const out: CgroupIdentity = {};
  if (path.includes('crio-conmon-')) return podOnly(path, out);
  const m = CONTAINER.exec(path);
  if (m) {
    out.containerId = m[3];
    const rt = m[1] ?? m[2];
    if (rt) out.runtime = RUNTIME[rt];
  }
  return podOnly(path, out);
}

function podOnly(path: string, out: CgroupIdentity): CgroupIdentity {
  const p = POD_UID.exec(path);
  if (p) out.podUid = p[1]!.replace(/_/g, '-');
  return out;
}

/** `containerd://abc…` (the form in pod status) → `abc…`. */
export function stripRuntimePrefix(id: string): string {
  const i = id.indexOf('://');
  return i >= 0 ? id.slice(i + 3) : id;
}

/** A small bounded cache: cleared whole when full, which is cheap and good enough for paths that repeat. */
export class BoundedCache<V> {
  private readonly map = new Map<string, V>();
  constructor(private readonly max: number) {}
  get(key: string): V | undefined { return this.map.get(key); }
  set(key: string, value: V): void {
    if (this.map.size >= this.max) this.map.clear();
    this.map.set(key, value);
  }
  get size(): number { return this.map.size; }
}
