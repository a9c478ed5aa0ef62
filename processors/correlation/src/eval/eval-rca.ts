#!/usr/bin/env node
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { compileSchema } from '@tapio/core';
import { configSchema, createDefaultConfig, engineSettings, type CorrelationConfig } from '../config';
import { readReplayRequests } from '../replay/reader';
import { replayEmbedded } from '../replay/embedded';
import { loadOtlpReceiverFactory, loadStages, replayThroughOtlpReceiver } from '../replay/otlp-pipeline';

/**
 * `npm run eval:rca -- <cases-dir> [--out incidents.jsonl] [--scorer path] [--json]`
 *
 * Replays every case sub-directory with a fresh correlation state, writes the incidents with
 * caseId = the case directory's name, and prints the score of rca-score.mjs. Nothing here
 * knows the cases' services, fault types or answers: truth.json is only read by the scorer.
 */
const REPO = path.resolve(__dirname, '../../../../..');

function usage(): never {
  console.error('usage: eval-rca <cases-dir> [--out incidents.jsonl] [--scorer rca-score.mjs] [--json] [--set key.path=value] [--via otlp|inprocess] [--correlation-only]');
  process.exit(2);
}

async function main(argv: string[]): Promise<number> {
  let dir: string | undefined; let out: string | undefined; let json = false;
  const sets: string[] = [];
  let via = 'auto';
  let fullPipeline = true;
  let scorer = path.resolve(REPO, '../shared/tools/rca-score.mjs');
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--out') out = argv[++i];
    else if (a === '--scorer') scorer = path.resolve(argv[++i] ?? '');
    else if (a === '--json') json = true;
    else if (a === '--set') sets.push(argv[++i] ?? '');
    else if (a === '--via') via = argv[++i] ?? '';
    else if (a === '--correlation-only') fullPipeline = false;
    else if (a.startsWith('--')) usage();
    else dir = a;
  }
  if (!dir) usage();
  dir = path.resolve(dir);
  if (!fs.existsSync(dir)) { console.error(`eval-rca: ${dir} does not exist`); return 2; }
  out = path.resolve(out ?? path.join(process.cwd(), 'incidents.jsonl'));
  const config = createDefaultConfig() as unknown as Record<string, unknown>;
  for (const kv of sets) {
    // --set detection.z_threshold=5: a quick way to check how sensitive the score is to a setting.
    const [k, v] = kv.split('=') as [string, string];
    const parts = k.split('.');
    let o = config;
    for (const p of parts.slice(0, -1)) o = o[p] as Record<string, unknown>;
    o[parts[parts.length - 1]!] = v === 'true' ? true : v === 'false' ? false : Number.isFinite(Number(v)) ? Number(v) : v;
  }
  const validate = compileSchema(configSchema);
  if (!validate(config)) { console.error(`eval-rca: bad --set: ${JSON.stringify(validate.errors)}`); return 2; }
  const settings = engineSettings(config as unknown as CorrelationConfig);
  const cases = fs.readdirSync(dir).filter((d) => fs.statSync(path.join(dir!, d)).isDirectory()).sort();
  const lines: string[] = [];
  let outside = 0;
  if (via === 'auto') via = loadOtlpReceiverFactory() ? 'otlp' : 'inprocess';
  if (via !== 'otlp' && via !== 'inprocess') usage();
  if (via === 'otlp' && !loadOtlpReceiverFactory()) { console.error('eval-rca: --via otlp needs @tapio/receiver-otlp (built)'); return 2; }
  console.log(`eval-rca: ${cases.length} case directories in ${dir}, replayed ${via === 'otlp' ? 'over OTLP/HTTP JSON into the otlp receiver' : 'with in-process OTLP/JSON decoding (no otlp receiver found)'}`);
  const stages = via === 'otlp' && fullPipeline ? loadStages() : { factories: [], missing: [] };
  if (via === 'otlp') console.log(`eval-rca: pipeline otlp → ${[...stages.factories.map((f) => f.type), 'correlation'].join(' → ')}${stages.missing.length ? ` (not installed: ${stages.missing.join(', ')})` : ''}`);

  for (const c of cases) {
    const t0 = Date.now();
    let requests;
    try {
      requests = await readReplayRequests(path.join(dir, c), (f, n, e) => console.error(`  ${f}:${n}: skipped, not JSON (${e.message})`));
    } catch (err) { console.error(`  ${c}: ${(err as Error).message}`); continue; }
    const r = via === 'otlp' ? (await replayThroughOtlpReceiver(requests, settings, c, stages.factories))! : replayEmbedded(requests, settings, c);
    // A case asks about the span of its traces/logs; incidents that ended before it began (its
    // metric history reaches back over earlier faults) or started after it are not its answer.
    const range = r.traceLogRange;
    const inCase = r.incidents.filter((i) => !range || (Number(i.endTimeUnixNano ?? i.startTimeUnixNano) >= range[0] && Number(i.startTimeUnixNano) <= range[1]));
    outside += r.incidents.length - inCase.length;
    r.incidents = inCase;
    for (const inc of r.incidents) lines.push(JSON.stringify(inc));
    const top = r.incidents.map((i) => i.rankedCauses.slice(0, 3).map((x) => `${x.entity.service}:${x.score.toFixed(2)}`).join(' ')).join(' | ');
    console.log(`  ${c}: ${r.events} events, ${r.incidents.length} incident(s), ${r.predictions.length} prediction(s), ${Date.now() - t0} ms  ${top}`);
  }
  fs.writeFileSync(out, lines.join('\n') + (lines.length ? '\n' : ''));
  console.log(`eval-rca: wrote ${lines.length} incidents to ${out} (${outside} incidents outside their case's trace/log time range left out)`);
  if (!fs.existsSync(scorer)) { console.error(`eval-rca: scorer ${scorer} not found; pass --scorer`); return 1; }
  const res = spawnSync(process.execPath, [scorer, '--cases', dir, '--incidents', out, json ? '--json' : '--verbose'], { stdio: 'inherit' });
  return res.status ?? 1;
}

main(process.argv.slice(2)).then((code) => { process.exitCode = code; }, (err) => { console.error(err); process.exitCode = 1; });
