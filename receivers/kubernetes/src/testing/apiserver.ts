import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { apiVersionOf, type KubeObject } from '../kinds';
import { matchesFieldSelector, matchesLabelSelector } from './selectors';

/** A resource the double serves (a superset of the receiver's kinds: leases, namespaces…). */
interface ServedResource { group: string; version: string; resource: string; kind: string; namespaced: boolean }

const SERVED: ServedResource[] = [
  { group: '', version: 'v1', resource: 'pods', kind: 'Pod', namespaced: true },
  { group: '', version: 'v1', resource: 'nodes', kind: 'Node', namespaced: false },
  { group: '', version: 'v1', resource: 'services', kind: 'Service', namespaced: true },
  { group: '', version: 'v1', resource: 'events', kind: 'Event', namespaced: true },
  { group: '', version: 'v1', resource: 'namespaces', kind: 'Namespace', namespaced: false },
  { group: 'events.k8s.io', version: 'v1', resource: 'events', kind: 'Event', namespaced: true },
  { group: 'apps', version: 'v1', resource: 'deployments', kind: 'Deployment', namespaced: true },
  { group: 'apps', version: 'v1', resource: 'replicasets', kind: 'ReplicaSet', namespaced: true },
  { group: 'apps', version: 'v1', resource: 'statefulsets', kind: 'StatefulSet', namespaced: true },
  { group: 'apps', version: 'v1', resource: 'daemonsets', kind: 'DaemonSet', namespaced: true },
  { group: 'batch', version: 'v1', resource: 'jobs', kind: 'Job', namespaced: true },
  { group: 'discovery.k8s.io', version: 'v1', resource: 'endpointslices', kind: 'EndpointSlice', namespaced: true },
  { group: 'coordination.k8s.io', version: 'v1', resource: 'leases', kind: 'Lease', namespaced: true },
];

interface ListSnapshot { id: number; rv: number; items: KubeObject[] }

interface HistoryEntry { rv: number; res: ServedResource; type: 'ADDED' | 'MODIFIED' | 'DELETED'; obj: KubeObject }

interface OpenWatch {
  res: ServedResource;
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  bookmarks: boolean;
  response: ServerResponse;
  socket: Socket;
  timer?: NodeJS.Timeout;
}

export interface ApiServerDoubleOptions {
  /** Bearer token every request must carry; unset = no authentication. */
  token?: string;
  /** How often open watches that asked for them get a BOOKMARK (0 = only on `sendBookmarks()`). */
  bookmarkIntervalMs?: number;
  /** How many change events are kept for watch resumption before older ones are compacted (410 Gone). */
  historyLimit?: number;
  /** Called after each answered request (not watches) — for fault injection between list pages. */
  afterRequest?: (req: RecordedRequest, server: ApiServerDouble) => void;
}

export interface RecordedRequest { method: string; path: string; query: Record<string, string>; status?: number }

/**
 * A Kubernetes API server double that speaks the list/watch wire protocol: JSON lists with
 * `metadata.resourceVersion`, `limit`/`continue` pagination, chunked watch streams of JSON lines,
 * `allowWatchBookmarks` → BOOKMARK events, compaction → 410 Gone (HTTP 410 on list, an ERROR watch
 * event carrying a Status object on watch), bearer-token authentication (401), plus create/update/
 * delete over REST so clients and tests can write objects (including Leases for leader election).
 * Fault injection: `dropWatches()` (abrupt connection loss), `compact()`, `expireWatches()`.
 */
export class ApiServerDouble {
  readonly requests: RecordedRequest[] = [];
  private readonly server: Server;
  private readonly stores = new Map<ServedResource, Map<string, KubeObject>>();
  private history: HistoryEntry[] = [];
  private rv = 1000;
  /** Watches from a resourceVersion older than this get 410 Gone. */
  private compactedRv = 1000;
  private readonly watches = new Set<OpenWatch>();
  private uidSeq = 0;
  private snapshotSeq = 0;
  private readonly snapshots = new Map<number, ListSnapshot>();
  private serviceIpSeq = 0;
  private readonly sockets = new Set<Socket>();
  private watchesHeld = false;

