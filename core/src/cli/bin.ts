#!/usr/bin/env node
import { runCli } from './main';

runCli().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`tapio: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);
