import * as assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { compileSchema, explainAjvErrors, TOPOLOGY_SERVICE } from '@tapio/core';
import { conformance, SinkConsumer, testContext, testHost, validConfig } from '@tapio/core/testing';
import factory from '../src/index';
import { KubernetesReceiver } from '../src/receiver';
import type { KubernetesReceiverConfig } from '../src/config';
import { ApiServerDouble } from '../src/testing/apiserver';

describe('kubernetes receiver: component contract', () => {
  // The conformance suite starts the receiver: give it a cluster (the double) to talk to.
  const dir = mkdtempSync(path.join(tmpdir(), 'tapio-k8s-conf-'));
  const kubeconfig = path.join(dir, 'kubeconfig');
  const double = new ApiServerDouble({ token: 't0ken' });
  before(async () => { await double.start(); writeFileSync(kubeconfig, double.kubeconfig()); });
  after(async () => { await double.stop(); rmSync(dir, { recursive: true, force: true }); });

  conformance(factory, { config: { kubeconfig } });

  it('registers the topology service on start', async () => {
    const host = testHost();
    const r = new KubernetesReceiver(testContext('kubernetes', 'receiver'), validConfig<KubernetesReceiverConfig>(factory, { kubeconfig }), new SinkConsumer());
    await r.start(host);
    try {
      const topo = host.getService(TOPOLOGY_SERVICE);
      assert.equal(topo, r.topology);
    } finally {
      await r.shutdown();
    }
  });

  it('fails to start with a clear message when the kubeconfig cannot be read', async () => {
    const r = new KubernetesReceiver(testContext('kubernetes', 'receiver'), validConfig<KubernetesReceiverConfig>(factory, { kubeconfig: path.join(dir, 'missing') }), new SinkConsumer());
    await assert.rejects(r.start(testHost()), /kubernetes receiver kubernetes: cannot load cluster credentials \(kubeConfig\): .*missing/);
    await r.shutdown();
  });

  it('with optional: true runs on without a cluster and says why', async () => {
    const host = testHost();
    const r = new KubernetesReceiver(testContext('kubernetes', 'receiver'), validConfig<KubernetesReceiverConfig>(factory, { kubeconfig: path.join(dir, 'missing'), optional: true }), new SinkConsumer());
    await r.start(host);
    const st = (host as unknown as { statuses: Map<string, { status: string; error?: string }> }).statuses.get('kubernetes');
    assert.equal(st?.status, 'recoverable_error');
    assert.match(st?.error ?? '', /cannot load cluster credentials/);
    assert.equal(host.getService(TOPOLOGY_SERVICE), r.topology);
    await r.shutdown();
  });

  it('rejects unknown kinds, bad durations and bad selectors types with their paths', () => {
    const validate = compileSchema(factory.configSchema);
    const cfg = { ...factory.createDefaultConfig!(), objects: { pods: { label_selector: 3 }, secrets: {} }, watch_timeout: 'soon', leader_election: { lease_duration: 'x' } };
    assert.equal(validate(cfg), false);
    const paths = explainAjvErrors(validate.errors, factory.configSchema).map((e) => e.parts.join('.'));
    for (const p of ['objects.pods.label_selector', 'watch_timeout', 'leader_election.lease_duration']) assert.ok(paths.includes(p), `${p} in ${paths.join(', ')}`);
    assert.ok(paths.some((p) => p.startsWith('objects')) && JSON.stringify(validate.errors).includes('secrets'), 'unknown kind is named');
  });
});
