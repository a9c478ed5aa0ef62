import * as assert from 'node:assert/strict';
import { Deriver } from '../src/deriver';
import { podFacts } from '../src/derive/pod';
import { workloadFacts } from '../src/derive/workload';
import type { KubeObject } from '../src/kinds';
import { hasK8sObjects, loadFixture } from '../src/testing/fixtures';

function deriver(over: Partial<ConstructorParameters<typeof Deriver>[0]> = {}): Deriver {
  return new Deriver({ includeInitialState: true, includeBeforeStart: false, pendingThresholdMs: 60_000, startMs: Date.now(), now: () => Date.now(), ...over });
}
const reasons = (d: Deriver, kind: string, obj: KubeObject, old?: KubeObject, initial = false): string[] =>
  d.derive(kind, old ? 'MODIFIED' : 'ADDED', obj, old, initial).emit.map((e) => e.reason);

describe('derived events from object state', () => {
  before(function () { if (!hasK8sObjects()) this.skip(); });

  it('reports a node going NotReady, under memory pressure, and back', () => {
    const d = deriver();
    const healthy = loadFixture('Node/healthy.yaml');
    assert.deepEqual(reasons(d, 'Node', healthy), []);
    const notReady = loadFixture('Node/unhealthy.yaml');
    notReady.metadata.uid = healthy.metadata.uid; notReady.metadata.name = healthy.metadata.name;
    assert.deepEqual(reasons(d, 'Node', notReady, healthy), ['NodeNotReady']);
    assert.deepEqual(reasons(d, 'Node', notReady, notReady), [], 'no repeat while it holds');
    const pressure = loadFixture('Node/warning.yaml');
    pressure.metadata.uid = healthy.metadata.uid; pressure.metadata.name = healthy.metadata.name;
    assert.deepEqual(reasons(d, 'Node', pressure, notReady).sort(), ['NodeMemoryPressure', 'NodeReady']);
  });

  it('reports a failed rollout from the Deployment fixture', () => {
    const facts = workloadFacts(loadFixture('Deployment/progress-deadline-exceeded.yaml'));
    assert.deepEqual(facts.map((f) => f.reason), ['RolloutFailed']);
    assert.match(facts[0].message, /progress/i);
  });

  it('reports an unschedulable pod at once and a slow one only after the threshold', () => {
    const now = Date.now();
    const pod: KubeObject = {
      kind: 'Pod', metadata: { name: 'p', uid: 'u1', creationTimestamp: new Date(now - 5_000).toISOString() },
      status: { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: '0/3 nodes are available: 3 Insufficient cpu.' }] },
    };
    const facts = podFacts(pod, { pendingThresholdMs: 60_000, nowMs: now });
    assert.equal(facts.length, 1);
    assert.equal(facts[0].extra?.pendingReason, 'Unschedulable');
    assert.match(facts[0].message, /Insufficient cpu/);
    const slow: KubeObject = { kind: 'Pod', metadata: { name: 's', creationTimestamp: new Date(now - 5_000).toISOString() }, status: { phase: 'Pending', containerStatuses: [{ name: 'c', state: { waiting: { reason: 'ContainerCreating' } } }] } };
    assert.equal(podFacts(slow, { pendingThresholdMs: 60_000, nowMs: now }).length, 0, 'pending 5s is a normal start');
    assert.equal(podFacts(slow, { pendingThresholdMs: 60_000, nowMs: now + 120_000 })[0]?.extra?.pendingReason, 'ContainerCreating');
  });

  it('stays quiet about the state at start-up when include_initial_state is off', () => {
    const d = deriver({ includeInitialState: false });
    const pod = loadFixture('Pod/crashloopbackoff.yaml');
    assert.deepEqual(reasons(d, 'Pod', pod, undefined, true), []);
    const next = structuredClone(pod);
    next.status.containerStatuses[0].state = { running: {} };
    next.status.containerStatuses[0].restartCount = 4;
    assert.deepEqual(reasons(d, 'Pod', next, pod), ['ContainerRestarted']);
    assert.deepEqual(reasons(d, 'Pod', pod, next), ['CrashLoopBackOff'], 'a crash loop that comes back is news');
  });

  it('reports a terminated container with its exit code once, even as it moves from state to lastState', () => {
    const d = deriver();
    const pod = loadFixture('Pod/crashloopbackoff.yaml');
    const term = { exitCode: 137, reason: 'OOMKilled', containerID: 'containerd://abc', finishedAt: new Date().toISOString() };
    const running = structuredClone(pod);
    running.status.containerStatuses[0] = { name: 'main', restartCount: 3, state: { terminated: term } };
    assert.deepEqual(reasons(d, 'Pod', running), ['OOMKilled']);
    const restarted = structuredClone(running);
    restarted.status.containerStatuses[0] = { name: 'main', restartCount: 4, state: { running: {} }, lastState: { terminated: term } };
    assert.deepEqual(reasons(d, 'Pod', restarted, running), ['ContainerRestarted']);
  });
});
