'use strict';
// The README's payment incident, for real (issue 5 "Must show" 2, issue 10 "Must show" 1):
//   an OpenTelemetry-instrumented "payment" service → a database stand-in in a memory-limited,
//   kubelet-style cgroup; the stand-in leaks until the kernel OOM-kills it (eBPF), the service's
//   next connections are refused (eBPF), the Kubernetes API double reports the pod OOMKilled
//   (real list/watch), the service logs errors and answers 500.
// One `tapio` collector process (otlp + ebpf + kubernetes → unifiedevent → semantic → impact →
// correlation → file + tapio/tapio_api) must turn that into one incident with the OOM kill as root
// cause, a chain across kernel, kubernetes, network and application, impact from the catalog and
// recommendations; `tapio-cli correlate` and the API must tell the same story.
// Linux + root + kernel BTF + the built eBPF loader; skipped with the reason otherwise.
const assert = require('node:assert/strict');
const { spawn, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const http = require('node:http');
const os = require('node:os');
const path = require('node:path');
const { ROOT, TAPIO, tmpDir, writeFile, startTapio } = require('./lib/cli');
const { createPodCgroup, cgroupsUnavailable } = require('./payment/cgroup');
const { NAMESPACE, owned, reidentify, oomKilled } = require('./payment/cluster');

const PAYMENT_DIR = path.join(ROOT, 'test', 'payment');
const TAPIO_CLI = path.join(ROOT, 'extensions', 'api-cli', 'dist', 'src', 'bin.js');
const K8S_TESTING = path.join(ROOT, 'receivers', 'kubernetes', 'dist', 'src', 'testing', 'index.js');
const EBPF_NATIVE = path.join(ROOT, 'receivers', 'ebpf', 'native');
const CHROMIUM = process.env.TAPIO_CHROMIUM ?? '/usr/bin/chromium';
const DB_MEMORY_LIMIT = 128 * 1024 * 1024;
const AVERAGE_ORDER_VALUE = 80; // test/payment/collector.yaml, processors.impact.services.payment
const USERS = ['alice', 'bob', 'carol', 'dave', 'erin', 'frank'];
const BASELINE_MS = 25_000; // a little over two correlation windows (10s) of healthy traffic
const FAILING_MS = 6_000; // then more, until the incident is complete (see before())
const REQUESTS_PER_SECOND = 8;

function whyNot() {
  if (process.platform !== 'linux') return `needs Linux (this is ${process.platform})`;
  if (process.getuid?.() !== 0) return 'needs root (eBPF programs, cgroups); CI runs it as root';
  if (!fs.existsSync('/sys/kernel/btf/vmlinux')) return 'no kernel BTF at /sys/kernel/btf/vmlinux';
  if (!fs.existsSync(path.join(EBPF_NATIVE, 'tapio-ebpf-loader'))) return 'eBPF loader not built: run make -C ebpf-programs';
  for (const f of [TAPIO, TAPIO_CLI, K8S_TESTING]) if (!fs.existsSync(f)) return `not built (${path.relative(ROOT, f)} missing): run npm run build`;
  const cg = cgroupsUnavailable();
  if (cg) return cg;
  if (!fs.existsSync(path.resolve(ROOT, '../shared/datasets/k8s-objects/Pod/oomkilled-unhealthy.yaml'))) return 'the recorded pods are missing (../shared/datasets/k8s-objects)';
  return undefined;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function waitUntil(cond, what, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await cond();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(250);
  }
}

/** Spawns `node <script>` after moving the shell into `cgroup` (so the process starts inside it). */
function spawnInCgroup(cgroup, script, env) {
  const child = spawn('sh', ['-c', `echo $$ > ${cgroup.procsFile} && exec "${process.execPath}" "${script}"`], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const state = { stdout: '', stderr: '', lines: [] };
  child.stdout.setEncoding('utf8').on('data', (d) => {
    state.stdout += d;
    for (const line of d.split('\n')) { try { state.lines.push(JSON.parse(line)); } catch { /* not a JSON line */ } }
  });
  child.stderr.setEncoding('utf8').on('data', (d) => { state.stderr += d; });
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  return {
    child, state, exited,
    async line(pred, what) { return waitUntil(() => state.lines.find(pred), `${what} (stderr: ${state.stderr.slice(-500)})`, 20_000); },
  };
}

function post(port, pathName, body, agent) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path: pathName, method: 'POST', agent, headers: { 'content-type': 'application/json' } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d) => { text += d; });
      res.on('end', () => { try { resolve({ status: res.statusCode, body: JSON.parse(text) }); } catch (err) { reject(err); } });
    });
    req.on('error', reject);
    req.end(JSON.stringify(body));
  });
}

