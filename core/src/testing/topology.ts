// Shared by component tests: an in-memory TopologyService and a realistic payment pod.
import type { PodInfo, ServiceInfo, TopologyService } from "../topology";

/** An in-memory TopologyService double, shaped like the Kubernetes receiver's cache. */
export class FakeTopology implements TopologyService {
  constructor(readonly pods: PodInfo[], readonly services: ServiceInfo[] = []) {}
  podByContainerId(id: string): PodInfo | undefined {
    return this.pods.find((p) => p.containers.some((c) => c.id === id || c.id?.endsWith('://' + id)));
  }
  podByIp(ip: string): PodInfo | undefined { return this.pods.find((p) => p.ip === ip); }
  podByUid(uid: string): PodInfo | undefined { return this.pods.find((p) => p.uid === uid); }
  podByName(ns: string, name: string): PodInfo | undefined { return this.pods.find((p) => p.namespace === ns && p.name === name); }
  serviceByAddress(ip: string, port?: number): ServiceInfo | undefined {
    return this.services.find((s) => s.clusterIP === ip && (port === undefined || s.ports.some((p) => p.port === port)));
  }
  podsOnNode(node: string): PodInfo[] { return this.pods.filter((p) => p.nodeName === node); }
}

export const PAYMENT_CONTAINER = 'a3f1c2d4e5b6a7980123456789abcdef0123456789abcdef0123456789abcdef';
export const PAYMENT_POD: PodInfo = {
  uid: '6b1f3c2e-8d4a-4f1b-9c3e-2a7d5e9f0b11',
  name: 'payment-7d8f9-x2k4q',
  namespace: 'prod',
  nodeName: 'node-a',
  ip: '10.1.4.17',
  labels: { app: 'payment' },
  containers: [{ name: 'payment', id: 'containerd://' + PAYMENT_CONTAINER, image: 'registry/payment:1.4.2' }],
  owners: [{ kind: 'ReplicaSet', name: 'payment-7d8f9' }, { kind: 'Deployment', name: 'payment' }],
  workload: { kind: 'Deployment', name: 'payment' },
  services: ['payment'],
};
export const POSTGRES_SVC: ServiceInfo = {
  name: 'postgres', namespace: 'prod', clusterIP: '10.96.0.40', ports: [{ port: 5432, targetPort: 5432, protocol: 'TCP' }], selector: { app: 'postgres' },
};
