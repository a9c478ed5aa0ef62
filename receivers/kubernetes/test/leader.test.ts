import * as assert from 'node:assert/strict';
import { DoubleHarness } from '../src/testing/harness';
import { derived, eventually, startReceiver, type Running } from './helpers';

describe('kubernetes receiver: leader election through a Lease', function () {
  this.timeout(30_000);
  let h: DoubleHarness;
  const running: Running[] = [];
  beforeEach(async () => { h = await DoubleHarness.start(); });
  afterEach(async () => { for (const r of running.splice(0)) await r.stop(); await h.stop(); });

  const le = (identity: string): Record<string, unknown> => ({
    leader_election: { enabled: true, identity, lease_namespace: 'kube-system', lease_duration: '1s', renew_deadline: '800ms', retry_period: '100ms' },
  });
  const pod = (name: string): Record<string, unknown> => ({
    apiVersion: 'v1', kind: 'Pod', metadata: { name },
    spec: { containers: [{ name: 'app', image: 'x' }] },
    status: { phase: 'Running', containerStatuses: [{ name: 'app', restartCount: 0, state: { waiting: { reason: 'CrashLoopBackOff', message: 'back-off' } } }] },
  });

  it('only the leader emits; the other keeps its topology and takes over when the leader leaves', async () => {
    const a = await startReceiver(h, le('replica-a'));
    running.push(a);
    await eventually(() => a.receiver.isLeader, 'a leads');
    const b = await startReceiver(h, le('replica-b'));
    running.push(b);
    await h.create(pod('p1') as never);
    await eventually(() => derived(a.sink.events, 'CrashLoopBackOff', 'p1').length === 1, 'leader emits');
    await eventually(() => b.topology.podByName(h.namespace, 'p1') !== undefined, 'follower indexes');
    assert.equal(b.receiver.isLeader, false);
    assert.equal(b.sink.events.length, 0, 'the follower emits nothing');
    const lease = h.double!.get('coordination.k8s.io/v1', 'Lease', 'kube-system', 'tapio-kubernetes');
    assert.equal(lease?.spec.holderIdentity, 'replica-a');

    await a.stop();
    running.splice(running.indexOf(a), 1);
    await eventually(() => b.receiver.isLeader, 'b takes over', 10_000);
    await h.create(pod('p2') as never);
    await eventually(() => derived(b.sink.events, 'CrashLoopBackOff', 'p2').length === 1, 'new leader emits');
    assert.equal(derived(b.sink.events, 'CrashLoopBackOff', 'p1').length, 0, 'what the old leader reported is not repeated');
  });
});
