#!/usr/bin/env node
'use strict';
// Kubernetes receiver: (1) derived-event processing rate (pod status updates → facts → k8s events),
// (2) memory of the topology cache and of the watch store for 10,000 pods, (3) initial sync of
// 10,000 pods from the API server double (paginated list + watch start).
// Run: npx tsc -b core receivers/kubernetes && node --expose-gc test/bench/kubernetes.bench.js
const path = require('node:path');
const { mkdtempSync, writeFileSync, rmSync } = require('node:fs');
const { tmpdir } = require('node:os');

const root = path.resolve(__dirname, '../..');
const k8s = require(path.join(root, 'receivers/kubernetes/dist/src/index.js'));
const { ApiServerDouble } = require(path.join(root, 'receivers/kubernetes/dist/src/testing/index.js'));
const { testContext, testHost, validConfig } = require(path.join(root, 'core/dist/src/testing/index.js'));

const gc = global.gc ?? (() => undefined);
const PODS = 10_000;

function makePod(i, state) {
  const name = `shop-${Math.floor(i / 10)}-7d8f9-${i.toString(36).padStart(5, '0')}`;
  const cid = `containerd://${i.toString(16).padStart(64, '0')}`;
  const cs = { name: 'app', image: 'registry.example/shop:1.4.2', imageID: 'registry.example/shop@sha256:' + 'a'.repeat(64), containerID: cid, ready: state === 'ok', started: state === 'ok', restartCount: state === 'crash' ? 3 : 0 };
  if (state === 'ok') cs.state = { running: { startedAt: '2026-01-01T00:00:00Z' } };
  else cs.state = { waiting: { reason: 'CrashLoopBackOff', message: `back-off 40s restarting failed container=app pod=${name}` } };
  if (state === 'crash') cs.lastState = { terminated: { exitCode: 137, reason: 'OOMKilled', containerID: cid, startedAt: '2026-01-01T00:00:00Z', finishedAt: new Date().toISOString() } };
  return {
    apiVersion: 'v1', kind: 'Pod',
    metadata: {
      name, namespace: `ns-${i % 20}`, uid: `00000000-0000-4000-8000-${i.toString(16).padStart(12, '0')}`, resourceVersion: String(1000 + i),
      labels: { app: `shop-${Math.floor(i / 10)}`, 'pod-template-hash': '7d8f9', tier: 'backend' },
      ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: `shop-${Math.floor(i / 10)}-7d8f9`, uid: 'rs', controller: true }],
      creationTimestamp: '2026-01-01T00:00:00Z',
    },
    spec: { nodeName: `node-${i % 50}`, containers: [{ name: 'app', image: 'registry.example/shop:1.4.2', ports: [{ containerPort: 8080 }], resources: { limits: { memory: '512Mi', cpu: '1' } } }] },
    status: {
      phase: 'Running', podIP: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`, hostIP: `192.168.0.${i % 50}`, startTime: '2026-01-01T00:00:00Z', qosClass: 'Burstable',
      conditions: [{ type: 'Ready', status: state === 'ok' ? 'True' : 'False', lastTransitionTime: '2026-01-01T00:00:00Z' }, { type: 'PodScheduled', status: 'True' }],
      containerStatuses: [cs],
    },
  };
}

const heap = () => { gc(); gc(); return process.memoryUsage().heapUsed; };
const mb = (b) => (b / 1048576).toFixed(1);

async function derivedRate() {
  const events = { n: 0 };
  const next = { consume: async (batch) => { events.n += batch.events.length; } };
  const cfg = validConfig(k8s.default, { kubeconfig: '/dev/null' });
  const receiver = new k8s.KubernetesReceiver(testContext('kubernetes', 'receiver'), cfg, next);
  const kind = k8s.RESOURCE_KINDS.pods;
  const N = 2_000;
  const ok = Array.from({ length: N }, (_, i) => makePod(i, 'ok'));
  const crash = Array.from({ length: N }, (_, i) => makePod(i, 'crash'));
  for (const p of ok) receiver.apply(kind, 'ADDED', p, undefined, false);
  await receiver.flush();
  events.n = 0;
  // Each round flips every pod ok → crash-looping (OOMKilled + CrashLoopBackOff + restart + not ready) → ok (ready).
  const ROUNDS = 10;
  const lat = [];
  let updates = 0;
  const t0 = process.hrtime.bigint();
  for (let r = 0; r < ROUNDS; r++) {
    for (let i = 0; i < N; i++) {
      const a = (r & 1) === 0 ? ok[i] : crash[i];
      const b = (r & 1) === 0 ? crash[i] : ok[i];
      // A fresh termination each crash round, so OOMKilled is news every time.
      if ((r & 1) === 0) { b.status.containerStatuses[0].lastState.terminated.containerID = `containerd://r${r}-${i}`; b.status.containerStatuses[0].restartCount = 3 + r; }
      else b.status.containerStatuses[0].restartCount = a.status.containerStatuses[0].restartCount;
      const s = (i % 50 === 0) ? process.hrtime.bigint() : 0n;
      receiver.apply(kind, 'MODIFIED', b, a, false);
      if (s) lat.push(Number(process.hrtime.bigint() - s) / 1e6);
      updates++;
      if (i % 500 === 499) await receiver.flush();
    }
    await receiver.flush();
  }
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  lat.sort((x, y) => x - y);
  return { updatesPerSec: Math.round(updates / secs), derivedEventsPerSec: Math.round(events.n / secs), derivedEvents: events.n, p99UpdateMs: +lat[Math.floor(lat.length * 0.99)].toFixed(4) };
}

