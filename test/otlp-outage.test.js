'use strict';
// Downstream outage with a persistent queue, end to end over OTLP/HTTP:
//   client → collector A (otlp receiver → otlphttp exporter, sending_queue in file_storage) → collector B (otlp → file)
// B is down for OUTAGE_SECONDS (default 30) while A keeps receiving; A is killed with SIGKILL in the
// middle of the outage and restarted; when B returns, every log record A acknowledged (HTTP 200)
// must be in B's file. Duplicates (at-least-once redelivery) are reported, not failed on.
const assert = require('node:assert/strict');
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const http = require('node:http');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..');
const OUTAGE_SECONDS = Number(process.env.OUTAGE_SECONDS ?? 30);
const need = ['receivers/otlp/dist/src/index.js', 'exporters/otlp/dist/src/index.js', 'extensions/storage/dist/src/index.js', 'exporters/file/dist/src/index.js', 'core/dist/src/cli/bin.js'];

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); });
  });
}

function post(port, body) {
  return new Promise((resolve) => {
    const req = http.request({ host: '127.0.0.1', port, path: '/v1/logs', method: 'POST', headers: { 'content-type': 'application/json' } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode));
    });
    req.on('error', () => resolve(0));
    req.setTimeout(5000, () => req.destroy());
    req.end(body);
  });
}

/** An OTLP/JSON logs request whose records carry the given sequence numbers as attribute `seq`. */
function logsRequest(seqs) {
  const now = `${Date.now()}000000`;
  return JSON.stringify({
    resourceLogs: [{
      resource: { attributes: [{ key: 'service.name', value: { stringValue: 'outage-test' } }] },
      scopeLogs: [{
        scope: { name: 'outage' },
        logRecords: seqs.map((s) => ({ timeUnixNano: now, severityNumber: 9, body: { stringValue: `record ${s}` }, attributes: [{ key: 'seq', value: { stringValue: String(s) } }] })),
      }],
    }],
  });
}

function startA(dir, portA, portB) {
  const cfg = path.join(dir, 'a.yaml');
  fs.writeFileSync(cfg, `
extensions:
  file_storage/q: { directory: ${JSON.stringify(path.join(dir, 'queue'))}, create_directory: true }
receivers:
  otlp: { protocols: { http: { endpoint: "127.0.0.1:${portA}" } } }
exporters:
  otlphttp:
    endpoint: http://127.0.0.1:${portB}
    compression: none
    timeout: 2s
    sending_queue: { storage: file_storage/q, queue_size: 100000, num_consumers: 4, drain_timeout: 1s }
    retry_on_failure: { initial_interval: 100ms, max_interval: 1s, max_elapsed_time: 0s }
service:
  extensions: [file_storage/q]
  telemetry: { metrics: { address: "localhost:0" }, logs: { level: warn } }
  pipelines:
    logs: { receivers: [otlp], exporters: [otlphttp] }
`);
  const args = [path.join(ROOT, 'core/dist/src/cli/bin.js'), '--config', cfg,
    '--plugin', path.join(ROOT, 'receivers/otlp'), '--plugin', path.join(ROOT, 'exporters/otlp'), '--plugin', path.join(ROOT, 'extensions/storage')];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  child.stderrText = '';
  child.stderr.on('data', (d) => { child.stderrText += d.toString(); });
  return child;
}