function getJson(base, pathName) {
  return new Promise((resolve, reject) => {
    http.get(`${base}${pathName}`, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d) => { text += d; });
      res.on('end', () => { try { resolve({ status: res.statusCode, body: JSON.parse(text) }); } catch (err) { reject(new Error(`${pathName}: ${res.statusCode} ${text.slice(0, 200)}`)); } });
    }).on('error', reject);
  });
}

/** Incidents in the file exporter's output: the last version of each, by id. */
function incidentsIn(file) {
  if (!fs.existsSync(file)) return new Map();
  const last = new Map();
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    if (!line.includes('"correlation"')) continue;
    let e;
    try { e = JSON.parse(line); } catch { continue; } // a line being written
    if (e.kind === 'correlation' && e.incident?.id) last.set(e.incident.id, e.incident);
  }
  return last;
}

function layersOf(incident) { return new Set(incident.chain.map((l) => l.layer)); }

describe('the payment incident, for real: OTel SDK + eBPF + Kubernetes API double → one incident', function () {
  this.timeout(240_000);
  const sent = []; // {status, traceId, user, phase, atMs}
  let dir;
  let double;
  let collector;
  let db;
  let payment;
  const cgroups = [];
  let eventsFile;
  let apiBase;
  let dbHost;
  let dbPort;
  let dbPodName;
  let oomAtMs;
  let incident;
  const failed = () => sent.filter((s) => s.status === 500);

  before(async function () {
    const reason = whyNot();
    if (reason) { console.log(`      skipped: ${reason}`); this.skip(); }
    const t0 = Date.now();
    const step = (what) => console.log(`      +${((Date.now() - t0) / 1000).toFixed(1)}s ${what}`);
    dir = tmpDir('tapio-payment-');
    eventsFile = path.join(dir, 'events.jsonl');
    const { ApiServerDouble, loadFixture } = require(K8S_TESTING);

    // 1. The cluster: two recorded pods made ours, served by the API double.
    const now = Date.now();
    dbHost = `127.42.${(process.pid >> 8) & 255}.${1 + (process.pid % 250)}`;
    const dbPod = reidentify(loadFixture('Pod/oomkilled-unhealthy.yaml', now), { name: 'payment-db-5d9c7b8f6-q7x2m', app: 'payment-db', hash: '5d9c7b8f6', containerName: 'db', ip: dbHost, memoryLimit: DB_MEMORY_LIMIT, nowMs: now });
    const payPod = reidentify(loadFixture('Pod/healthy.yaml', now), {
      name: 'payment-7d8f9c6b4-x2k4q', app: 'payment', hash: '7d8f9c6b4', containerName: 'payment', ip: '10.244.1.17', nowMs: now,
      uid: '7c0a5e1b-3f2d-4b8e-9a61-0d4f2c9e8b17', containerId: (process.pid.toString(16) + 'a11ce').padEnd(64, '0'),
    });
    dbPodName = dbPod.pod.metadata.name;
    double = new ApiServerDouble({ bookmarkIntervalMs: 1000 });
    await double.start();
    for (const [app, hash] of [['payment-db', '5d9c7b8f6'], ['payment', '7d8f9c6b4']]) {
      const o = owned(app, hash);
      double.create(o.deployment); double.create(o.rs); double.create(o.service);
    }
    double.create(dbPod.pod);
    double.create(payPod.pod);
    const kubeconfig = writeFile(dir, 'kubeconfig.yaml', double.kubeconfig());

    // 2. Their cgroups, as the kubelet would name them.
    const cgRoot = `tapio-payment-${process.pid}`;
    cgroups.push(createPodCgroup(cgRoot, dbPod.podUid, dbPod.containerId, DB_MEMORY_LIMIT));
    cgroups.push(createPodCgroup(cgRoot, payPod.podUid, payPod.containerId, 0));

    // 3. The collector.
    collector = startTapio(['--manifest', 'distributions/tapio-k8s/manifest.yaml', '--config', path.join(PAYMENT_DIR, 'collector.yaml')], {
      env: {
        PAYMENT_API_DB: path.join(dir, 'tapio-api.db'), PAYMENT_EVENTS_FILE: eventsFile, PAYMENT_KUBECONFIG: kubeconfig,
        PAYMENT_CGROUP_ROOT: `/${cgRoot}`, PAYMENT_K8S_DERIVED_RULES: path.join(ROOT, 'receivers/kubernetes/rules/derived.yaml'),
      },
    });
    const ready = (msg) => (l) => l.msg === msg;
    const otlpLog = await collector.waitForLog(ready('OTLP/HTTP receiver listening'), 60_000);
    const apiLog = await collector.waitForLog(ready('Tapio API (REST, SSE, dashboard) listening'), 60_000);
    await collector.waitForLog(ready('ebpf: programs attached'), 60_000);
    await collector.waitForLog(ready('everything is ready; pipelines running'), 60_000);
    apiBase = String(apiLog.address).startsWith('http') ? apiLog.address : `http://${apiLog.address}`;
    // The topology is there once the pod watch is open (after its initial list).
    await waitUntil(() => double.requests.some((r) => r.path.endsWith('/pods') && r.query.watch), 'the pod watch', 30_000);
    step('collector ready');

    // 4. The database stand-in and the payment service, each in its pod's cgroup.
    db = spawnInCgroup(cgroups[0], path.join(PAYMENT_DIR, 'database.js'), { DB_HOST: dbHost, DB_PORT: '0' });
    dbPort = (await db.line((l) => l.listening, 'the database stand-in listening')).listening.port;
    payment = spawnInCgroup(cgroups[1], path.join(PAYMENT_DIR, 'payment-service.js'), { OTLP_ENDPOINT: `http://${otlpLog.endpoint}`, DB_HOST: dbHost, DB_PORT: String(dbPort) });
    const paymentPort = (await payment.line((l) => l.listening, 'the payment service listening')).listening.port;

    // 5. Traffic: a healthy baseline, then the leak, then requests against a dead database.
    const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
    let n = 0;
    const drive = async (ms, phase) => {
      const end = Date.now() + ms;
      while (Date.now() < end) {
        const user = USERS[n++ % USERS.length];
        const t0 = Date.now();
        const r = await post(paymentPort, '/pay', { user, amount: 20 + (n % 7) * 10 }, agent);
        sent.push({ status: r.status, traceId: r.body.traceId, user, phase, atMs: t0 });
        await sleep(Math.max(0, 1000 / REQUESTS_PER_SECOND - (Date.now() - t0)));
      }
    };
    await drive(BASELINE_MS, 'baseline');
    step(`baseline: ${sent.length} requests`);
    db.child.kill('SIGUSR2');
    const end = await db.exited;
    assert.equal(end.signal, 'SIGKILL', `the OOM killer ended the database stand-in (it exited with ${JSON.stringify(end)})`);
    oomAtMs = Date.now();
    step('database stand-in OOM-killed');
    // The kubelet reports what happened: the container terminated OOMKilled, the pod not ready.
    double.update(oomKilled(double.get('v1', 'Pod', NAMESPACE, dbPodName), oomAtMs));
    await drive(FAILING_MS, 'failing');
    // The correlation processor closes windows in event time: keep traffic flowing until the
    // incident covers all four layers (or give up after 45 s and let the assertions tell).
    const deadline = Date.now() + 45_000;
    while (Date.now() < deadline) {
      await drive(2000, 'failing');
      const all = [...incidentsIn(eventsFile).values()].filter((i) => i.rankedCauses?.some((c) => c.entity?.service === 'payment-db'));
      if (all.some((i) => layersOf(i).size === 4 && i.impact?.revenueAtRisk > 0)) { step(`incident covers all four layers, ${((Date.now() - oomAtMs) / 1000).toFixed(1)}s after the OOM kill (wall clock)`); break; }
    }
    agent.destroy();
    step(`traffic done: ${sent.length} requests, ${failed().length} failed`);
    await sleep(1000); // the file exporter flushes every 200 ms
  });

  after(async () => {
    // SIGTERM: the service flushes its telemetry and exits 0 (a SIGKILL would be one more kernel event in the story)
    for (const p of [payment, db]) {
      if (!p || p.child.exitCode !== null || p.child.signalCode !== null) continue;
      p.child.kill('SIGTERM');
      const t = setTimeout(() => p.child.kill('SIGKILL'), 5000);
      await p.exited;
      clearTimeout(t);
    }
    if (collector && collector.child.exitCode === null) {
      collector.child.kill('SIGTERM');
      const t = setTimeout(() => collector.child.kill('SIGKILL'), 15_000);
      await collector.exited;
      clearTimeout(t);
    }
    await double?.stop();
    for (const cg of [...cgroups].reverse()) cg.remove();
    if (dir && process.env.TAPIO_PAYMENT_KEEP === '1') console.log(`      kept: ${dir} (TAPIO_PAYMENT_KEEP=1)`);
    else if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('drove healthy traffic, then got 500s once the database stand-in was OOM-killed', () => {
    const baseline = sent.filter((s) => s.phase === 'baseline');
    assert.ok(baseline.length >= 50, `baseline requests: ${baseline.length}`);
    assert.ok(baseline.every((s) => s.status === 200), 'every baseline request succeeded');
    const after = sent.filter((s) => s.phase === 'failing');
    assert.ok(after.length > 0 && after.every((s) => s.status === 500), 'every request after the OOM kill failed with 500');
  });

  it('the kernel, network, Kubernetes and application evidence all reached the pipeline', () => {
    const events = fs.readFileSync(eventsFile, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
    const oom = events.find((e) => e.kind === 'kernel' && e.kernel?.event === 'oom_kill');
    assert.ok(oom, 'an oom_kill kernel event');
    assert.equal(oom.resource['k8s.pod.name'], dbPodName, 'the OOM kill resolved to the database pod (cgroup → container id → topology)');
    assert.equal(oom.resource['service.name'], 'payment-db');
    const refused = events.find((e) => e.kind === 'network' && e.network?.event === 'connection_refused' && e.network.dstPort === dbPort);
    assert.ok(refused, 'a connection_refused network event to the database port');
    assert.equal(refused.attributes['tapio.peer.service'], 'payment-db', 'the refused destination resolved to the database service');
    const k8s = events.find((e) => e.kind === 'k8s' && e.k8s?.reason === 'OOMKilled');
    assert.ok(k8s, 'an OOMKilled event derived by the kubernetes receiver');
    assert.equal(k8s.resource['k8s.pod.name'], dbPodName);
    assert.ok(events.some((e) => e.kind === 'span' && e.severity === 'error' && e.attributes['http.response.status_code'] === 500), 'failing payment spans');
    assert.ok(events.some((e) => e.kind === 'log' && e.severity === 'error' && e.trace?.traceId), 'error logs carrying their trace id');
  });

  it('produces exactly one incident about it, rooted in the OOM kill of the database stand-in', () => {
    const all = [...incidentsIn(eventsFile).values()];
    // Incidents overlapping the failure (anything earlier is baseline noise, reported if present).
    const about = all.filter((i) => Number(i.endTimeUnixNano) / 1e6 >= oomAtMs - 15_000);
    if (all.length !== about.length) console.log(`      note: ${all.length - about.length} other incident(s) before the failure: ${all.filter((i) => !about.includes(i)).map((i) => i.title).join('; ')}`);
    assert.equal(about.length, 1, `incidents about the failure: ${about.map((i) => `${i.id}: ${i.title}`).join(' | ') || 'none'}`);
    incident = about[0];
    console.log(`      incident ${incident.id}: ${incident.title} (confidence ${incident.confidence})`);
    for (const l of incident.chain) console.log(`        [${l.layer}] ${l.summary}`);
    assert.equal(incident.rankedCauses[0].entity.service, 'payment-db', `ranked causes: ${JSON.stringify(incident.rankedCauses.map((c) => [c.entity.service, c.score]))}`);
    assert.equal(incident.rootCause.entity.service, 'payment-db');
    assert.equal(incident.rootCause.entity.pod, dbPodName);
    assert.match(incident.rootCause.narrative, /OOM/i);
    const oomLinks = incident.chain.filter((l) => l.intent === 'oom_kill');
    assert.ok(oomLinks.some((l) => l.layer === 'kernel'), 'the kernel OOM kill is in the chain');
    assert.ok(oomLinks.some((l) => incident.rootCause.eventIds.includes(l.eventId)), 'the root cause names the OOM kill event');
  });

  it('chains the story across all four layers, kernel first', () => {
    assert.ok(incident, 'an incident');
    assert.deepEqual([...layersOf(incident)].sort(), ['application', 'kernel', 'kubernetes', 'network']);
    const first = (pred) => incident.chain.findIndex(pred);
    const kernelOom = first((l) => l.layer === 'kernel' && l.intent === 'oom_kill');
    const refused = first((l) => l.layer === 'network' && l.intent === 'connection_refused');
    assert.ok(kernelOom >= 0 && refused > kernelOom, 'the OOM kill comes before the refused connections');
    assert.ok(incident.chain.some((l) => l.layer === 'kubernetes' && l.intent === 'oom_kill'), 'the pod reported OOMKilled');
    assert.ok(incident.chain.some((l) => l.layer === 'application' && (l.intent === 'http_5xx' || l.intent === 'connection_refused')), 'the failing payment requests');
  });

  it('explains the refused connections and the 500s by the OOM kill (the payment service is a symptom, not a rival cause)', () => {
    // TODO(issue 5): fails today. The correlation processor takes the Kubernetes topology only in
    // start(), but receivers start after processors, so it never gets it: the refused destination
    // (127.42.x.y) and the CLIENT spans' server.address are not resolved to payment-db, the network
    // events are blamed on the payment pod and the call graph learns payment → "other_sql" (db.system)
    // instead of payment → payment-db. Fix in processors/correlation/src/processor.ts: look the
    // topology service up on each batch until it appears (as unifiedevent does); also read the
    // tapio.peer.service attribute unifiedevent puts on network events.
    assert.ok(incident, 'an incident');
    const others = incident.rankedCauses.filter((c) => c.entity.service !== 'payment-db');
    for (const c of others) {
      for (const line of c.evidence) {
        if (/refused|HTTP 5\d\d/.test(line)) assert.match(line, /\(follows .*payment-db\)/, `evidence held against ${c.entity.service} is not explained by the database's OOM kill: "${line}"`);
      }
    }
  });

  it('computes the impact from the catalog and the failing requests', () => {
    assert.ok(incident?.impact, 'impact');
    const imp = incident.impact;
    const failing = failed();
    const failingUsers = new Set(failing.map((s) => s.user));
    assert.equal(imp.customerFacing, true);
    assert.ok(imp.revenueAtRisk > 0, `revenue at risk: ${imp.revenueAtRisk}`);
    assert.ok(imp.affectedUsers > 0 && imp.affectedUsers <= failingUsers.size, `affected users ${imp.affectedUsers} of ${failingUsers.size} who saw a failure`);
    if (imp.failedRequests !== undefined) {
      assert.ok(imp.failedRequests > 0 && imp.failedRequests <= failing.length, `failed requests ${imp.failedRequests} of ${failing.length} sent`);
      assert.equal(imp.revenueAtRisk, imp.failedRequests * AVERAGE_ORDER_VALUE, 'revenue at risk = failing entry requests × average order value');
    } else {
      assert.ok(imp.revenueAtRisk <= failing.length * AVERAGE_ORDER_VALUE && imp.revenueAtRisk % AVERAGE_ORDER_VALUE === 0);
    }
    assert.ok(imp.services.includes('payment') && imp.services.includes('payment-db'), `services: ${imp.services}`);
  });

  it('recommends what to do about the database stand-in', () => {
    assert.ok(incident?.recommendations?.length > 0, 'recommendations');
    assert.ok(incident.recommendations.some((r) => /memory limit|leak/i.test(r) && /payment-db/.test(r)), `recommendations: ${incident.recommendations.join(' | ')}`);
  });

  it('tapio-cli correlate --trace-id <a failing trace> prints the root cause and the chain', () => {
    assert.ok(incident, 'an incident');
    const trace = failed()[0].traceId;
    const r = spawnSync(process.execPath, [TAPIO_CLI, 'correlate', '--trace-id', trace, '--endpoint', apiBase], { encoding: 'utf8', timeout: 30_000 });
    console.log(r.stdout.split('\n').map((l) => `        ${l}`).join('\n'));
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`Trace: ${trace}`));
    assert.match(r.stdout, /Root Cause: .*(OOM|oom)/);
    assert.match(r.stdout, /Root Cause: .*payment-db/);
    assert.match(r.stdout, new RegExp(`Incident: ${incident.id}`));
    for (const tag of ['APP', 'NET', 'K8S', 'KERNEL']) assert.match(r.stdout, new RegExp(`\\[${tag}\\]`), `the chain shows the ${tag} layer`);
  });

  it('tapio-cli correlate counts each failed request once', () => {
    // TODO(issue 10): extensions/api/src/correlate.ts counts every error span as a failed request,
    // so a request whose SERVER span and CLIENT (database) span both failed counts twice. Counting
    // SERVER/CONSUMER spans (entry spans) only would make this pass.
    assert.ok(incident, 'an incident');
    const trace = failed()[0].traceId;
    const r = spawnSync(process.execPath, [TAPIO_CLI, 'correlate', '--trace-id', trace, '--endpoint', apiBase, '--output', 'json'], { encoding: 'utf8', timeout: 30_000 });
    assert.equal(r.status, 0, r.stderr);
    const summary = JSON.parse(r.stdout);
    // the API counts failures within the incident's window; allow a second either side for clock granularity
    const from = Number(incident.startTimeUnixNano) / 1e6 - 1000;
    const to = Number(incident.endTimeUnixNano) / 1e6 + 1000;
    const inWindow = failed().filter((s) => s.atMs >= from && s.atMs <= to).length;
    assert.ok(summary.failedRequests > 0, 'some failed requests');
    assert.ok(summary.failedRequests <= inWindow, `tapio-cli reports ${summary.failedRequests} failed requests; ${inWindow} failed in the incident's window`);
  });

  it('serves the incident at /api/v1/incidents/<id>', async () => {
    assert.ok(incident, 'an incident');
    const r = await getJson(apiBase, `/api/v1/incidents/${encodeURIComponent(incident.id)}`);
    assert.equal(r.status, 200);
    const got = r.body.incident ?? r.body;
    assert.equal(got.id, incident.id);
    assert.equal(got.rootCause.entity.service, 'payment-db');
    assert.deepEqual([...layersOf(got)].sort(), ['application', 'kernel', 'kubernetes', 'network']);
  });

  it('shows the incident page with all four timeline lanes in headless Chromium (screenshot)', async function () {
    if (!fs.existsSync(CHROMIUM)) { console.log(`      skipped: no Chromium at ${CHROMIUM} (.ci/setup.d/api.sh installs it)`); this.skip(); }
    let chromium;
    try { ({ chromium } = require('playwright-core')); } catch { console.log('      skipped: playwright-core is not installed'); this.skip(); }
    assert.ok(incident, 'an incident');
    const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'] });
    try {
      const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
      await page.goto(`${apiBase}/incidents/${encodeURIComponent(incident.id)}`);
      await page.locator('#timeline').waitFor({ timeout: 20_000 });
      for (const layer of ['application', 'network', 'kubernetes', 'kernel']) {
        const n = await page.locator(`.lane[data-layer="${layer}"] .tl-event`).count();
        assert.ok(n > 0, `the ${layer} lane shows events`);
      }
      assert.match(await page.locator('#root-cause').innerText(), /payment-db/);
      const shot = path.join(os.tmpdir(), `tapio-payment-incident-${Date.now()}.png`);
      await page.screenshot({ path: shot, fullPage: true });
      console.log(`      screenshot: ${shot}`);
      assert.ok(fs.statSync(shot).size > 10_000, 'screenshot written');
    } finally {
      await browser.close();
    }
  });
});
