import * as assert from 'node:assert/strict';
import type { KubeObject } from '../src/kinds';
import { hasK8sObjects, loadFixture } from '../src/testing/fixtures';
import { openHarness, type ClusterHarness } from '../src/testing/harness';
import { derived, eventually, settle, startReceiver, type Running } from './helpers';

// Runs against the API server double, or a real cluster with TAPIO_K8S_TEST_REAL=1 KUBECONFIG=… (see README).
describe('kubernetes receiver: derived events, rollouts, Events, topology', function () {
  this.timeout(30_000);
  let h: ClusterHarness;
  let r: Running | undefined;

  before(function () { if (!hasK8sObjects()) this.skip(); });
  beforeEach(async () => { h = await openHarness(); });
  afterEach(async () => { await r?.stop(); r = undefined; await h?.stop(); });

  it('derives OOMKilled, CrashLoopBackOff, ImagePullBackOff, Evicted and Pending from the shared Pod fixtures, each once', async function () {
    if (!hasK8sObjects()) this.skip();
    r = await startReceiver(h);
    const cases: { file: string; reason: string; check?: (e: NonNullable<ReturnType<typeof derived>[number]>) => void }[] = [
      { file: 'Pod/oomkilled-old.yaml', reason: 'OOMKilled', check: (e) => { assert.equal(e.k8s!.exitCode, 1); assert.equal(e.k8s!.containerName, 'oomkilled'); assert.equal(e.resource['k8s.container.name'], 'oomkilled'); } },
      { file: 'Pod/crashloopbackoff.yaml', reason: 'CrashLoopBackOff', check: (e) => assert.equal(e.k8s!.containerName, 'main') },
      { file: 'Pod/pod-imagepullbackoff.yaml', reason: 'ImagePullBackOff', check: (e) => assert.equal(e.k8s!.containerName, 'errimagepullbackoff') },
      { file: 'Pod/evicted.yaml', reason: 'Evicted', check: (e) => assert.match(String(e.k8s!.message), /low on resource: memory/) },
      { file: 'Pod/pod-pending.yaml', reason: 'PodPending', check: (e) => assert.equal(e.k8s!.pendingReason, 'PodInitializing') },
    ];
    const created: KubeObject[] = [];
    for (const c of cases) created.push(await h.create(loadFixture(c.file)));
    await eventually(() => cases.every((c, i) => derived(r!.sink.events, c.reason, created[i].metadata.name).length > 0), 'all derived events');
    // The OOMKilled pod moves on through its recorded timeline: same termination, no repeat.
    await h.update(loadFixture('Pod/oomkilled-unhealthy.yaml'));
    await h.update(loadFixture('Pod/oomkilled-warning.yaml'));
    // ErrImagePull and ImagePullBackOff alternate while a pull keeps failing: still one failure.
    const pull = loadFixture('Pod/pod-imagepullbackoff.yaml');
    pull.status.containerStatuses[0].state.waiting.reason = 'ErrImagePull';
    await h.update(pull);
    await settle(r.sink);
    for (const [i, c] of cases.entries()) {
      const got = derived(r.sink.events, c.reason, created[i].metadata.name);
      assert.equal(got.length, 1, `${c.file}: one ${c.reason}, got ${got.length}`);
      const e = got[0];
      assert.equal(e.kind, 'k8s');
      assert.equal(e.entity?.kind, 'pod');
      assert.equal(e.entity?.uid, created[i].metadata.uid);
      assert.equal(e.resource['k8s.pod.name'], created[i].metadata.name);
      assert.equal(e.resource['k8s.namespace.name'], h.namespace);
      assert.equal(e.k8s!.objectKind, 'Pod');
      assert.ok(e.k8s!.resourceVersion, 'carries the object resourceVersion');
      c.check?.(e);
    }
    // The readiness flip in the OOM timeline is its own event.
    assert.equal(derived(r.sink.events, 'PodNotReady', 'oomkilled-pod').length, 1);
  });

  it('reports a restart count increase with the last termination', async () => {
    r = await startReceiver(h);
    const pod = loadFixture('Pod/crashloopbackoff.yaml');
    await h.create(pod);
    pod.status.containerStatuses[0].restartCount = 4;
    await h.update(pod);
    await eventually(() => derived(r!.sink.events, 'ContainerRestarted').length > 0, 'restart event');
    const [e] = derived(r.sink.events, 'ContainerRestarted');
    assert.equal(e.k8s!.restartCount, 4);
    assert.equal(e.k8s!.previousRestartCount, 3);
    assert.equal(e.k8s!.lastTerminationReason, 'Error');
  });

  it('skips what happened before the start but reports the state objects are in', async () => {
    await h.create(loadFixture('Pod/crashloopbackoff.yaml'));
    r = await startReceiver(h);
    await settle(r.sink);
    assert.equal(derived(r.sink.events, 'CrashLoopBackOff', 'my-pod').length, 1, 'current state is reported');
    assert.equal(derived(r.sink.events, 'Error', 'my-pod').length, 0, 'a termination from 2018 is history');
  });

  it('turns a Deployment image change into one rollout event with old and new image', async () => {
    r = await startReceiver(h);
    const dep = loadFixture('Deployment/healthy.yaml');
    await h.create(dep);
    await settle(r.sink);
    const next = structuredClone(dep);
    next.spec.template.spec.containers[0].image = 'nginx:1.9.1';
    await h.update(next);
    await eventually(() => derived(r!.sink.events, 'RolloutStarted').length > 0, 'rollout event');
    await settle(r.sink);
    const rollouts = derived(r.sink.events, 'RolloutStarted');
    assert.equal(rollouts.length, 1);
    const e = rollouts[0];
    assert.equal(e.k8s!.oldImage, 'nginx:1.7.9');
    assert.equal(e.k8s!.newImage, 'nginx:1.9.1');
    assert.equal(e.k8s!.containerName, 'nginx');
    assert.equal(e.entity?.kind, 'deployment');
    assert.equal(e.resource['k8s.deployment.name'], 'nginx-deployment');
    assert.ok(Number(e.k8s!.newGeneration) > Number(e.k8s!.oldGeneration));
  });

  it('turns Kubernetes Events into k8s events and skips those from before the start', async () => {
    r = await startReceiver(h);
    const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    const old = new Date(Date.now() - 3_600_000).toISOString().replace(/\.\d+Z$/, 'Z');
    const mk = (name: string, reason: string, t: string, count: number): KubeObject => ({
      apiVersion: 'v1', kind: 'Event', metadata: { name },
      involvedObject: { kind: 'Pod', name: 'payment-1', namespace: h.namespace, uid: 'pod-uid-1', fieldPath: 'spec.containers{app}' },
      reason, message: `${reason} happened`, type: 'Warning', count, firstTimestamp: t, lastTimestamp: t, source: { component: 'kubelet', host: 'node-1' },
    });
    await h.create(mk('payment-1.old', 'FailedMount', old, 1));
    await h.create(mk('payment-1.new', 'BackOff', now, 5));
    await eventually(() => r!.sink.events.some((e) => e.k8s?.reason === 'BackOff'), 'the new event');
    await settle(r.sink);
    const events = r.sink.events.filter((e) => e.k8s?.derived === false);
    assert.deepEqual(events.map((e) => e.k8s!.reason), ['BackOff']);
    const e = events[0];
    assert.equal(e.severity, 'warn');
    assert.equal(e.k8s!.count, 5);
    assert.equal(e.k8s!.lastTimestamp, now);
    assert.equal(e.k8s!.containerName, 'app');
    assert.deepEqual(e.entity, { kind: 'pod', name: 'payment-1', namespace: h.namespace, uid: 'pod-uid-1' });
    assert.equal(e.resource['k8s.node.name'], 'node-1');
    assert.equal(e.resource['k8s.container.name'], 'app');
  });

  it('resolves container id → pod → ReplicaSet → Deployment and pod IP / service IP → Service', async () => {
    r = await startReceiver(h);
    const dep = await h.create({
      apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'payment', labels: { app: 'payment' } },
      spec: { replicas: 1, selector: { matchLabels: { app: 'payment' } }, template: { metadata: { labels: { app: 'payment' } }, spec: { containers: [{ name: 'app', image: 'payment:1' }] } } },
    });
    const rs = await h.create({
      apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: { name: 'payment-7d8f9', labels: { app: 'payment' }, ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'payment', uid: dep.metadata.uid, controller: true }] },
      spec: { replicas: 1, selector: { matchLabels: { app: 'payment' } }, template: { metadata: { labels: { app: 'payment' } }, spec: { containers: [{ name: 'app', image: 'payment:1' }] } } },
    });
    const containerId = 'containerd://4f6c1d0e9b7a5c3e1f2d4b6a8c0e2f4d6b8a0c2e4f6d8b0a2c4e6f8d0b2a4c6e';
    await h.create({
      apiVersion: 'v1', kind: 'Pod', metadata: { name: 'payment-7d8f9-abcde', labels: { app: 'payment' }, ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'payment-7d8f9', uid: rs.metadata.uid, controller: true }] },
      spec: { containers: [{ name: 'app', image: 'payment:1' }] },
      status: { phase: 'Running', podIP: '10.244.1.17', containerStatuses: [{ name: 'app', ready: true, restartCount: 0, containerID: containerId, image: 'payment:1', state: { running: { startedAt: new Date().toISOString() } } }] },
    });
    const svc = await h.create({
      apiVersion: 'v1', kind: 'Service', metadata: { name: 'payment' },
      spec: { selector: { app: 'payment' }, ports: [{ port: 80, targetPort: 8080, protocol: 'TCP' }], ...(h.double ? { clusterIP: '10.96.0.42' } : {}) },
    });
    await h.create({
      apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', metadata: { name: 'payment-x1', labels: { 'kubernetes.io/service-name': 'payment' } },
      addressType: 'IPv4', endpoints: [{ addresses: ['10.244.1.17'] }], ports: [{ port: 8080, protocol: 'TCP' }],
    });
    const topo = r.topology;
    await eventually(() => topo.podByContainerId(containerId) !== undefined && topo.serviceByAddress('10.244.1.17', 8080) !== undefined, 'topology');
    const pod = topo.podByContainerId(containerId.replace('containerd://', ''))!;
    assert.equal(pod.name, 'payment-7d8f9-abcde');
    assert.deepEqual(pod.owners, [{ kind: 'ReplicaSet', name: 'payment-7d8f9' }, { kind: 'Deployment', name: 'payment' }]);
    assert.deepEqual(pod.workload, { kind: 'Deployment', name: 'payment' });
    assert.deepEqual(pod.services, ['payment']);
    assert.equal(topo.podByIp('10.244.1.17')?.name, 'payment-7d8f9-abcde');
    assert.equal(topo.serviceByAddress('10.244.1.17', 8080)?.name, 'payment');
    assert.equal(topo.serviceByAddress(svc.spec.clusterIP, 80)?.name, 'payment');
    assert.equal(topo.podsOnNode(pod.nodeName!).length, 1);
    // Deleting the pod takes it out of every index.
    await h.delete({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'payment-7d8f9-abcde' } });
    await eventually(() => topo.podByContainerId(containerId) === undefined, 'pod removal');
    assert.equal(topo.podByIp('10.244.1.17'), undefined);
  });
});
