#!/usr/bin/env node
import * as readline from 'node:readline/promises';
import { runCli } from './main';

const abort = new AbortController();
process.once('SIGINT', () => abort.abort());
process.once('SIGTERM', () => abort.abort());

runCli(process.argv.slice(2), {
  out: (s) => process.stdout.write(s),
  err: (s) => process.stderr.write(s),
  signal: abort.signal,
  async confirm(question) {
    if (!process.stdin.isTTY) {
      process.stderr.write(`${question}\nno terminal to ask on; re-run with --yes to apply\n`);
      return false;
    }
    const rl = readline.createInterface({ input: process.stdin, output: process.stderr });
    try { return /^y(es)?$/i.test((await rl.question(question)).trim()); } finally { rl.close(); }
  },
}).then((code) => { process.exitCode = code; }, (err: Error) => { process.stderr.write(`tapio-cli: ${err.message}\n`); process.exitCode = 1; });
