import * as assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { testContext, testEvent, validConfig } from '@tapio/core/testing';
import apiFactory, { ApiExtension, paymentScenario, type ApiConfig } from '@tapio/extension-api';
import { runCli } from '../src/index';
import { KubeDouble } from './kube-double';

const TOKEN = 'cli-test-token-0123456789';
const BIN = path.resolve(__dirname, '..', 'src', 'bin.js');

interface Run { code: number; out: string; err: string }

async function cli(args: string[], opts: { confirm?: boolean; signal?: AbortSignal; onOut?: (s: string) => void } = {}): Promise<Run> {
  let out = '';
  let err = '';
  const code = await runCli(args, {
    out: (s) => { out += s; opts.onOut?.(out); },
    err: (s) => { err += s; },
    confirm: async () => opts.confirm ?? false,
    signal: opts.signal,
  });
  return { code, out, err };
}

describe('tapio-cli', function () {
  this.timeout(30_000);
  let ext: ApiExtension;
  let endpoint: string;
  let dir: string;
  const s = paymentScenario();
  const g = () => ['--endpoint', endpoint, '--token', TOKEN];

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tapio-cli-'));
    ext = new ApiExtension(testContext('tapio_api', 'extension'), validConfig<ApiConfig>(apiFactory, {
      http: { endpoint: '127.0.0.1:0' }, grpc: null, storage: { path: path.join(dir, 'api.db') }, auth: { token: TOKEN },
    }));
    await ext.start();
    endpoint = ext.httpAddress()!;
    ext.ingest(s.events);
  });
  after(async () => {
    await ext.shutdown();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('correlate tells the story: root cause, impact, users, detection time, the chain by layer, actions', async () => {
    const r = await cli([...g(), 'correlate', '--trace-id', s.traceId]);
    assert.equal(r.code, 0, r.err);
    console.log('\n' + r.out.replace(/^/gm, '      '));
    assert.match(r.out, /^CORRELATION SUMMARY$/m);
    assert.match(r.out, /Root Cause: Memory leak in payment v2\.1\.0.*confidence 87%/);
    assert.match(r.out, /Business Impact: HIGH - \$45K revenue at risk/);
    assert.match(r.out, new RegExp(`Affected Users: ${s.failedUsers}\\b`));
    assert.match(r.out, new RegExp(`Failed Requests: ${s.failedRequests}\\b`));
    assert.match(r.out, new RegExp(`Time to Detection: ${s.incident.timeToDetectMs / 1000} seconds`));
    for (const tag of ['[APP]', '[NET]', '[K8S]', '[KERNEL]']) assert.ok(r.out.includes(tag), `chain shows ${tag}`);
    assert.match(r.out, /RECOMMENDED ACTIONS[\s\S]*1\. Scale payment to 5 replicas/);
  });

  it('prints JSON with --output json', async () => {
    const r = await cli([...g(), '-o', 'json', 'correlate', '--trace-id', s.traceId]);
    assert.equal(r.code, 0, r.err);
    const j = JSON.parse(r.out);
    assert.equal(j.incidentId, s.incidentId);
    assert.equal(j.affectedUsers, s.failedUsers);
  });

  it('lists and shows incidents; reports health', async () => {
    const list = await cli([...g(), 'incidents']);
    assert.equal(list.code, 0, list.err);
    assert.match(list.out, /^ID\s+STATUS/m);
    assert.ok(list.out.includes(s.incidentId));
    const show = await cli([...g(), 'incidents', 'show', s.incidentId]);
    assert.match(show.out, /Root Cause: Memory leak/);
    assert.match(show.out, /\[KERNEL\] Kernel OOM-killed payment/);
    const health = await cli([...g(), 'health', '-o', 'json']);
    assert.equal(JSON.parse(health.out).store.incidents, 1);
  });

  it('streams events matching --filter until interrupted', async () => {
    const ac = new AbortController();
    const running = cli([...g(), 'stream', 'events', '--filter', 'kind=kernel,service=payment'], { signal: ac.signal, onOut: (o) => { if (o.split('\n').length > 2) ac.abort(); } });
    await new Promise((r) => setTimeout(r, 150));
    ext.ingest([testEvent('log'), testEvent('kernel'), testEvent('network'), testEvent('kernel')]);
    const r = await running;
    assert.equal(r.code, 0, r.err);
    const lines = r.out.trim().split('\n');
    assert.equal(lines.length, 2);
    for (const l of lines) assert.match(l, / kernel +payment: process_exit/);
  });

  it('explains bad input and auth failures', async () => {
    const bad = await cli([...g(), 'stream', 'events', '--filter', 'knd=kernel']);
    assert.equal(bad.code, 1);
    assert.match(bad.err, /unknown filter key 'knd'/);
    const missing = await cli([...g(), 'incidents', 'show', 'no-such']);
    assert.equal(missing.code, 1);
    assert.match(missing.err, /no incident with id 'no-such'/);
    const wrong = await cli(['--endpoint', endpoint, '--token', 'wrong-wrong-wrong-wrong', 'health']);
    assert.match(wrong.err, /missing or wrong bearer token/);
    const down = await cli(['--endpoint', 'http://127.0.0.1:1', 'health']);
    assert.equal(down.code, 3);
    assert.match(down.err, /cannot reach the Tapio API/);
  });

  it('the installed bin runs as a separate process', async () => {
    const r = await new Promise<{ code: number; out: string }>((resolve) => {
      execFile(process.execPath, [BIN, '--endpoint', endpoint, '--token', TOKEN, 'correlate', '--trace-id', s.traceId], (err, stdout) => resolve({ code: err ? (err.code as number) : 0, out: stdout }));
    });
    assert.equal(r.code, 0);
    assert.match(r.out, /Root Cause: Memory leak in payment/);
  });

  describe('incidents apply (against a Kubernetes API server double)', () => {
    let kube: KubeDouble;
    let kubeconfig: string;
    before(async () => {
      kube = new KubeDouble();
      await kube.start();
      kubeconfig = kube.writeKubeconfig(dir);
    });
    after(async () => { await kube.stop(); });

    it('shows the change and does nothing on --dry-run or without confirmation', async () => {
      const dry = await cli([...g(), 'incidents', 'apply', s.incidentId, '1', '--kubeconfig', kubeconfig, '--dry-run']);
      assert.equal(dry.code, 0, dry.err);
      assert.match(dry.out, /Action: scale deployment prod\/payment to 5 replicas/);
      assert.match(dry.out, /spec\.replicas: 2 → 5/);
      const no = await cli([...g(), 'incidents', 'apply', s.incidentId, '1', '--kubeconfig', kubeconfig], { confirm: false });
      assert.equal(no.code, 1);
      assert.match(no.out, /Not applied/);
      assert.deepEqual(kube.writes, []);
    });

    it('scales the deployment when confirmed', async () => {
      const r = await cli([...g(), 'incidents', 'apply', s.incidentId, '1', '--kubeconfig', kubeconfig], { confirm: true });
      assert.equal(r.code, 0, r.err);
      assert.equal(kube.replicas, 5);
      assert.equal(kube.writes.length, 1);
      assert.equal(kube.writes[0]!.method, 'PUT');
      assert.equal(kube.writes[0]!.path, '/apis/apps/v1/namespaces/prod/deployments/payment/scale');
    });

    it('rolls back to the previous revision with --yes, showing the image change', async () => {
      kube.writes.length = 0;
      const r = await cli([...g(), 'incidents', 'apply', s.incidentId, '3', '--kubeconfig', kubeconfig, '--yes']);
      assert.equal(r.code, 0, r.err);
      assert.match(r.out, /container payment image: registry\.local\/payment:2\.1\.0 → registry\.local\/payment:2\.0\.3/);
      assert.equal(kube.deployment.spec.template.spec.containers[0].image, 'registry.local/payment:2.0.3');
      assert.equal(kube.deployment.spec.template.metadata.labels['pod-template-hash'], undefined);
    });

    it('refuses a recommendation that is not a Kubernetes action, and an out-of-range number', async () => {
      const advice = await cli([...g(), 'incidents', 'apply', s.incidentId, '2', '--kubeconfig', kubeconfig, '--yes']);
      assert.equal(advice.code, 2);
      assert.match(advice.err, /not a Kubernetes action/);
      const range = await cli([...g(), 'incidents', 'apply', s.incidentId, '9', '--kubeconfig', kubeconfig, '--yes']);
      assert.equal(range.code, 2);
      assert.match(range.err, /pick 1\.\.3/);
    });
  });
});
