'use strict';
// Helpers for tests that run the real `tapio` CLI as a child process.
const { spawn, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..', '..');
const TAPIO = path.join(ROOT, 'core', 'dist', 'src', 'cli', 'bin.js');
const EXAMPLE_PLUGIN = path.join(ROOT, 'test', 'fixtures', 'tapio-plugin-example');
const DEBUG_EXPORTER = path.join(ROOT, 'exporters', 'debug');

function tmpDir(prefix = 'tapio-test-') {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

function writeFile(dir, name, text) {
  const f = path.join(dir, name);
  fs.writeFileSync(f, text);
  return f;
}

/** Runs `tapio …` to completion. */
function tapioSync(args, opts = {}) {
  return spawnSync(process.execPath, [TAPIO, ...args], { encoding: 'utf8', cwd: opts.cwd ?? ROOT, env: { ...process.env, ...opts.env }, timeout: 60_000 });
}

/**
 * Starts `tapio …` in the background. stdout/stderr are collected; `waitForLog(pred)` resolves
 * with the first JSON log line (stderr) matching `pred`.
 */
function startTapio(args, opts = {}) {
  const child = spawn(process.execPath, [TAPIO, ...args], { cwd: opts.cwd ?? ROOT, env: { ...process.env, ...opts.env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const state = { stdout: '', stderr: '', logs: [], waiters: [] };
  child.stdout.setEncoding('utf8').on('data', (d) => { state.stdout += d; });
  let partial = '';
  child.stderr.setEncoding('utf8').on('data', (d) => {
    state.stderr += d;
    partial += d;
    const lines = partial.split('\n');
    partial = lines.pop();
    for (const line of lines) {
      let rec;
      try { rec = JSON.parse(line); } catch { continue; }
      state.logs.push(rec);
      state.waiters = state.waiters.filter((w) => (w.pred(rec) ? (w.resolve(rec), false) : true));
    }
  });
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  return {
    child,
    state,
    exited,
    waitForLog(pred, timeoutMs = 20_000) {
      const found = state.logs.find(pred);
      if (found) return Promise.resolve(found);
      return new Promise((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`timed out waiting for a log line; stderr so far:\n${state.stderr}`)), timeoutMs);
        state.waiters.push({ pred, resolve: (r) => { clearTimeout(t); resolve(r); } });
      });
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}

module.exports = { ROOT, TAPIO, EXAMPLE_PLUGIN, DEBUG_EXPORTER, tmpDir, writeFile, tapioSync, startTapio };
