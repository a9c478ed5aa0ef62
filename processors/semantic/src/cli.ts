import * as fs from 'node:fs';
import * as path from 'node:path';
import { createEvent, type CliCommand, type UnifiedEvent } from '@tapio/core';
import { RuleEngine } from './engine';
import { loadLibrary } from './library';
import { RuleLoadError } from './rules/load';

const USAGE = `usage:
  tapio rules test <rules.yaml> <events.jsonl> [--with-builtin]   which rule matches which event
  tapio rules validate <rules.yaml>...                            check rule files
  tapio rules list [<rules.yaml>...]                              list the shipped (and given) rules
`;

interface Out { out: (s: string) => void; err: (s: string) => void }
const std: Out = { out: (s) => process.stdout.write(s), err: (s) => process.stderr.write(s) };

function describe(e: UnifiedEvent): string {
  const what = e.k8s?.reason ?? e.kernel?.event ?? e.network?.event ?? e.span?.name ?? e.metric?.name
    ?? (typeof e.log?.body === 'string' ? e.log.body : e.log?.body !== undefined ? JSON.stringify(e.log.body) : '');
  const short = what.length > 60 ? what.slice(0, 57) + '...' : what;
  return `${e.kind} ${JSON.stringify(short)}`;
}

/** Reads JSON lines as events; partial events get defaults (id, times, resource, attributes). */
function readEvents(file: string, io: Out): UnifiedEvent[] | undefined {
  let text: string;
  try { text = fs.readFileSync(file, 'utf8'); } catch (err) { io.err(`${file}: cannot read: ${(err as Error).message}\n`); return undefined; }
  const events: UnifiedEvent[] = [];
  const lines = text.split('\n');
  let bad = 0;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (!line || line.startsWith('#')) continue;
    try {
      const o = JSON.parse(line) as Partial<UnifiedEvent>;
      if (typeof o.kind !== 'string') throw new Error('missing "kind"');
      events.push(createEvent({ source: 'rules-test', ...o, kind: o.kind }));
    } catch (err) {
      io.err(`${file}:${i + 1}: not an event: ${(err as Error).message}\n`);
      bad++;
    }
  }
  return bad ? undefined : events;
}

// The collector's own options (`--plugin x` loads this very command) may sit anywhere on the line.
const COLLECTOR_OPTIONS = new Set(['--plugin', '--manifest', '--config', '-c', '--set']);

function stripCollectorOptions(args: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (COLLECTOR_OPTIONS.has(a)) { i++; continue; }
    if (/^--(plugin|manifest|config|set)=/.test(a)) continue;
    out.push(a);
  }
  return out;
}

export async function rulesCommand(args: string[], io: Out = std): Promise<number> {
  const [sub, ...rest] = stripCollectorOptions(args);
  const flags = rest.filter((a) => a.startsWith('--'));
  const files = rest.filter((a) => !a.startsWith('--'));
  try {
    if (sub === 'validate' && files.length) {
      const lib = loadLibrary({ include_builtin: false, rules_files: files });
      io.out(`${lib.rules.length} rule(s) valid in ${files.join(', ')}\n`);
      return 0;
    }
    if (sub === 'list') {
      const lib = loadLibrary({ include_builtin: true, rules_files: files });
      for (const r of lib.rules) io.out(`${r.id.padEnd(34)} ${r.kinds.join(',').padEnd(12)} ${r.intent.padEnd(26)} ${r.origin}\n`);
      return 0;
    }
    if (sub === 'test' && files.length === 2) {
      const lib = loadLibrary({ include_builtin: flags.includes('--with-builtin'), rules_files: [files[0]!] });
      const events = readEvents(files[1]!, io);
      if (!events) return 1;
      const engine = new RuleEngine(lib.rules, lib.vars);
      // "Never matched" is reported for the rules of the file under test, not the shipped ones.
      const own = path.resolve(files[0]!);
      const hits = new Map<string, number>(lib.rules.filter((r) => r.origin === own).map((r) => [r.id, 0]));
      let matched = 0;
      events.forEach((e, i) => {
        const r = engine.match(e);
        if (!r) { io.out(`#${i + 1} ${describe(e)} -> no rule\n`); return; }
        matched++;
        if (hits.has(r.id)) hits.set(r.id, hits.get(r.id)! + 1);
        const s = engine.apply(r, e);
        io.out(`#${i + 1} ${describe(e)} -> ${r.id} (${s.intent}, ${s.category}, confidence ${s.confidence}): ${s.narrative}\n`);
      });
      const unused = [...hits].filter(([, n]) => n === 0).map(([id]) => id);
      io.out(`${matched}/${events.length} event(s) matched${unused.length ? `; rules never matched: ${unused.join(', ')}` : ''}\n`);
      return 0;
    }
  } catch (err) {
    if (err instanceof RuleLoadError) { io.err(err.message + '\n'); return 1; }
    throw err;
  }
  io.err(USAGE);
  return 2;
}

export const rulesCliCommand: CliCommand = {
  name: 'rules',
  description: 'test, validate and list semantic rules (tapio rules test <rules.yaml> <events.jsonl>)',
  run: (args) => rulesCommand(args),
};
