import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';

/**
 * A small double of the Kubernetes API server: one deployment `prod/payment` (revision 2,
 * image payment:2.1.0) with two ReplicaSets (revisions 1 and 2). Records every write.
 */
export class KubeDouble {
  readonly writes: { method: string; path: string; body: any }[] = [];
  private server: http.Server;
  replicas = 2;
  deployment: any = {
    apiVersion: 'apps/v1', kind: 'Deployment',
    metadata: { name: 'payment', namespace: 'prod', uid: 'dep-uid-1', resourceVersion: '100', annotations: { 'deployment.kubernetes.io/revision': '2' } },
    spec: {
      replicas: 2, selector: { matchLabels: { app: 'payment' } },
      template: { metadata: { labels: { app: 'payment' } }, spec: { containers: [{ name: 'payment', image: 'registry.local/payment:2.1.0', resources: { limits: { memory: '2Gi' } } }] } },
    },
  };

  constructor() {
    this.server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c) => { body += c; });
      req.on('end', () => this.handle(req, res, body));
    });
  }

  private rs(revision: number, image: string) {
    return {
      metadata: {
        name: `payment-${revision}abc`, namespace: 'prod', annotations: { 'deployment.kubernetes.io/revision': String(revision) },
        ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'payment', uid: 'dep-uid-1' }],
      },
      spec: {
        selector: { matchLabels: { app: 'payment' } },
        template: { metadata: { labels: { app: 'payment', 'pod-template-hash': `h${revision}` } }, spec: { containers: [{ name: 'payment', image, resources: { limits: { memory: '2Gi' } } }] } },
      },
    };
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse, body: string): void {
    const url = new URL(req.url ?? '/', 'http://x');
    const send = (code: number, obj: unknown) => { res.writeHead(code, { 'content-type': 'application/json' }); res.end(JSON.stringify(obj)); };
    const base = '/apis/apps/v1/namespaces/prod';
    if (req.method !== 'GET') this.writes.push({ method: req.method!, path: url.pathname, body: body ? JSON.parse(body) : undefined });
    if (url.pathname === `${base}/deployments/payment/scale`) {
      if (req.method === 'GET') return send(200, { apiVersion: 'autoscaling/v1', kind: 'Scale', metadata: { name: 'payment', namespace: 'prod', resourceVersion: '100' }, spec: { replicas: this.replicas }, status: { replicas: this.replicas } });
      if (req.method === 'PUT') { this.replicas = JSON.parse(body).spec.replicas; return send(200, JSON.parse(body)); }
    }
    if (url.pathname === `${base}/deployments/payment`) {
      if (req.method === 'GET') return send(200, this.deployment);
      if (req.method === 'PUT') { this.deployment = JSON.parse(body); return send(200, this.deployment); }
    }
    if (url.pathname === `${base}/replicasets` && req.method === 'GET') {
      return send(200, { apiVersion: 'apps/v1', kind: 'ReplicaSetList', metadata: {}, items: [this.rs(1, 'registry.local/payment:2.0.3'), this.rs(2, 'registry.local/payment:2.1.0')] });
    }
    send(404, { kind: 'Status', apiVersion: 'v1', status: 'Failure', message: `${url.pathname} not found`, reason: 'NotFound', code: 404 });
  }

  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
  }

  get url(): string { return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`; }

  /** A kubeconfig pointing at the double (plain HTTP needs insecure-skip-tls-verify with client-node). */
  writeKubeconfig(dir: string): string {
    const file = path.join(dir, 'kubeconfig');
    fs.writeFileSync(file, [
      'apiVersion: v1', 'kind: Config', 'current-context: double',
      'clusters:', '- name: double', '  cluster:', `    server: ${this.url}`, '    insecure-skip-tls-verify: true',
      'contexts:', '- name: double', '  context: {cluster: double, user: tester}',
      'users:', '- name: tester', '  user: {token: not-a-real-token}',
    ].join('\n'));
    return file;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => { this.server.close(() => resolve()); this.server.closeAllConnections(); });
  }
}
