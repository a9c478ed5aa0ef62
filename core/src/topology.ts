/**
 * The Kubernetes topology contract. The kubernetes receiver registers an implementation with
 * `host.registerService(TOPOLOGY_SERVICE, …)`; unifiedevent and correlation look it up with
 * `host.getService(TOPOLOGY_SERVICE)` and work without it (static config, resource attributes).
 */
export const TOPOLOGY_SERVICE = 'k8s.topology';

export interface WorkloadRef { kind: 'Deployment' | 'StatefulSet' | 'DaemonSet' | 'Job' | 'CronJob' | 'ReplicaSet' | string; name: string }

export interface PodInfo {
  uid: string;
  name: string;
  namespace: string;
  nodeName?: string;
  ip?: string;
  labels: Record<string, string>;
  containers: { name: string; id?: string; image?: string }[];
  /** Owner chain from the pod upwards, e.g. [ReplicaSet payment-7d8f9, Deployment payment]. */
  owners: WorkloadRef[];
  /** The top of the owner chain (the workload an operator acts on). */
  workload?: WorkloadRef;
  /** Names of the Services whose selectors match this pod. */
  services: string[];
}

export interface ServiceInfo { name: string; namespace: string; clusterIP?: string; ports: { port: number; targetPort?: number | string; protocol?: string }[]; selector: Record<string, string> }

export interface TopologyService {
  podByContainerId(containerId: string): PodInfo | undefined;
  podByIp(ip: string): PodInfo | undefined;
  podByUid(uid: string): PodInfo | undefined;
  podByName(namespace: string, name: string): PodInfo | undefined;
  /** A Service by its cluster IP (optionally port), or the Service whose endpoints include ip:port. */
  serviceByAddress(ip: string, port?: number): ServiceInfo | undefined;
  /** Pods scheduled on a node. */
  podsOnNode(nodeName: string): PodInfo[];
}