async function waitForPort(port, child, timeoutMs = 30_000) {
  const end = Date.now() + timeoutMs;
  for (;;) {
    if (child && child.exitCode !== null) throw new Error(`collector A exited (${child.exitCode}): ${child.stderrText}`);
    const ok = await new Promise((resolve) => {
      const s = net.connect(port, '127.0.0.1', () => { s.destroy(); resolve(true); });
      s.on('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > end) throw new Error(`port ${port} did not open`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function startB(dir, portB) {
  const core = require(path.join(ROOT, 'core/dist/src/index.js'));
  const registry = new core.Registry();
  core.loadPlugin(path.join(ROOT, 'receivers/otlp'), registry);
  core.loadPlugin(path.join(ROOT, 'exporters/file'), registry);
  const loaded = core.loadConfigSources([]);
  core.mergeYamlText(loaded, `
receivers:
  otlp: { protocols: { http: { endpoint: "127.0.0.1:${portB}" } } }
exporters:
  file: { path: ${JSON.stringify(path.join(dir, 'b.jsonl'))}, flush_interval: 0s }
service:
  telemetry: { metrics: { address: "localhost:0" } }
  pipelines:
    logs: { receivers: [otlp], exporters: [file] }
`, 'b.yaml');
  const { config, issues } = core.resolveConfig(loaded, registry);
  if (!config) throw new Error(issues.map((i) => core.formatConfigIssue(i)).join('\n'));
  const b = new core.Collector({ logger: core.createLogger('silent') });
  await b.start(config);
  return b;
}

function receivedSeqs(file) {
  if (!fs.existsSync(file)) return [];
  return fs.readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l).attributes.seq);
}

describe('OTLP downstream outage with a persistent queue (collector A killed with SIGKILL during the outage)', function () {
  this.timeout((OUTAGE_SECONDS + 120) * 1000);
  let dir;
  const children = [];
  let b;
  before(function () {
    const missing = need.filter((f) => !fs.existsSync(path.join(ROOT, f)));
    if (missing.length) { console.log(`      skipped: not built: ${missing.join(', ')}`); this.skip(); }
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tapio-outage-'));
  });
  after(async () => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
    if (b) await b.shutdown();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('delivers every acknowledged record once B returns; reports redelivered duplicates', async () => {
    const [portA, portB] = [await freePort(), await freePort()];
    const acked = new Set();
    let seq = 0;
    let refused = 0;
    const sendFor = async (ms) => {
      const end = Date.now() + ms;
      while (Date.now() < end) {
        const seqs = Array.from({ length: 20 }, () => seq++);
        const status = await post(portA, logsRequest(seqs));
        if (status === 200) for (const s of seqs) acked.add(String(s));
        else refused++;
        await new Promise((r) => setTimeout(r, 20));
      }
    };

    const outageStart = Date.now();
    let a = startA(dir, portA, portB);
    children.push(a);
    await waitForPort(portA, a);
    await sendFor((OUTAGE_SECONDS * 1000) / 2 - (Date.now() - outageStart));
    const ackedBeforeKill = acked.size;
    a.kill('SIGKILL');
    await new Promise((r) => a.once('exit', r));

    a = startA(dir, portA, portB);
    children.push(a);
    await waitForPort(portA, a);
    await sendFor(OUTAGE_SECONDS * 1000 - (Date.now() - outageStart));
    assert.equal(receivedSeqs(path.join(dir, 'b.jsonl')).length, 0, 'B was down: nothing can have arrived yet');

    b = await startB(dir, portB);
    const file = path.join(dir, 'b.jsonl');
    const end = Date.now() + 90_000;
    let got = new Set();
    while (Date.now() < end) {
      got = new Set(receivedSeqs(file));
      if ([...acked].every((s) => got.has(s))) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    const missing = [...acked].filter((s) => !got.has(s));
    const all = receivedSeqs(file);
    const duplicates = all.length - new Set(all).size;
    console.log(`      outage ${OUTAGE_SECONDS}s: acknowledged ${acked.size} records (${ackedBeforeKill} before kill -9), refused ${refused} requests, B received ${all.length}, duplicates ${duplicates}, missing ${missing.length}`);
    assert.ok(ackedBeforeKill > 0, 'A acknowledged data before it was killed');
    assert.deepEqual(missing, [], 'every acknowledged record reached B');

    a.kill('SIGTERM');
    await new Promise((r) => a.once('exit', r));
  });
});
