import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { deepMerge, TOPOLOGY_SERVICE, type TopologyService, type UnifiedEvent } from '@tapio/core';
import { SinkConsumer, testContext, testHost, validConfig } from '@tapio/core/testing';
import factory from '../src/index';
import { KubernetesReceiver } from '../src/receiver';
import type { KubernetesReceiverConfig } from '../src/config';
import type { ClusterHarness } from '../src/testing/harness';

export interface Running {
  receiver: KubernetesReceiver;
  sink: SinkConsumer;
  topology: TopologyService;
  /** The component status the receiver last reported to its host. */
  status(): string | undefined;
  stop(): Promise<void>;
}

/** Writes the harness's kubeconfig to a temp file and starts a receiver on it, watching the harness namespace. */
export async function startReceiver(h: Pick<ClusterHarness, 'kubeconfigText' | 'namespace'>, overrides: Record<string, unknown> = {}, opts: { waitForSync?: boolean } = {}): Promise<Running> {
  const dir = mkdtempSync(path.join(tmpdir(), 'tapio-k8s-'));
  const kubeconfig = path.join(dir, 'kubeconfig');
  writeFileSync(kubeconfig, h.kubeconfigText);
  const base = { kubeconfig, namespaces: [h.namespace], retry_on_failure: { initial_interval: '20ms', max_interval: '200ms' }, pod_pending_threshold: '1m' };
  const cfg = validConfig<KubernetesReceiverConfig>(factory, deepMerge(base, overrides));
  const sink = new SinkConsumer();
  const host = testHost();
  const receiver = new KubernetesReceiver(testContext('kubernetes', 'receiver'), cfg, sink);
  await receiver.start(host);
  if (opts.waitForSync !== false) await receiver.whenSynced();
  return {
    receiver, sink, topology: host.getService<TopologyService>(TOPOLOGY_SERVICE)!,
    status: () => (host as unknown as { statuses: Map<string, { status: string }> }).statuses.get('kubernetes')?.status,
    async stop() { await receiver.shutdown(); rmSync(dir, { recursive: true, force: true }); },
  };
}

export function derived(events: UnifiedEvent[], reason?: string, name?: string): UnifiedEvent[] {
  return events.filter((e) => e.k8s?.derived === true && (reason === undefined || e.k8s.reason === reason) && (name === undefined || e.entity?.name === name));
}

/** Polls until check() is true (for state that arrives asynchronously through a watch). */
export async function eventually(check: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Lets in-flight watch traffic settle: waits until the sink has been quiet for `quietMs`. */
export async function settle(sink: SinkConsumer, quietMs = 150): Promise<void> {
  let n = -1;
  while (n !== sink.events.length) { n = sink.events.length; await new Promise((r) => setTimeout(r, quietMs)); }
}
