/** The API resources the receiver (and the API server double) know about. */
export interface ResourceKind {
  /** Config key under `objects:` (also the REST plural). */
  key: ObjectKey;
  group: string; // '' for core
  version: string;
  resource: string; // REST plural
  kind: string;
  namespaced: boolean;
}

export type ObjectKey =
  | 'events' | 'events.k8s.io' | 'pods' | 'nodes' | 'deployments' | 'replicasets' | 'statefulsets' | 'daemonsets'
  | 'services' | 'endpointslices';

export const RESOURCE_KINDS: Readonly<Record<ObjectKey, ResourceKind>> = {
  events: { key: 'events', group: '', version: 'v1', resource: 'events', kind: 'Event', namespaced: true },
  'events.k8s.io': { key: 'events.k8s.io', group: 'events.k8s.io', version: 'v1', resource: 'events', kind: 'Event', namespaced: true },
  pods: { key: 'pods', group: '', version: 'v1', resource: 'pods', kind: 'Pod', namespaced: true },
  nodes: { key: 'nodes', group: '', version: 'v1', resource: 'nodes', kind: 'Node', namespaced: false },
  deployments: { key: 'deployments', group: 'apps', version: 'v1', resource: 'deployments', kind: 'Deployment', namespaced: true },
  replicasets: { key: 'replicasets', group: 'apps', version: 'v1', resource: 'replicasets', kind: 'ReplicaSet', namespaced: true },
  statefulsets: { key: 'statefulsets', group: 'apps', version: 'v1', resource: 'statefulsets', kind: 'StatefulSet', namespaced: true },
  daemonsets: { key: 'daemonsets', group: 'apps', version: 'v1', resource: 'daemonsets', kind: 'DaemonSet', namespaced: true },
  services: { key: 'services', group: '', version: 'v1', resource: 'services', kind: 'Service', namespaced: true },
  endpointslices: { key: 'endpointslices', group: 'discovery.k8s.io', version: 'v1', resource: 'endpointslices', kind: 'EndpointSlice', namespaced: true },
};

export const OBJECT_KEYS = Object.keys(RESOURCE_KINDS) as ObjectKey[];

export function apiVersionOf(k: { group: string; version: string }): string {
  return k.group ? `${k.group}/${k.version}` : k.version;
}

/** REST collection path, optionally scoped to one namespace. */
export function collectionPath(k: { group: string; version: string; resource: string; namespaced?: boolean }, namespace?: string): string {
  const base = k.group ? `/apis/${k.group}/${k.version}` : `/api/${k.version}`;
  return namespace && k.namespaced !== false ? `${base}/namespaces/${encodeURIComponent(namespace)}/${k.resource}` : `${base}/${k.resource}`;
}

/** Minimal shape of any Kubernetes object as it travels on the wire. */
export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata: {
    name: string;
    namespace?: string;
    uid?: string;
    resourceVersion?: string;
    generation?: number;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    ownerReferences?: { apiVersion?: string; kind: string; name: string; uid?: string; controller?: boolean }[];
    creationTimestamp?: string;
    deletionTimestamp?: string;
    [k: string]: unknown;
  };
  [field: string]: any;
}
