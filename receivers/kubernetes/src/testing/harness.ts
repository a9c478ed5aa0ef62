import { readFileSync } from 'node:fs';
import { KubeApi, ApiError } from '../client';
import { collectionPath, type KubeObject } from '../kinds';
import { ApiServerDouble, type ApiServerDoubleOptions } from './apiserver';

/** A served kind → its REST coordinates (the harness writes a few more kinds than the receiver reads). */
const REST: Record<string, { group: string; version: string; resource: string; namespaced: boolean }> = {
  Pod: { group: '', version: 'v1', resource: 'pods', namespaced: true },
  Node: { group: '', version: 'v1', resource: 'nodes', namespaced: false },
  Service: { group: '', version: 'v1', resource: 'services', namespaced: true },
  Event: { group: '', version: 'v1', resource: 'events', namespaced: true },
  Namespace: { group: '', version: 'v1', resource: 'namespaces', namespaced: false },
  Deployment: { group: 'apps', version: 'v1', resource: 'deployments', namespaced: true },
  ReplicaSet: { group: 'apps', version: 'v1', resource: 'replicasets', namespaced: true },
  StatefulSet: { group: 'apps', version: 'v1', resource: 'statefulsets', namespaced: true },
  DaemonSet: { group: 'apps', version: 'v1', resource: 'daemonsets', namespaced: true },
  EndpointSlice: { group: 'discovery.k8s.io', version: 'v1', resource: 'endpointslices', namespaced: true },
  Lease: { group: 'coordination.k8s.io', version: 'v1', resource: 'leases', namespaced: true },
};

const API_VERSION: Record<string, string> = { apps: 'apps/v1', 'discovery.k8s.io': 'discovery.k8s.io/v1', 'coordination.k8s.io': 'coordination.k8s.io/v1', '': 'v1' };

/**
 * What the receiver's tests run against: the API server double, or a real cluster. Both are
 * written through the same REST calls (create, then the status subresource), so a test that does
 * not inject faults passes on either. `double` is set only for the double (fault-injection tests
 * skip without it).
 */
export interface ClusterHarness {
  readonly kubeconfigText: string;
  readonly api: KubeApi;
  /** Namespace test objects go to (namespaced fixtures are moved there). */
  readonly namespace: string;
  readonly double?: ApiServerDouble;
  /** Creates an object (and its status, when given); returns what the server stored. */
  create(obj: KubeObject): Promise<KubeObject>;
  /** Replaces spec/metadata and then status; returns the stored object. */
  update(obj: KubeObject): Promise<KubeObject>;
  delete(obj: KubeObject): Promise<void>;
  stop(): Promise<void>;
}

class RestHarness implements ClusterHarness {
  constructor(readonly kubeconfigText: string, readonly api: KubeApi, readonly namespace: string, readonly double: ApiServerDouble | undefined, private readonly cleanupNamespace: boolean) {}

  private place(obj: KubeObject): { path: string; body: KubeObject } {
    const rest = REST[obj.kind ?? ''];
    if (!rest) throw new Error(`harness cannot write kind ${obj.kind}`);
    const body = sanitize(obj);
    body.apiVersion = API_VERSION[rest.group];
    if (rest.namespaced) body.metadata.namespace = this.namespace;
    return { path: collectionPath(rest, rest.namespaced ? this.namespace : undefined), body };
  }

  async create(obj: KubeObject): Promise<KubeObject> {
    const { path, body } = this.place(obj);
    const status = body.status;
    let stored = await this.api.json<KubeObject>('POST', path, {}, body);
    if (status && REST[obj.kind!].resource !== 'events') {
      stored = await this.api.json<KubeObject>('PUT', `${path}/${encodeURIComponent(stored.metadata.name)}/status`, {}, { ...stored, status });
    }
    return stored;
  }

  async update(obj: KubeObject): Promise<KubeObject> {
    const { path, body } = this.place(obj);
    const url = `${path}/${encodeURIComponent(body.metadata.name)}`;
    const current = await this.api.json<KubeObject>('GET', url);
    const status = body.status;
    let stored = await this.api.json<KubeObject>('PUT', url, {}, { ...body, metadata: { ...body.metadata, resourceVersion: current.metadata.resourceVersion, uid: current.metadata.uid } });
    if (status) stored = await this.api.json<KubeObject>('PUT', `${url}/status`, {}, { ...stored, status });
    return stored;
  }

  async delete(obj: KubeObject): Promise<void> {
    const { path, body } = this.place(obj);
    try { await this.api.json('DELETE', `${path}/${encodeURIComponent(body.metadata.name)}`); } catch (err) { if (!(err instanceof ApiError) || err.code !== 404) throw err; }
  }

  async stop(): Promise<void> {
    if (this.cleanupNamespace) {
      try { await this.api.json('DELETE', `/api/v1/namespaces/${this.namespace}`); } catch { /* best effort */ }
    }
    await this.double?.stop();
  }
}

/** Removes what a client may not send (server-set metadata) and what a test cluster cannot satisfy. */
function sanitize(obj: KubeObject): KubeObject {
  const o = structuredClone(obj);
  const { name, labels, annotations, ownerReferences, generateName } = o.metadata;
  o.metadata = { name, ...(labels ? { labels } : {}), ...(annotations ? { annotations } : {}), ...(ownerReferences ? { ownerReferences } : {}), ...(generateName ? { generateName } : {}) };
  if (o.kind === 'Pod' && o.spec) {
    // No kubelet may take these pods over: pin them to a node that does not exist; drop token volumes.
    o.spec.nodeName = process.env.TAPIO_K8S_TEST_NODE ?? 'tapio-test-node';
    delete o.spec.volumes;
    for (const c of [...(o.spec.containers ?? []), ...(o.spec.initContainers ?? [])]) delete c.volumeMounts;
  }
  return o;
}

/** The double, with a bearer token, on port 0. */
export class DoubleHarness extends RestHarness {
  static async start(opts: ApiServerDoubleOptions = {}): Promise<DoubleHarness> {
    const double = new ApiServerDouble({ token: 'tapio-test-token', bookmarkIntervalMs: 200, ...opts });
    await double.start();
    const text = double.kubeconfig();
    return new DoubleHarness(text, await KubeApi.fromKubeconfigText(text), 'tapio-test', double, false);
  }
}

/** A real cluster from $KUBECONFIG; objects go to a fresh namespace deleted at the end. */
export class RealClusterHarness extends RestHarness {
  static async start(): Promise<RealClusterHarness> {
    const file = process.env.KUBECONFIG;
    if (!file) throw new Error('TAPIO_K8S_TEST_REAL=1 needs KUBECONFIG pointing at a cluster');
    const text = readFileSync(file.split(':')[0], 'utf8');
    const api = await KubeApi.fromKubeconfigText(text);
    const namespace = `tapio-test-${Date.now().toString(36)}`;
    await api.json('POST', '/api/v1/namespaces', {}, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } });
    return new RealClusterHarness(text, api, namespace, undefined, true);
  }
}

/** The double, or a real cluster when TAPIO_K8S_TEST_REAL=1 (and KUBECONFIG is set). */
export function openHarness(opts: ApiServerDoubleOptions = {}): Promise<ClusterHarness> {
  return process.env.TAPIO_K8S_TEST_REAL === '1' ? RealClusterHarness.start() : DoubleHarness.start(opts);
}
