'use strict';
// Bundle size and cold start (process start → "everything is ready") of each distribution,
// built with tapio-builder from the repo's packages, run from a copy outside the repo.
const { spawn, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '../..');
const BUILDER = path.join(ROOT, 'builder/dist/src/bin.js');
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const ENV = {
  TAPIO_OTLP_GRPC_ENDPOINT: '127.0.0.1:0', TAPIO_OTLP_HTTP_ENDPOINT: '127.0.0.1:0', TAPIO_HEALTH_ENDPOINT: '127.0.0.1:0',
  TAPIO_METRICS_ENDPOINT: '127.0.0.1:0', TAPIO_API_HTTP_ENDPOINT: '127.0.0.1:0', TAPIO_API_GRPC_ENDPOINT: '127.0.0.1:0',
};

function dirSize(dir) {
  let n = 0;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    n += e.isDirectory() ? dirSize(p) : fs.statSync(p).size;
  }
  return n;
}

function coldStart(bin, cwd) {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const child = spawn(process.execPath, [bin], { cwd, env: { ...process.env, ...ENV, TAPIO_API_DB: path.join(cwd, 'api.db') }, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.setEncoding('utf8').on('data', (d) => {
      err += d;
      if (err.includes('everything is ready; pipelines running')) {
        const ms = Number(process.hrtime.bigint() - t0) / 1e6;
        child.kill('SIGTERM');
        child.on('exit', () => resolve(ms));
      }
    });
    child.on('exit', (code) => { if (!err.includes('everything is ready')) reject(new Error(`exited ${code}: ${err}`)); });
  });
}

async function main() {
  const figures = {};
  for (const name of ['tapio-core', 'tapio-k8s']) {
    const manifest = path.join(ROOT, 'distributions', name, 'manifest.yaml');
    const t0 = Date.now();
    const b = spawnSync(process.execPath, [BUILDER, 'build', '--manifest', manifest, '--offline'], { encoding: 'utf8' });
    if (b.status !== 0) throw new Error(b.stderr);
    const buildMs = Date.now() - t0;
    const out = path.join(ROOT, 'distributions', name, 'dist');
    const copy = fs.mkdtempSync(path.join(os.tmpdir(), `${name}-bench-`));
    fs.cpSync(out, copy, { recursive: true, filter: (s) => !s.includes('.build') });
    const bin = path.join(copy, `${name}.js`);
    const starts = [];
    for (let i = 0; i < RUNS; i++) starts.push(await coldStart(bin, copy));
    starts.sort((a, b) => a - b);
    figures[name] = {
      bundle_mb: +(fs.statSync(bin).size / 1e6).toFixed(2),
      total_mb: +(dirSize(copy) / 1e6).toFixed(2),
      build_s: +(buildMs / 1000).toFixed(1),
      cold_start_ms_median: Math.round(starts[Math.floor(starts.length / 2)]),
    };
    console.log(`${name}: bundle ${figures[name].bundle_mb} MB (${figures[name].total_mb} MB with assets and native parts), build ${figures[name].build_s} s, cold start to ready ${figures[name].cold_start_ms_median} ms (median of ${RUNS})`);
    fs.rmSync(copy, { recursive: true, force: true });
  }
  console.log('BENCH ' + JSON.stringify({ ...Object.fromEntries(Object.entries(figures).flatMap(([k, v]) => Object.entries(v).map(([f, x]) => [`${k}_${f}`, x]))), load_average: os.loadavg()[0] }));
}
main().catch((e) => { console.error(e); process.exit(1); });