function cacheMemory() {
  const pods = Array.from({ length: PODS }, (_, i) => makePod(i, i % 10 === 0 ? 'crash' : 'ok'));
  const base = heap();
  const cache = new k8s.TopologyCache();
  for (const p of pods) cache.apply('Pod', 'ADDED', p);
  for (let r = 0; r < PODS / 10; r++) cache.apply('ReplicaSet', 'ADDED', { kind: 'ReplicaSet', metadata: { name: `shop-${r}-7d8f9`, namespace: `ns-${(r * 10) % 20}`, ownerReferences: [{ kind: 'Deployment', name: `shop-${r}`, controller: true }] } });
  // Resolve every pod once (owner chain + services are memoised on first lookup).
  for (let i = 0; i < PODS; i++) cache.podByContainerId(pods[i].status.containerStatuses[0].containerID);
  const cacheBytes = heap() - base;
  // The watch store keeps one (slimmed) object per pod to diff re-lists: measure parsed objects the way they arrive.
  const json = pods.map((p) => JSON.stringify(p));
  const jsonBytes = json.reduce((n, j) => n + j.length, 0) / json.length;
  pods.length = 0;
  const base2 = heap();
  const store = new Map();
  for (const j of json) { const o = JSON.parse(j); store.set(`${o.metadata.namespace}/${o.metadata.name}`, o); }
  const storeBytes = heap() - base2;
  // Lookup speed while we are here.
  const t0 = process.hrtime.bigint();
  let hits = 0;
  const ips = Array.from({ length: 1000 }, (_, k) => `10.0.${(k * 7 >> 8) & 38}.${(k * 7) & 255}`);
  for (let k = 0; k < 200_000; k++) if (cache.podByIp(ips[k % 1000])) hits++;
  const lookupNs = Number(process.hrtime.bigint() - t0) / 200_000;
  return { cacheBytes, storeBytes, lookupNs, hits, jsonBytes, keep: [cache, store] };
}

async function initialSync() {
  const double = new ApiServerDouble({ token: 'bench' });
  await double.start();
  for (let i = 0; i < PODS; i++) { const p = makePod(i, 'ok'); delete p.metadata.resourceVersion; delete p.metadata.uid; double.create(p); }
  const dir = mkdtempSync(path.join(tmpdir(), 'tapio-k8s-bench-'));
  writeFileSync(path.join(dir, 'kubeconfig'), double.kubeconfig());
  const objects = Object.fromEntries(Object.keys(k8s.RESOURCE_KINDS).map((k) => [k, { enabled: k === 'pods' }]));
  const cfg = validConfig(k8s.default, { kubeconfig: path.join(dir, 'kubeconfig'), objects, page_size: 500 });
  const receiver = new k8s.KubernetesReceiver(testContext('kubernetes', 'receiver'), cfg, { consume: async () => undefined });
  // Load client-node (an ES module, ~0.3 s) before the clock starts: the figure is the sync itself.
  await k8s.KubeApi.fromKubeconfigText(double.kubeconfig());
  const t0 = process.hrtime.bigint();
  await receiver.start(testHost());
  await receiver.whenSynced();
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  const pods = receiver.topology.size.pods;
  await receiver.shutdown();
  await double.stop();
  rmSync(dir, { recursive: true, force: true });
  return { syncSeconds: +secs.toFixed(2), podsPerSec: Math.round(PODS / secs), pods };
}

(async () => {
  const d = await derivedRate();
  console.log(`derived events: ${d.updatesPerSec.toLocaleString()} pod updates/s → ${d.derivedEventsPerSec.toLocaleString()} derived events/s (${d.derivedEvents} events), p99 per update ${d.p99UpdateMs} ms`);
  const m = cacheMemory();
  console.log(`topology cache, ${PODS} pods: ${mb(m.cacheBytes)} MiB (${Math.round(m.cacheBytes / PODS)} B/pod); watch store: ${mb(m.storeBytes)} MiB (${Math.round(m.storeBytes / PODS)} B/pod for ${Math.round(m.jsonBytes)} B of pod JSON); podByIp ${m.lookupNs.toFixed(0)} ns/lookup`);
  const s = await initialSync();
  console.log(`initial sync of ${s.pods} pods from the API double (pages of 500): ${s.syncSeconds} s (${s.podsPerSec.toLocaleString()} pods/s)`);
  if (!global.gc) console.log('(run with --expose-gc for exact memory figures)');
  console.log('BENCH ' + JSON.stringify({
    derived_updates_per_s: d.updatesPerSec, derived_events_per_s: d.derivedEventsPerSec, derived_p99_update_ms: d.p99UpdateMs,
    topology_bytes_per_pod: Math.round(m.cacheBytes / PODS), topology_mib_10k_pods: +mb(m.cacheBytes),
    watch_store_bytes_per_pod: Math.round(m.storeBytes / PODS), pod_by_ip_ns: Math.round(m.lookupNs),
    initial_sync_10k_pods_s: s.syncSeconds,
  }));
})().catch((err) => { console.error(err); process.exit(1); });
