import * as assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { PermanentError, RetryableError, type Batch } from '@tapio/core';
import { testContext, testHost, validConfig } from '@tapio/core/testing';
import factory from '../src/index';
import { KubernetesReceiver } from '../src/receiver';
import type { KubernetesReceiverConfig } from '../src/config';
import { DoubleHarness } from '../src/testing/harness';
import { derived, eventually, startReceiver, type Running } from './helpers';

const crashing = (name: string): Record<string, unknown> => ({
  apiVersion: 'v1', kind: 'Pod', metadata: { name },
  spec: { containers: [{ name: 'app', image: 'x' }] },
  status: { phase: 'Running', containerStatuses: [{ name: 'app', restartCount: 1, state: { waiting: { reason: 'CrashLoopBackOff' } } }] },
});

describe('kubernetes receiver: delivery', function () {
  this.timeout(30_000);
  let h: DoubleHarness;
  let dir: string;
  let r: Running | undefined;
  beforeEach(async () => { h = await DoubleHarness.start(); dir = mkdtempSync(path.join(tmpdir(), 'tapio-k8s-del-')); writeFileSync(path.join(dir, 'kc'), h.kubeconfigText); });
  afterEach(async () => { await r?.stop(); r = undefined; await h.stop(); rmSync(dir, { recursive: true, force: true }); });

  function receiverWith(consume: (b: Batch) => Promise<void>): KubernetesReceiver {
    const cfg = validConfig<KubernetesReceiverConfig>(factory, { kubeconfig: path.join(dir, 'kc'), namespaces: [h.namespace] });
    return new KubernetesReceiver(testContext('kubernetes', 'receiver'), cfg, { consume });
  }

  it('retries a batch the pipeline refuses for now, and delivers it once', async () => {
    let refusals = 0;
    const got: string[] = [];
    const rec = receiverWith(async (b) => {
      if (refusals < 2) { refusals++; throw new RetryableError('memory limit reached'); }
      for (const e of b.events) got.push(`${e.entity?.name}:${e.k8s?.reason}`);
    });
    await rec.start(testHost());
    try {
      await h.create(crashing('p1') as never);
      await eventually(() => got.length > 0, 'delivery after refusals');
      assert.equal(refusals, 2);
      assert.deepEqual(got, ['p1:CrashLoopBackOff']);
    } finally { await rec.shutdown(); }
  });

  it('drops a batch refused for good and keeps watching', async () => {
    let calls = 0;
    const got: string[] = [];
    const rec = receiverWith(async (b) => {
      calls++;
      if (calls === 1) throw new PermanentError('bad batch');
      for (const e of b.events) got.push(`${e.entity?.name}:${e.k8s?.reason}`);
    });
    await rec.start(testHost());
    try {
      await h.create(crashing('p1') as never);
      await eventually(() => calls >= 1, 'first batch');
      await h.create(crashing('p2') as never);
      await eventually(() => got.length > 0, 'next batch');
      assert.deepEqual(got, ['p2:CrashLoopBackOff']);
    } finally { await rec.shutdown(); }
  });

  it('reports a pod that stays Pending once the threshold has passed, without any update', async () => {
    r = await startReceiver(h, { pod_pending_threshold: '300ms' });
    await h.create({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'slow' }, spec: { containers: [{ name: 'app', image: 'x' }] }, status: { phase: 'Pending', startTime: new Date().toISOString(), containerStatuses: [{ name: 'app', state: { waiting: { reason: 'ContainerCreating' } } }] } } as never);
    await eventually(() => derived(r!.sink.events, 'PodPending', 'slow').length > 0, 'PodPending');
    const [e] = derived(r.sink.events, 'PodPending', 'slow');
    assert.equal(e.k8s!.pendingReason, 'ContainerCreating');
    await new Promise((res) => setTimeout(res, 500));
    assert.equal(derived(r.sink.events, 'PodPending', 'slow').length, 1, 'reported once');
  });
});
