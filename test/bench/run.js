#!/usr/bin/env node
'use strict';
// `npm run bench [-- name …]`: runs every test/bench/*.bench.js (or the named ones) one after the
// other in its own process, streams its output, and ends with a table of the `BENCH {json}` lines.
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const only = process.argv.slice(2);
const files = fs.readdirSync(__dirname).filter((f) => f.endsWith('.bench.js')).sort()
  .filter((f) => !only.length || only.some((o) => f.startsWith(o)));
const results = [];
for (const f of files) {
  process.stdout.write(`\n=== ${f}\n`);
  const r = spawnSync(process.execPath, ['--expose-gc', path.join(__dirname, f)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], timeout: 10 * 60_000 });
  process.stdout.write(r.stdout ?? '');
  const line = (r.stdout ?? '').split('\n').reverse().find((l) => l.startsWith('BENCH '));
  results.push({ bench: f, status: r.status === 0 ? 'ok' : `failed (${r.status ?? r.signal})`, figures: line ? JSON.parse(line.slice(6)) : undefined });
}
process.stdout.write('\n=== summary\n');
for (const r of results) process.stdout.write(`${r.bench.padEnd(28)} ${r.status.padEnd(12)} ${r.figures ? JSON.stringify(r.figures) : ''}\n`);
process.exitCode = results.every((r) => r.status === 'ok') ? 0 : 1;
