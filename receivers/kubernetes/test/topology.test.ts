import * as assert from 'node:assert/strict';
import { TopologyCache } from '../src/topology';
import type { KubeObject } from '../src/kinds';

const pod = (name: string, ip: string, cid: string, extra: Partial<KubeObject> = {}): KubeObject => ({
  kind: 'Pod', metadata: { name, namespace: 'shop', uid: `uid-${name}`, labels: { app: name.split('-')[0] } },
  spec: { nodeName: 'node-1', containers: [{ name: 'app', image: 'img:1' }] },
  status: { podIP: ip, containerStatuses: [{ name: 'app', containerID: `docker://${cid}` }] },
  ...extra,
});

describe('topology cache', () => {
  it('gives a reused pod IP to the newest pod and forgets the old one on delete', () => {
    const t = new TopologyCache();
    t.apply('Pod', 'ADDED', pod('web-1', '10.0.0.5', 'c1'));
    t.apply('Pod', 'ADDED', pod('web-2', '10.0.0.5', 'c2'));
    assert.equal(t.podByIp('10.0.0.5')?.name, 'web-2');
    t.apply('Pod', 'DELETED', pod('web-1', '10.0.0.5', 'c1'));
    assert.equal(t.podByIp('10.0.0.5')?.name, 'web-2', 'deleting the old pod keeps the new owner of the IP');
    assert.equal(t.podByContainerId('c1'), undefined);
    assert.equal(t.podByContainerId('docker://c2')?.name, 'web-2');
  });

  it('does not index host-network pods by the node IP', () => {
    const t = new TopologyCache();
    t.apply('Pod', 'ADDED', pod('agent-1', '192.168.1.10', 'c9', { spec: { hostNetwork: true, nodeName: 'node-1', containers: [] } }));
    assert.equal(t.podByIp('192.168.1.10'), undefined);
    assert.equal(t.podByName('shop', 'agent-1')?.ip, '192.168.1.10');
  });

  it('follows owner changes and service selector changes made after the pod was seen', () => {
    const t = new TopologyCache();
    t.apply('Pod', 'ADDED', pod('cart-abc', '10.0.0.7', 'c3', { metadata: { name: 'cart-abc', namespace: 'shop', uid: 'u3', labels: { app: 'cart' }, ownerReferences: [{ kind: 'ReplicaSet', name: 'cart-5f', controller: true }] } }));
    assert.deepEqual(t.podByUid('u3')?.owners, [{ kind: 'ReplicaSet', name: 'cart-5f' }]);
    t.apply('ReplicaSet', 'ADDED', { kind: 'ReplicaSet', metadata: { name: 'cart-5f', namespace: 'shop', ownerReferences: [{ kind: 'Deployment', name: 'cart', controller: true }] } });
    t.apply('Service', 'ADDED', { kind: 'Service', metadata: { name: 'cart', namespace: 'shop' }, spec: { clusterIP: '10.96.1.1', selector: { app: 'cart' }, ports: [{ port: 80 }] } });
    const p = t.podByIp('10.0.0.7')!;
    assert.deepEqual(p.workload, { kind: 'Deployment', name: 'cart' });
    assert.deepEqual(p.services, ['cart']);
    assert.equal(t.serviceByAddress('10.96.1.1', 80)?.name, 'cart');
    assert.equal(t.serviceByAddress('10.96.1.1', 81), undefined, 'cluster IP on a port the service does not expose');
    t.apply('Service', 'DELETED', { kind: 'Service', metadata: { name: 'cart', namespace: 'shop' } });
    assert.deepEqual(t.podByIp('10.0.0.7')!.services, []);
    assert.equal(t.serviceByAddress('10.96.1.1'), undefined);
  });

  it('is bounded: pods beyond max_pods are refused and counted', () => {
    const t = new TopologyCache({ maxPods: 2, maxObjects: 10 });
    for (let i = 0; i < 4; i++) t.apply('Pod', 'ADDED', pod(`p-${i}`, `10.0.1.${i}`, `id${i}`));
    assert.equal(t.size.pods, 2);
    assert.equal(t.refused, 2);
    assert.equal(t.podByIp('10.0.1.3'), undefined);
    t.apply('Pod', 'DELETED', pod('p-0', '10.0.1.0', 'id0'));
    t.apply('Pod', 'ADDED', pod('p-3', '10.0.1.3', 'id3'));
    assert.equal(t.podByIp('10.0.1.3')?.name, 'p-3', 'room again after a delete');
  });

  it('lists the pods on a node', () => {
    const t = new TopologyCache();
    t.apply('Pod', 'ADDED', pod('a-1', '10.0.2.1', 'x1'));
    t.apply('Pod', 'ADDED', pod('b-1', '10.0.2.2', 'x2'));
    assert.deepEqual(t.podsOnNode('node-1').map((p) => p.name).sort(), ['a-1', 'b-1']);
    assert.deepEqual(t.podsOnNode('node-2'), []);
  });
});
