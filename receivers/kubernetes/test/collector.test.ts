import * as assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Collector, createEvent, createLogger, defineExporter, type AnyFactory, type UnifiedEvent } from '@tapio/core';
import { resolveYaml, testReceiverFactory, testReceivers } from '@tapio/core/testing';
import factory from '../src/index';
import { hasK8sObjects, loadFixture } from '../src/testing/fixtures';
import { openHarness, type ClusterHarness } from '../src/testing/harness';
import { eventually } from './helpers';

const captured: UnifiedEvent[] = [];
const captureExporter = defineExporter<Record<string, never>>({
  type: 'capture',
  stability: 'development',
  configSchema: { type: 'object', additionalProperties: false, properties: {} },
  create: () => ({ start: async () => undefined, shutdown: async () => undefined, consume: async (batch) => { captured.push(...batch.events); } }),
});

/** Other engineers' processors, when they are built; the test skips (saying why) when they are not. */
function optionalFactory(pkg: string): AnyFactory | undefined {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return (require(pkg) as { default: AnyFactory }).default;
  } catch {
    return undefined;
  }
}

const DERIVED_RULES = path.resolve(__dirname, '../../rules/derived.yaml');

describe('kubernetes receiver in a collector with unifiedevent and semantic', function () {
  this.timeout(30_000);
  let h: ClusterHarness;
  let dir: string;
  let collector: Collector | undefined;
  const semantic = optionalFactory('@tapio/processor-semantic');
  const unifiedevent = optionalFactory('@tapio/processor-unifiedevent');

  before(function () {
    if (!hasK8sObjects()) this.skip();
    if (!semantic || !unifiedevent) {
      // eslint-disable-next-line no-console
      console.log('      (skipped: build processors/semantic and processors/unifiedevent first: npx tsc -b processors/semantic processors/unifiedevent)');
      this.skip();
    }
  });
  beforeEach(async () => {
    captured.length = 0;
    h = await openHarness();
    dir = mkdtempSync(path.join(tmpdir(), 'tapio-k8s-collector-'));
    writeFileSync(path.join(dir, 'kubeconfig'), h.kubeconfigText);
  });
  afterEach(async () => {
    await collector?.shutdown();
    collector = undefined;
    await h.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  async function startCollector(): Promise<Collector> {
    const { config, issues } = resolveYaml(`
receivers:
  kubernetes:
    kubeconfig: ${JSON.stringify(path.join(dir, 'kubeconfig'))}
    namespaces: [${h.namespace}]
    retry_on_failure: { initial_interval: 20ms, max_interval: 200ms }
  testpush: {}
processors:
  unifiedevent: {}
  semantic:
    rules_files: [${JSON.stringify(DERIVED_RULES)}]
exporters:
  capture: {}
service:
  telemetry:
    metrics:
      address: localhost:0
  pipelines:
    events:
      receivers: [kubernetes, testpush]
      processors: [unifiedevent, semantic]
      exporters: [capture]
`, [factory, testReceiverFactory, unifiedevent!, semantic!, captureExporter]);
    assert.deepEqual(issues, []);
    const c = new Collector({ logger: createLogger('silent') });
    await c.start(config!);
    return c;
  }

  it('semantic tags the derived OOMKilled, CrashLoopBackOff, ImagePullBackOff, Evicted and Pending events', async () => {
    collector = await startCollector();
    const expected: Record<string, string> = {
      'Pod/oomkilled-old.yaml': 'oom_kill',
      'Pod/crashloopbackoff.yaml': 'crash_loop',
      'Pod/pod-imagepullbackoff.yaml': 'image_pull_failure',
      'Pod/evicted.yaml': 'eviction',
      'Pod/pod-pending.yaml': 'scheduling_failure',
    };
    const reasonOf: Record<string, string> = { oom_kill: 'OOMKilled', crash_loop: 'CrashLoopBackOff', image_pull_failure: 'ImagePullBackOff', eviction: 'Evicted', scheduling_failure: 'PodPending' };
    const names: Record<string, string> = {};
    for (const file of Object.keys(expected)) names[file] = (await h.create(loadFixture(file))).metadata.name;
    const find = (file: string): UnifiedEvent[] => captured.filter((e) => e.k8s?.derived && e.entity?.name === names[file] && e.k8s.reason === reasonOf[expected[file]]);
    await eventually(() => Object.keys(expected).every((f) => find(f).length > 0), 'derived events through the pipeline', 10_000);
    for (const [file, intent] of Object.entries(expected)) {
      const got = find(file);
      assert.equal(got.length, 1, file);
      assert.equal(got[0].semantic?.intent, intent, `${file}: ${JSON.stringify(got[0].semantic)}`);
      assert.ok(got[0].semantic!.narrative.includes(names[file]), `narrative names the pod: ${got[0].semantic!.narrative}`);
    }
  });

  it('unifiedevent resolves a kernel event by container id and a connection by IP:port through the topology', async () => {
    collector = await startCollector();
    const dep = await h.create({
      apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'payment' },
      spec: { selector: { matchLabels: { app: 'payment' } }, template: { metadata: { labels: { app: 'payment' } }, spec: { containers: [{ name: 'app', image: 'payment:1' }] } } },
    });
    const rs = await h.create({
      apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: { name: 'payment-7d8f9', ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'payment', uid: dep.metadata.uid, controller: true }] },
      spec: { selector: { matchLabels: { app: 'payment' } }, template: { metadata: { labels: { app: 'payment' } }, spec: { containers: [{ name: 'app', image: 'payment:1' }] } } },
    });
    const cid = 'a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90';
    await h.create({
      apiVersion: 'v1', kind: 'Pod', metadata: { name: 'payment-7d8f9-xyz12', labels: { app: 'payment' }, ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'payment-7d8f9', uid: rs.metadata.uid, controller: true }] },
      spec: { containers: [{ name: 'app', image: 'payment:1' }] },
      status: { phase: 'Running', podIP: '10.244.3.9', containerStatuses: [{ name: 'app', ready: true, restartCount: 0, containerID: `containerd://${cid}`, state: { running: {} } }] },
    });
    await h.create({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'payment' }, spec: { selector: { app: 'payment' }, ports: [{ port: 80, targetPort: 8080 }] } });
    await h.create({
      apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', metadata: { name: 'payment-a', labels: { 'kubernetes.io/service-name': 'payment' } },
      addressType: 'IPv4', endpoints: [{ addresses: ['10.244.3.9'] }], ports: [{ port: 8080 }],
    });
    // The watches fill the topology asynchronously: send the kernel event (as the eBPF receiver
    // would) until unifiedevent can resolve it, then the connection.
    const push = testReceivers.get('testpush')!;
    const kernelDone = (e: UnifiedEvent): boolean => e.kind === 'kernel' && e.resource['k8s.deployment.name'] !== undefined;
    const netDone = (e: UnifiedEvent): boolean => e.kind === 'network' && e.attributes['tapio.peer.service'] !== undefined;
    for (let i = 0; i < 100 && !(captured.some(kernelDone) && captured.some(netDone)); i++) {
      await push.push({ events: [
        createEvent({ kind: 'kernel', source: 'ebpf', resource: { 'container.id': cid }, kernel: { event: 'oom_kill', pid: 4242, comm: 'java' } }),
        createEvent({ kind: 'network', source: 'ebpf', resource: {}, network: { event: 'connection_refused', dstAddr: '10.244.3.9', dstPort: 8080 } }),
      ] });
      await new Promise((r) => setTimeout(r, 50));
    }
    const kernel = captured.filter((e) => e.kind === 'kernel').pop()!;
    const net = captured.filter((e) => e.kind === 'network').pop()!;
    assert.equal(kernel.resource['k8s.pod.name'], 'payment-7d8f9-xyz12');
    assert.equal(kernel.resource['k8s.namespace.name'], h.namespace);
    assert.equal(kernel.resource['k8s.deployment.name'], 'payment');
    assert.equal(net.attributes['tapio.peer.service'], 'payment');
    assert.equal(net.attributes['tapio.peer.pod'], 'payment-7d8f9-xyz12');
  });
});