  constructor(private readonly opts: ApiServerDoubleOptions = {}) {
    for (const r of SERVED) this.stores.set(r, new Map());
    this.server = createServer((req, res) => this.handle(req, res));
    this.server.on('connection', (s) => { this.sockets.add(s); s.on('close', () => this.sockets.delete(s)); });
  }

  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return this.url;
  }

  get url(): string {
    const a = this.server.address() as AddressInfo;
    return `http://127.0.0.1:${a.port}`;
  }

  /** A kubeconfig (YAML text) that points a client at this double. */
  kubeconfig(token = this.opts.token): string {
    return [
      'apiVersion: v1', 'kind: Config', 'current-context: double',
      'clusters:', '- name: double', '  cluster:', `    server: ${this.url}`, '    insecure-skip-tls-verify: true',
      'users:', '- name: tester', '  user:', `    token: ${JSON.stringify(token ?? 'none')}`,
      'contexts:', '- name: double', '  context:', '    cluster: double', '    user: tester', '',
    ].join('\n');
  }

  get resourceVersion(): string { return String(this.rv); }

  async stop(): Promise<void> {
    for (const w of this.watches) this.closeWatch(w);
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  // ---- object store (used by tests directly and by the REST handlers) ----

  create(obj: KubeObject): KubeObject {
    const res = this.resourceOf(obj);
    const store = this.stores.get(res)!;
    const key = objKey(obj);
    if (store.has(key)) throw new Error(`${res.kind} ${key} already exists`);
    const stored = this.stamp(structuredClone(obj), res, true);
    store.set(key, stored);
    this.record('ADDED', res, stored);
    return structuredClone(stored);
  }

  update(obj: KubeObject): KubeObject {
    const res = this.resourceOf(obj);
    const store = this.stores.get(res)!;
    const key = objKey(obj);
    const old = store.get(key);
    if (!old) throw new Error(`${res.kind} ${key} not found`);
    const next = structuredClone(obj);
    next.metadata.uid = old.metadata.uid;
    next.metadata.creationTimestamp = old.metadata.creationTimestamp;
    next.metadata.generation = (old.metadata.generation ?? 1) + (JSON.stringify(next.spec) !== JSON.stringify(old.spec) ? 1 : 0);
    const stored = this.stamp(next, res, false);
    store.set(key, stored);
    this.record('MODIFIED', res, stored);
    return structuredClone(stored);
  }

  /** Create, or update when it exists. */
  apply(obj: KubeObject): KubeObject {
    const res = this.resourceOf(obj);
    return this.stores.get(res)!.has(objKey(obj)) ? this.update(obj) : this.create(obj);
  }

  delete(obj: Pick<KubeObject, 'apiVersion' | 'kind' | 'metadata'>): boolean {
    const res = this.resourceOf(obj as KubeObject);
    const store = this.stores.get(res)!;
    const key = objKey(obj as KubeObject);
    const old = store.get(key);
    if (!old) return false;
    store.delete(key);
    const gone = structuredClone(old);
    gone.metadata.resourceVersion = String(++this.rv);
    this.record('DELETED', res, gone);
    return true;
  }

  get(apiVersion: string, kind: string, namespace: string | undefined, name: string): KubeObject | undefined {
    const res = this.resourceOf({ apiVersion, kind });
    const o = this.stores.get(res)!.get(`${namespace ?? ''}/${name}`);
    return o && structuredClone(o);
  }

  // ---- fault injection ----

  /** Destroys every open watch connection without a proper end (a "Premature close" for clients). */
  dropWatches(): number {
    const n = this.watches.size;
    for (const w of [...this.watches]) { this.watches.delete(w); clearInterval(w.timer); w.socket.destroy(); }
    return n;
  }

  /** Forgets all change history up to now: watches and lists from an older resourceVersion get 410 Gone. */
  compact(): void {
    this.compactedRv = this.rv;
    this.history = [];
    this.snapshots.clear();
  }

  /** Sends every open watch an ERROR event with a 410 Status (as etcd compaction does) and ends it. */
  expireWatches(): number {
    const n = this.watches.size;
    for (const w of [...this.watches]) {
      w.response.write(JSON.stringify({ type: 'ERROR', object: goneStatus('too old resource version') }) + '\n');
      this.closeWatch(w);
    }
    return n;
  }

  /** Sends a BOOKMARK with the current resourceVersion to every watch that allowed them. */
  sendBookmarks(): void {
    for (const w of this.watches) if (w.bookmarks) this.writeBookmark(w);
  }

  get openWatchCount(): number { return this.watches.size; }

  /** While held, new watch requests are answered 503 (an API server restarting); lists still work. */
  holdWatches(held: boolean): void { this.watchesHeld = held; }

  // ---- HTTP ----

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://double');
    const query = Object.fromEntries(url.searchParams);
    const rec: RecordedRequest = { method: req.method ?? 'GET', path: url.pathname, query };
    this.requests.push(rec);
    const send = (status: number, body: unknown): void => {
      rec.status = status;
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
      this.opts.afterRequest?.(rec, this);
    };
    if (this.opts.token && req.headers.authorization !== `Bearer ${this.opts.token}`) {
      send(401, status(401, 'Unauthorized', 'Unauthorized'));
      return;
    }
    const route = this.route(url.pathname);
    if (!route) { send(404, status(404, 'NotFound', `the server could not find the requested resource (${url.pathname})`)); return; }
    const { res: resource, namespace, name, subresource } = route;
    const method = req.method ?? 'GET';
    if (method === 'GET' && !name) {
      if ((query.watch === 'true' || query.watch === '1') && this.watchesHeld) { send(503, status(503, 'ServiceUnavailable', 'watch temporarily unavailable')); return; }
      if (query.watch === 'true' || query.watch === '1') { rec.status = 200; this.watch(resource, namespace, query, req, res); return; }
      const r = this.list(resource, namespace, query);
      send(r.status, r.body);
      return;
    }
    if (method === 'GET' && name) {
      const o = this.stores.get(resource)!.get(`${namespace ?? ''}/${name}`);
      if (o) send(200, o); else send(404, status(404, 'NotFound', `${resource.resource} "${name}" not found`));
      return;
    }
    readBody(req).then((body) => {
      try {
        if (method === 'POST' && !name) {
          const obj = JSON.parse(body) as KubeObject;
          obj.apiVersion ??= apiVersionOf(resource); obj.kind ??= resource.kind;
          if (resource.namespaced) obj.metadata.namespace ??= namespace;
          if (this.stores.get(resource)!.has(objKey(obj))) { send(409, status(409, 'AlreadyExists', `${resource.resource} "${obj.metadata.name}" already exists`)); return; }
          send(201, this.create(obj));
        } else if (method === 'PUT' && name) {
          const obj = JSON.parse(body) as KubeObject;
          const old = this.stores.get(resource)!.get(`${namespace ?? ''}/${name}`);
          if (!old) { send(404, status(404, 'NotFound', `${resource.resource} "${name}" not found`)); return; }
          if (obj.metadata.resourceVersion && obj.metadata.resourceVersion !== old.metadata.resourceVersion) {
            send(409, status(409, 'Conflict', 'the object has been modified; please apply your changes to the latest version and try again'));
            return;
          }
          // The status subresource only changes status; the main resource keeps status as it was.
          const merged = subresource === 'status' ? { ...old, status: obj.status } : { ...obj, status: obj.status ?? old.status };
          merged.apiVersion ??= apiVersionOf(resource); merged.kind ??= resource.kind;
          send(200, this.update(merged as KubeObject));
        } else if (method === 'DELETE' && name) {
          const old = this.stores.get(resource)!.get(`${namespace ?? ''}/${name}`);
          if (!old || !this.delete(old)) { send(404, status(404, 'NotFound', `${resource.resource} "${name}" not found`)); return; }
          send(200, status(200, '', 'deleted', 'Success'));
        } else {
          send(405, status(405, 'MethodNotAllowed', `${method} is not supported here`));
        }
      } catch (err) {
        send(400, status(400, 'BadRequest', (err as Error).message));
      }
    }, () => send(400, status(400, 'BadRequest', 'unreadable body')));
  }

  private route(pathname: string): { res: ServedResource; namespace?: string; name?: string; subresource?: string } | undefined {
    const parts = pathname.split('/').filter(Boolean).map(decodeURIComponent);
    let group = '';
    let version: string;
    let rest: string[];
    if (parts[0] === 'api') { version = parts[1]; rest = parts.slice(2); } else if (parts[0] === 'apis') { group = parts[1]; version = parts[2]; rest = parts.slice(3); } else return undefined;
    let namespace: string | undefined;
    if (rest[0] === 'namespaces' && rest.length >= 3) { namespace = rest[1]; rest = rest.slice(2); }
    const res = SERVED.find((r) => r.group === group && r.version === version && r.resource === rest[0]);
    if (!res) return undefined;
    return { res, namespace, name: rest[1], subresource: rest[2] };
  }

  private list(res: ServedResource, namespace: string | undefined, q: Record<string, string>): { status: number; body: unknown } {
    let snap: ListSnapshot | undefined;
    let offset = 0;
    if (q.continue) {
      let token: { id: number; rv: number; offset: number };
      try { token = JSON.parse(Buffer.from(q.continue, 'base64url').toString()) as typeof token; } catch { return { status: 400, body: status(400, 'BadRequest', 'invalid continue token') }; }
      snap = this.snapshots.get(token.id);
      if (!snap || token.rv < this.compactedRv) {
        return { status: 410, body: goneStatus('The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter.') };
      }
      offset = token.offset;
    } else if (q.resourceVersion && q.resourceVersion !== '0' && Number(q.resourceVersion) < this.compactedRv) {
      return { status: 410, body: goneStatus(`too old resource version: ${q.resourceVersion} (${this.compactedRv})`) };
    }
    if (!snap) {
      // Every page of one list comes from the state at the first page's resourceVersion, as etcd serves it.
      // Stored objects are never mutated in place, so a snapshot is an array of references.
      const entries = [...this.stores.get(res)!.entries()]
        .filter(([, o]) => this.matches(o, namespace, q.labelSelector, q.fieldSelector))
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([, o]) => o);
      snap = { id: ++this.snapshotSeq, rv: this.rv, items: entries };
    }
    const limit = Number(q.limit) > 0 ? Number(q.limit) : snap.items.length;
    const page = snap.items.slice(offset, offset + limit);
    const metadata: Record<string, unknown> = { resourceVersion: String(snap.rv) };
    const rest = snap.items.length - offset - page.length;
    if (rest > 0) {
      this.snapshots.set(snap.id, snap);
      if (this.snapshots.size > 32) this.snapshots.delete(this.snapshots.keys().next().value as number);
      metadata.continue = Buffer.from(JSON.stringify({ id: snap.id, rv: snap.rv, offset: offset + page.length })).toString('base64url');
      metadata.remainingItemCount = rest;
    } else {
      this.snapshots.delete(snap.id);
    }
    // Items in a real list carry neither kind nor apiVersion.
    const items = page.map((o) => { const { kind: _k, apiVersion: _a, ...fields } = o; return fields; });
    return { status: 200, body: { kind: `${res.kind}List`, apiVersion: apiVersionOf(res), metadata, items } };
  }

  private watch(res: ServedResource, namespace: string | undefined, q: Record<string, string>, req: IncomingMessage, response: ServerResponse): void {
    response.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
    const w: OpenWatch = { res, namespace, labelSelector: q.labelSelector, fieldSelector: q.fieldSelector, bookmarks: q.allowWatchBookmarks === 'true', response, socket: req.socket };
    const from = q.resourceVersion;
    if (from && from !== '0' && Number(from) < this.compactedRv) {
      response.end(JSON.stringify({ type: 'ERROR', object: goneStatus(`too old resource version: ${from} (${this.compactedRv})`) }) + '\n');
      return;
    }
    if (!from || from === '0') {
      for (const o of this.stores.get(res)!.values()) if (this.matches(o, namespace, w.labelSelector, w.fieldSelector)) this.writeEvent(w, 'ADDED', o);
    } else {
      const after = Number(from);
      for (const h of this.history) if (h.rv > after && h.res === res && this.matches(h.obj, namespace, w.labelSelector, w.fieldSelector)) this.writeEvent(w, h.type, h.obj);
    }
    this.watches.add(w);
    if (w.bookmarks && this.opts.bookmarkIntervalMs) w.timer = setInterval(() => this.writeBookmark(w), this.opts.bookmarkIntervalMs);
    const timeout = Number(q.timeoutSeconds);
    if (timeout > 0) setTimeout(() => { if (this.watches.has(w)) this.closeWatch(w); }, timeout * 1000).unref();
    const forget = (): void => { this.watches.delete(w); clearInterval(w.timer); };
    req.on('close', forget);
    response.on('close', forget);
  }

  private closeWatch(w: OpenWatch): void {
    this.watches.delete(w);
    clearInterval(w.timer);
    w.response.end();
  }

  private writeEvent(w: OpenWatch, type: string, obj: KubeObject): void {
    w.response.write(JSON.stringify({ type, object: obj }) + '\n');
  }

  private writeBookmark(w: OpenWatch): void {
    this.writeEvent(w, 'BOOKMARK', { kind: w.res.kind, apiVersion: apiVersionOf(w.res), metadata: { name: '', resourceVersion: String(this.rv) } });
  }

  private record(type: HistoryEntry['type'], res: ServedResource, obj: KubeObject): void {
    this.history.push({ rv: Number(obj.metadata.resourceVersion), res, type, obj });
    const limit = this.opts.historyLimit ?? 100_000;
    if (this.history.length > limit) {
      const cut = this.history.length - limit;
      this.compactedRv = this.history[cut - 1].rv;
      this.history = this.history.slice(cut);
    }
    for (const w of this.watches) if (w.res === res && this.matches(obj, w.namespace, w.labelSelector, w.fieldSelector)) this.writeEvent(w, type, obj);
  }

  private stamp(obj: KubeObject, res: ServedResource, isNew: boolean): KubeObject {
    obj.apiVersion = apiVersionOf(res);
    obj.kind = res.kind;
    if (!res.namespaced) delete obj.metadata.namespace;
    if (isNew) {
      obj.metadata.uid ??= `00000000-0000-4000-8000-${(++this.uidSeq).toString(16).padStart(12, '0')}`;
      obj.metadata.creationTimestamp ??= new Date().toISOString().replace(/\.\d+Z$/, 'Z');
      obj.metadata.generation ??= 1;
      // Like the real allocator: a Service without a cluster IP gets one (headless 'None' stays).
      if (res.kind === 'Service') {
        obj.spec ??= {};
        if (!obj.spec.clusterIP) { const n = ++this.serviceIpSeq; obj.spec.clusterIP = `10.96.${(n >> 8) & 255}.${n & 255}`; obj.spec.clusterIPs = [obj.spec.clusterIP]; }
      }
    }
    obj.metadata.resourceVersion = String(++this.rv);
    return obj;
  }

  private resourceOf(obj: { apiVersion?: string; kind?: string }): ServedResource {
    const av = obj.apiVersion ?? '';
    const [group, version] = av.includes('/') ? av.split('/') : ['', av];
    const r = SERVED.find((s) => s.kind === obj.kind && s.group === group && s.version === version)
      // Old fixtures carry retired API versions (extensions/v1beta1 …): map them by kind.
      ?? SERVED.find((s) => s.kind === obj.kind && (obj.kind !== 'Event' || s.group === ''));
    if (!r) throw new Error(`the double does not serve ${av} ${obj.kind}`);
    return r;
  }

  private matches(o: KubeObject, namespace: string | undefined, labelSelector?: string, fieldSelector?: string): boolean {
    if (namespace && o.metadata.namespace !== namespace) return false;
    if (labelSelector && !matchesLabelSelector(o.metadata.labels ?? {}, labelSelector)) return false;
    if (fieldSelector && !matchesFieldSelector(o, fieldSelector)) return false;
    return true;
  }
}

function objKey(o: KubeObject): string { return `${o.metadata.namespace ?? ''}/${o.metadata.name}`; }

function status(code: number, reason: string, message: string, st = 'Failure'): Record<string, unknown> {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: st, message, reason, code };
}

function goneStatus(message: string): Record<string, unknown> { return status(410, 'Expired', message); }

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}
