#!/usr/bin/env node
'use strict';
// filelog throughput: lines/s from a log file to a file on disk, side by side on the same input:
//   1. Tapio: a Collector with receiver filelog → exporter file (JSON lines, flush every batch);
//   2. Tapio: the same with a regex_parser operator (level, request id, status, latency);
//   3. Tapio exactly-once: checkpoints and the file exporter's delivery ledger in file_storage (SQLite);
//   4. rsyslog (Debian package): imfile → omfile, in the foreground with its own config and work dir.
// Each run starts with the whole input present and ends when the output holds every line.
// Run: npx tsc -b core receivers/filelog exporters/file && node test/bench/filelog.bench.js
// (FILELOG_BENCH_LINES=… to change the input size; rsyslog is skipped with a message when missing.)
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawn } = require('node:child_process');
const { Collector, createLogger } = require('../../core/dist/src/index.js');
const { resolveYaml } = require('../../core/dist/src/testing/index.js');
const filelog = require('../../receivers/filelog/dist/src/index.js').default;
const fileExporter = require('../../exporters/file/dist/src/index.js').default;

const LINES = Number(process.env.FILELOG_BENCH_LINES ?? 300_000);
const TIMEOUT_MS = 40_000;
const RSYSLOGD = ['/usr/sbin/rsyslogd', '/sbin/rsyslogd'].find((p) => fs.existsSync(p));

function writeInput(file) {
  const levels = ['INFO', 'INFO', 'INFO', 'DEBUG', 'WARN', 'ERROR'];
  const fd = fs.openSync(file, 'w');
  let chunk = '';
  const t0 = Date.UTC(2026, 10, 22, 14, 0, 0);
  for (let i = 0; i < LINES; i++) {
    const ts = new Date(t0 + i).toISOString();
    chunk += `${ts} ${levels[i % levels.length]} [req-${String(i).padStart(8, '0')}] GET /api/cart/items?user=u${i % 997} status=${i % 50 === 0 ? 503 : 200} latency_ms=${(i * 7) % 250} trace_id=${(i * 2654435761 >>> 0).toString(16).padStart(32, '7')}\n`;
    if (chunk.length > 1 << 20) { fs.writeSync(fd, chunk); chunk = ''; }
  }
  fs.writeSync(fd, chunk);
  fs.closeSync(fd);
  return fs.statSync(file).size;
}

/** Counts newlines appended to a file, reading only the new bytes each time. */
class LineCounter {
  constructor(file) { this.file = file; this.pos = 0; this.lines = 0; this.buf = Buffer.allocUnsafe(1 << 20); }
  poll() {
    let fd;
    try { fd = fs.openSync(this.file, 'r'); } catch { return this.lines; }
    try {
      for (;;) {
        const n = fs.readSync(fd, this.buf, 0, this.buf.length, this.pos);
        if (n === 0) break;
        this.pos += n;
        for (let i = this.buf.indexOf(10, 0); i !== -1 && i < n; i = this.buf.indexOf(10, i + 1)) this.lines++;
      }
    } finally { fs.closeSync(fd); }
    return this.lines;
  }
}

