import * as assert from 'node:assert/strict';
import { KubeApi, ApiError } from '../src/client';
import { Backoff } from '../src/backoff';
import { hasK8sObjects, loadFixture } from '../src/testing/fixtures';
import { DoubleHarness } from '../src/testing/harness';
import type { ApiServerDouble } from '../src/testing/apiserver';
import type { KubeObject } from '../src/kinds';
import { derived, eventually, settle, startReceiver, type Running } from './helpers';

function podWatches(d: ApiServerDouble): { resourceVersion?: string }[] {
  return d.requests.filter((q) => q.path.endsWith('/pods') && q.query.watch === 'true').map((q) => q.query);
}
function podLists(d: ApiServerDouble): Record<string, string>[] {
  return d.requests.filter((q) => q.method === 'GET' && q.path.endsWith('/pods') && q.query.watch === undefined).map((q) => q.query);
}

// Fault injection needs the double; these tests do not run against a real cluster.
describe('kubernetes receiver: list/watch protocol against the API server double', function () {
  this.timeout(30_000);
  let h: DoubleHarness;
  let d: ApiServerDouble;
  let r: Running | undefined;

  beforeEach(async () => { h = await DoubleHarness.start(); d = h.double!; });
  afterEach(async () => { await r?.stop(); r = undefined; await h.stop(); });

  it('re-lists after 410 Gone and neither loses nor duplicates events', async function () {
    if (!hasK8sObjects()) this.skip();
    r = await startReceiver(h);
    const oom = await h.create(loadFixture('Pod/oomkilled-old.yaml'));
    const crash = await h.create(loadFixture('Pod/crashloopbackoff.yaml'));
    await eventually(() => derived(r!.sink.events, 'OOMKilled').length === 1 && derived(r!.sink.events, 'CrashLoopBackOff').length === 1, 'first events');
    await settle(r.sink);
    const before = r.sink.events.length;
    const listsBefore = podLists(d).length;

    // The API server goes away; meanwhile the cluster changes and etcd compacts its history.
    d.holdWatches(true);
    d.dropWatches();
    const evicted = await h.create(loadFixture('Pod/evicted.yaml'));
    await h.delete(crash);
    const pull = await h.create(loadFixture('Pod/pod-imagepullbackoff.yaml'));
    d.compact();
    d.holdWatches(false);

    await eventually(() => derived(r!.sink.events, 'Evicted').length > 0 && derived(r!.sink.events, 'ImagePullBackOff').length > 0, 'events from the gap');
    await eventually(() => r!.topology.podByName(h.namespace, crash.metadata.name) === undefined, 'deletion seen by the re-list');
    await settle(r.sink);
    assert.ok(podLists(d).length > listsBefore, 'the receiver listed again');
    assert.ok(r.receiver.reflectors.some((x) => x.stats.relistsAfterGone > 0), 'because the watch got 410 Gone');
    const fresh = r.sink.events.slice(before);
    assert.deepEqual(fresh.filter((e) => e.k8s?.derived).map((e) => `${e.entity!.name}:${e.k8s!.reason}`).sort(),
      [`${evicted.metadata.name}:Evicted`, `${pull.metadata.name}:ImagePullBackOff`].sort(), 'only what changed during the gap, once');
    assert.equal(derived(r.sink.events, 'OOMKilled', oom.metadata.name).length, 1, 'no repeat for objects already seen');
    assert.equal(r.topology.podByName(h.namespace, evicted.metadata.name)?.name, evicted.metadata.name);
  });

  it('answers the 410 Gone protocol itself: HTTP 410 on a too-old list, an ERROR Status event on a too-old watch', async () => {
    const api = await KubeApi.fromKubeconfigText(h.kubeconfigText);
    await h.create({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'a' }, spec: { containers: [{ name: 'c', image: 'x' }] } });
    const oldRv = d.resourceVersion;
    await h.create({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'b' }, spec: { containers: [{ name: 'c', image: 'x' }] } });
    d.compact();
    await assert.rejects(api.json('GET', '/api/v1/pods', { resourceVersion: String(Number(oldRv) - 1) }), (e: unknown) => e instanceof ApiError && e.code === 410);
    const res = await api.open('GET', '/api/v1/pods', { watch: 'true', resourceVersion: String(Number(oldRv) - 1) });
    assert.equal(res.statusCode, 200);
    let body = '';
    for await (const c of res) body += String(c);
    const ev = JSON.parse(body.trim()) as { type: string; object: { kind: string; code: number } };
    assert.equal(ev.type, 'ERROR');
    assert.equal(ev.object.kind, 'Status');
    assert.equal(ev.object.code, 410);
  });

  it('resumes a dropped watch from the last resourceVersion without re-listing', async function () {
    if (!hasK8sObjects()) this.skip();
    r = await startReceiver(h);
    const first = await h.create(loadFixture('Pod/crashloopbackoff.yaml'));
    await eventually(() => derived(r!.sink.events, 'CrashLoopBackOff').length === 1, 'first event');
    const podReflector = r.receiver.reflectors.find((x) => x.path.endsWith('/pods'))!;
    await eventually(() => podReflector.lastResourceVersion === first.metadata.resourceVersion || Number(podReflector.lastResourceVersion) >= Number(first.metadata.resourceVersion), 'rv caught up');
    const rvAtDrop = podReflector.lastResourceVersion;
    const listsBefore = podLists(d).length;
    const watchesBefore = podWatches(d).length;

    d.holdWatches(true);
    assert.ok(d.dropWatches() > 0, 'there were open watches to drop');
    await eventually(() => r!.status() === 'recoverable_error', 'the outage is reported');
    const missed = await h.create(loadFixture('Pod/evicted.yaml'));
    d.holdWatches(false);

    await eventually(() => derived(r!.sink.events, 'Evicted').length === 1, 'event made while disconnected');
    await settle(r.sink);
    assert.equal(podLists(d).length, listsBefore, 'no re-list');
    const resumed = podWatches(d).slice(watchesBefore);
    assert.ok(resumed.length >= 1);
    assert.ok(resumed.every((q) => q.resourceVersion === rvAtDrop), `every new watch resumes from ${rvAtDrop}: ${resumed.map((q) => q.resourceVersion).join(',')}`);
    assert.equal(derived(r.sink.events, 'CrashLoopBackOff').length, 1, 'nothing replayed twice');
    assert.equal(derived(r.sink.events, 'Evicted', missed.metadata.name).length, 1);
    await eventually(() => r!.status() === 'ok', 'status back to ok after the outage');
  });

  it('follows BOOKMARK events so a resume starts from the newest resourceVersion', async () => {
    r = await startReceiver(h);
    // Changes to other kinds move the global resourceVersion; only bookmarks tell the pod watch.
    await h.create({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'n1' }, status: { conditions: [{ type: 'Ready', status: 'True' }] } });
    const target = d.resourceVersion;
    const podReflector = r.receiver.reflectors.find((x) => x.path.endsWith('/pods'))!;
    d.sendBookmarks();
    await eventually(() => podReflector.lastResourceVersion === target || Number(podReflector.lastResourceVersion) >= Number(target), 'bookmark applied');
    assert.ok(podReflector.stats.bookmarks > 0);
    assert.ok(podWatches(d).every((q) => (q as Record<string, string>).allowWatchBookmarks === 'true'), 'watches ask for bookmarks');
  });

  it('pages through large lists with limit/continue', async () => {
    for (let i = 0; i < 7; i++) {
      await h.create({ apiVersion: 'v1', kind: 'Pod', metadata: { name: `p${i}` }, spec: { containers: [{ name: 'c', image: 'x' }] }, status: { phase: 'Running', podIP: `10.0.0.${i + 1}` } });
    }
    r = await startReceiver(h, { page_size: 3 });
    const lists = podLists(d);
    assert.equal(lists.length, 3, '7 pods in pages of 3');
    assert.ok(lists.every((q) => q.limit === '3'));
    assert.equal(lists.filter((q) => q.continue).length, 2);
    for (let i = 0; i < 7; i++) assert.equal(r.topology.podByIp(`10.0.0.${i + 1}`)?.name, `p${i}`);
  });

  it('restarts a paginated list whose continue token expired (410), without duplicates', async () => {
    await h.stop();
    let compacted = false;
    h = await DoubleHarness.start({
      // Compact right after the first page of the first pod list: the next page's continue token is too old.
      afterRequest: (q, server) => { if (!compacted && q.path.endsWith('/pods') && q.query.limit && !q.query.continue && q.method === 'GET') { compacted = true; server.compact(); } },
    });
    d = h.double!;
    for (let i = 0; i < 6; i++) {
      await h.create({ apiVersion: 'v1', kind: 'Pod', metadata: { name: `c${i}` }, spec: { containers: [{ name: 'app', image: 'x' }] }, status: { phase: 'Running', podIP: `10.2.0.${i}`, containerStatuses: [{ name: 'app', restartCount: 2, state: { waiting: { reason: 'CrashLoopBackOff' } } }] } });
    }
    r = await startReceiver(h, { page_size: 2 });
    await settle(r.sink);
    assert.ok(d.requests.some((q) => q.path.endsWith('/pods') && q.query.continue && q.status === 410), 'a continue was refused with 410');
    for (let i = 0; i < 6; i++) {
      assert.equal(derived(r.sink.events, 'CrashLoopBackOff', `c${i}`).length, 1, `c${i} once`);
      assert.equal(r.topology.podByIp(`10.2.0.${i}`)?.name, `c${i}`);
    }
  });

  it('serves every page of a list from one snapshot, even while objects change', async () => {
    for (let i = 0; i < 4; i++) await h.create({ apiVersion: 'v1', kind: 'Pod', metadata: { name: `s${i}` }, spec: { containers: [{ name: 'app', image: 'x' }] } });
    const api = await KubeApi.fromKubeconfigText(h.kubeconfigText);
    const path = `/api/v1/namespaces/${h.namespace}/pods`;
    const first = await api.json<{ metadata: { resourceVersion: string; continue: string }; items: KubeObject[] }>('GET', path, { limit: '2' });
    await h.create({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 's9' }, spec: { containers: [{ name: 'app', image: 'x' }] } });
    await h.delete({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 's3' } });
    const second = await api.json<{ metadata: { resourceVersion: string; continue?: string }; items: KubeObject[] }>('GET', path, { limit: '2', continue: first.metadata.continue });
    assert.deepEqual([...first.items, ...second.items].map((p) => p.metadata.name), ['s0', 's1', 's2', 's3']);
    assert.equal(second.metadata.resourceVersion, first.metadata.resourceVersion);
    assert.equal(second.metadata.continue, undefined);
    assert.equal(first.items[0].kind, undefined, 'list items carry no kind, as on a real server');
  });

  it('applies per-kind label and field selectors', async () => {
    await h.create({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web', labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image: 'x' }] }, status: { podIP: '10.1.0.1' } });
    await h.create({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'db', labels: { app: 'db' } }, spec: { containers: [{ name: 'c', image: 'x' }] }, status: { podIP: '10.1.0.2' } });
    r = await startReceiver(h, { objects: { pods: { label_selector: 'app=web' } } });
    assert.equal(r.topology.podByIp('10.1.0.1')?.name, 'web');
    assert.equal(r.topology.podByIp('10.1.0.2'), undefined);
    assert.ok(podLists(d).every((q) => q.labelSelector === 'app=web'));
  });

  it('is refused without the right bearer token, reports it, and keeps retrying', async () => {
    const bad = { namespace: h.namespace, kubeconfigText: h.kubeconfigText.replace('tapio-test-token', 'wrong-token') };
    const api = await KubeApi.fromKubeconfigText(bad.kubeconfigText);
    await assert.rejects(api.json('GET', '/api/v1/pods'), (e: unknown) => e instanceof ApiError && e.code === 401);
    r = await startReceiver(bad, {}, { waitForSync: false });
    await eventually(() => d.requests.filter((q) => q.path.endsWith('/pods')).length > 3, 'repeated attempts');
    assert.ok(d.requests.every((q) => q.status === 401), 'nothing was served');
    assert.equal(r.sink.events.length, 0);
  });

  it('reads events.k8s.io/v1 Events and counts the same Event seen through both APIs once', async () => {
    r = await startReceiver(h, { objects: { 'events.k8s.io': { enabled: true } } });
    const now = new Date().toISOString();
    const uid = '7c0d1e2f-0000-4000-8000-00000000e001';
    // On a real cluster both APIs serve the same object; the double keeps two copies with one uid.
    d.create({
      apiVersion: 'v1', kind: 'Event', metadata: { name: 'web-1.abc', namespace: h.namespace, uid },
      involvedObject: { kind: 'Pod', name: 'web-1', namespace: h.namespace, uid: 'pod-1' }, reason: 'Unhealthy', message: 'Readiness probe failed: HTTP 503',
      type: 'Warning', count: 2, firstTimestamp: now.replace(/\.\d+Z$/, 'Z'), lastTimestamp: now.replace(/\.\d+Z$/, 'Z'),
    });
    d.create({
      apiVersion: 'events.k8s.io/v1', kind: 'Event', metadata: { name: 'web-1.abc', namespace: h.namespace, uid },
      regarding: { kind: 'Pod', name: 'web-1', namespace: h.namespace, uid: 'pod-1' }, reason: 'Unhealthy', note: 'Readiness probe failed: HTTP 503',
      type: 'Warning', eventTime: null, deprecatedCount: 2, deprecatedFirstTimestamp: now.replace(/\.\d+Z$/, 'Z'), deprecatedLastTimestamp: now.replace(/\.\d+Z$/, 'Z'),
      reportingController: 'kubelet', reportingInstance: 'node-1', action: 'Probe',
    });
    d.create({
      apiVersion: 'events.k8s.io/v1', kind: 'Event', metadata: { name: 'web-2.def', namespace: h.namespace },
      regarding: { kind: 'Pod', name: 'web-2', namespace: h.namespace }, reason: 'FailedMount', note: 'MountVolume.SetUp failed',
      type: 'Warning', eventTime: now.replace('Z', '000Z').replace(/(\.\d{6})\d*Z$/, '$1Z'), series: { count: 4, lastObservedTime: now }, reportingController: 'kubelet', reportingInstance: 'node-1', action: 'Mount',
    });
    await eventually(() => r!.sink.events.filter((e) => e.k8s && !e.k8s.derived).length >= 2, 'events');
    await settle(r.sink);
    const evs = r.sink.events.filter((e) => e.k8s && !e.k8s.derived);
    assert.deepEqual(evs.map((e) => e.k8s!.reason).sort(), ['FailedMount', 'Unhealthy']);
    const mount = evs.find((e) => e.k8s!.reason === 'FailedMount')!;
    assert.equal(mount.k8s!.count, 4);
    assert.equal(mount.k8s!.message, 'MountVolume.SetUp failed');
    assert.equal(mount.attributes['k8s.event.reporting_controller'], 'kubelet');
  });

  it('stops cleanly: no open watches and no more requests after shutdown', async () => {
    r = await startReceiver(h);
    assert.ok(d.openWatchCount > 0);
    await r.stop();
    r = undefined;
    await eventually(() => d.openWatchCount === 0, 'watches closed');
    const n = d.requests.length;
    await new Promise((res) => setTimeout(res, 300));
    assert.equal(d.requests.length, n);
  });
});

describe('backoff', () => {
  it('grows exponentially to the cap, spread by jitter', () => {
    let flip = 0;
    const seq = [0, 1];
    const b = new Backoff({ initialMs: 100, maxMs: 1000, randomization: 0.5 }, () => seq[flip++ % 2]);
    const delays = Array.from({ length: 8 }, () => b.next());
    // low/high jitter alternate: 100*(1-0.5), 200*(1+0.5), 400*(0.5), 800*(1.5), then capped at 1000.
    assert.deepEqual(delays, [50, 300, 200, 1200, 500, 1500, 500, 1500]);
    b.reset();
    assert.equal(b.next(), 50);
  });
});

export type { KubeObject };