async function waitForLines(counter, n, what) {
  const end = Date.now() + TIMEOUT_MS;
  while (counter.poll() < n) {
    if (Date.now() > end) throw new Error(`${what}: only ${counter.lines} of ${n} lines after ${TIMEOUT_MS} ms`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

const storageFactory = (() => { try { return require('../../extensions/storage/dist/src/index.js').default; } catch { return undefined; } })();

async function runTapio(dir, input, operators, { exactlyOnce = false } = {}) {
  const out = path.join(dir, 'tapio-out.jsonl');
  const storage = exactlyOnce ? 'file_storage' : undefined;
  const yaml = `
${storage ? `extensions: { file_storage: { directory: ${JSON.stringify(path.join(dir, 'storage'))}, create_directory: true } }` : ''}
receivers:
  filelog:
    include: [${JSON.stringify(input)}]
    start_at: beginning
    poll_interval: 50ms
    operators: ${JSON.stringify(operators)}
    max_batch_size: 1000
    ${storage ? `storage: ${storage}` : ''}
exporters:
  file: { path: ${JSON.stringify(out)}, flush_interval: 0s ${storage ? `, storage: ${storage}` : ''} }
service:
  ${storage ? `extensions: [${storage}]` : ''}
  telemetry: { metrics: { address: "localhost:0" } }
  pipelines: { logs: { receivers: [filelog], exporters: [file] } }
`;
  const { config, issues } = resolveYaml(yaml, storageFactory ? [filelog, fileExporter, storageFactory] : [filelog, fileExporter]);
  if (!config) throw new Error(issues.map((i) => `${i.path}: ${i.message}`).join('; '));
  const collector = new Collector({ logger: createLogger('warn') });
  const counter = new LineCounter(out);
  const rss0 = process.memoryUsage().rss;
  let peakRss = rss0;
  const rssTimer = setInterval(() => { peakRss = Math.max(peakRss, process.memoryUsage().rss); }, 50);
  const t0 = process.hrtime.bigint();
  await collector.start(config);
  await waitForLines(counter, LINES, 'tapio');
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  clearInterval(rssTimer);
  await collector.shutdown();
  return { seconds, linesPerSec: LINES / seconds, outBytesPerLine: fs.statSync(out).size / LINES, peakRssMB: peakRss / 2 ** 20 };
}

async function runRsyslog(dir, input) {
  if (!RSYSLOGD) return { skipped: 'rsyslogd not installed (apt-get install rsyslog; see .ci/setup.d/filelog.sh)' };
  const work = path.join(dir, 'rsyslog-work');
  fs.mkdirSync(work);
  const out = path.join(dir, 'rsyslog-out.log');
  const conf = path.join(dir, 'rsyslog.conf');
  // Only imfile is loaded (no imuxsock/imklog: nothing touches the system's /dev/log or kernel log).
  fs.writeFileSync(conf, `
global(workDirectory="${work}" maxMessageSize="64k")
module(load="imfile" mode="inotify")
template(name="raw" type="string" string="%msg%\\n")
ruleset(name="bench") {
  action(type="omfile" file="${out}" template="raw")
}
input(type="imfile" file="${input}" tag="app" ruleset="bench" freshStartTail="off")
`);
  const counter = new LineCounter(out);
  const t0 = process.hrtime.bigint();
  const child = spawn(RSYSLOGD, ['-n', '-f', conf, '-i', path.join(dir, 'rsyslog.pid')], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => { stderr += d; });
  const exited = new Promise((r) => child.once('exit', r));
  try {
    await Promise.race([waitForLines(counter, LINES, 'rsyslog'), exited.then(() => { throw new Error(`rsyslogd exited: ${stderr}`); })]);
  } finally {
    child.kill('SIGTERM');
    await exited;
  }
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  return { seconds, linesPerSec: LINES / seconds, outBytesPerLine: fs.statSync(out).size / LINES };
}

/** The receiver alone into a counting consumer: what filelog itself costs, without an exporter. */
async function runReceiverOnly(input) {
  const { testContext, testHost, validConfig } = require('../../core/dist/src/testing/index.js');
  let n = 0;
  let done;
  const finished = new Promise((r) => { done = r; });
  const sink = { consume: async (b) => { n += b.events.length; if (n >= LINES) done(); } };
  const r = filelog.create(testContext('filelog', 'receiver'), validConfig(filelog, { include: [input], start_at: 'beginning' }), sink);
  const t0 = process.hrtime.bigint();
  await r.start(testHost());
  await finished;
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  await r.shutdown();
  return { seconds, linesPerSec: LINES / seconds };
}

const REGEX = '^(?P<time>\\S+) (?P<level>\\w+) \\[(?P<req>[^\\]]+)\\] (?P<method>\\w+) (?P<url>\\S+) status=(?P<status>\\d+) latency_ms=(?P<latency>\\d+) trace_id=(?P<trace_id>[0-9a-f]{32})$';

async function main() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tapio-filelog-bench-'));
  try {
    const inputs = ['plain', 'regex', 'once', 'rsyslog'].map((n) => path.join(dir, `in-${n}`, 'app.log'));
    for (const f of inputs) fs.mkdirSync(path.dirname(f));
    const bytes = writeInput(inputs[0]);
    for (const f of inputs.slice(1)) fs.copyFileSync(inputs[0], f);
    console.log(`input: ${LINES} lines, ${(bytes / 2 ** 20).toFixed(1)} MiB (${(bytes / LINES).toFixed(0)} bytes/line)`);

    const alone = await runReceiverOnly(inputs[0]);
    console.log(`tapio filelog receiver alone  ${alone.linesPerSec.toFixed(0).padStart(9)} lines/s  (${alone.seconds.toFixed(2)} s, no exporter: reference)`);
    const plain = await runTapio(path.dirname(inputs[0]), inputs[0], []);
    console.log(`tapio filelog → file          ${plain.linesPerSec.toFixed(0).padStart(9)} lines/s  (${plain.seconds.toFixed(2)} s, ${plain.outBytesPerLine.toFixed(0)} B/line out, peak RSS ${plain.peakRssMB.toFixed(0)} MiB)`);
    const parsed = await runTapio(path.dirname(inputs[1]), inputs[1], [
      { type: 'regex_parser', regex: REGEX, timestamp: { parse_from: 'attributes.time' }, severity: { parse_from: 'attributes.level' } },
      { type: 'trace_parser' },
    ]);
    console.log(`tapio filelog+regex → file    ${parsed.linesPerSec.toFixed(0).padStart(9)} lines/s  (${parsed.seconds.toFixed(2)} s, ${parsed.outBytesPerLine.toFixed(0)} B/line out)`);
    const once = storageFactory ? await runTapio(path.dirname(inputs[2]), inputs[2], [], { exactlyOnce: true }) : undefined;
    if (once) console.log(`tapio filelog → file (1×)     ${once.linesPerSec.toFixed(0).padStart(9)} lines/s  (${once.seconds.toFixed(2)} s; checkpoints + ledger in file_storage)`);
    else console.log('tapio filelog → file (1×)     skipped: build extensions/storage first');
    const rs = await runRsyslog(path.dirname(inputs[3]), inputs[3]);
    if (rs.skipped) console.log(`rsyslog imfile → omfile       skipped: ${rs.skipped}`);
    else console.log(`rsyslog imfile → omfile       ${rs.linesPerSec.toFixed(0).padStart(9)} lines/s  (${rs.seconds.toFixed(2)} s, ${rs.outBytesPerLine.toFixed(0)} B/line out)`);
    const ratio = rs.skipped ? null : plain.linesPerSec / rs.linesPerSec;
    if (ratio !== null) console.log(`ratio tapio/rsyslog: ${ratio.toFixed(2)} (plain), ${(parsed.linesPerSec / rs.linesPerSec).toFixed(2)} (with regex_parser)`);
    console.log('BENCH ' + JSON.stringify({
      bench: 'filelog', lines: LINES, inputBytesPerLine: Math.round(bytes / LINES),
      tapioReceiverOnlyLinesPerSec: Math.round(alone.linesPerSec), tapioLinesPerSec: Math.round(plain.linesPerSec), tapioRegexLinesPerSec: Math.round(parsed.linesPerSec),
      tapioExactlyOnceLinesPerSec: once ? Math.round(once.linesPerSec) : null,
      rsyslogLinesPerSec: rs.skipped ? null : Math.round(rs.linesPerSec),
      ratioTapioToRsyslog: ratio === null ? null : Number(ratio.toFixed(3)),
      tapioOutBytesPerLine: Math.round(plain.outBytesPerLine), rsyslogOutBytesPerLine: rs.skipped ? null : Math.round(rs.outBytesPerLine),
      tapioPeakRssMB: Math.round(plain.peakRssMB),
    }));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().then(() => process.exit(0), (err) => { console.error(err); process.exit(1); });
