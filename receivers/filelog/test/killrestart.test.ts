import * as assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { sleep, tempDir, until } from './helpers';

const REPO_ROOT = path.resolve(__dirname, '../../../..');
const REAL_STORAGE = fs.existsSync(path.join(REPO_ROOT, 'extensions/storage/dist/src/index.js'));
const LINE_PAD = 'x'.repeat(40);
const lineText = (i: number): string => `kill-test line ${String(i).padStart(7, '0')} ${LINE_PAD}`;

interface Out { id: string; body: string; replay?: boolean }

function readOut(file: string): Out[] {
  if (!fs.existsSync(file)) return [];
  const text = fs.readFileSync(file, 'utf8');
  return text.split('\n').filter((l, i, all) => l && (i < all.length - 1 || text.endsWith('\n'))).map((l) => JSON.parse(l) as Out);
}

function appendLines(file: string, from: number, to: number): void {
  let s = '';
  for (let i = from; i <= to; i++) s += lineText(i) + '\n';
  fs.appendFileSync(file, s);
}

let childLogs = '';

async function startChild(dir: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, [path.join(__dirname, 'child', 'collector.js'), dir, REAL_STORAGE ? 'real' : 'double'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => { stderr += d.toString(); childLogs += d.toString(); });
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => { childLogs += d.toString(); if (d.toString().includes('ready')) resolve(); });
    child.on('exit', (code) => reject(new Error(`child exited (${code}) before it was ready:\n${stderr}`)));
  });
  return child;
}

function killNine(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => { child.once('exit', () => resolve()); child.kill('SIGKILL'); });
}

/** Waits until the child has delivered at least `n` lines, checking every 2 ms. */
async function delivered(out: string, n: number): Promise<void> {
  // ~85 bytes per output line; a size check is cheap enough to run every 2 ms.
  await until(() => fs.existsSync(out) && fs.statSync(out).size >= n * 85, `${n} delivered lines`, 30_000);
}

describe(`filelog: kill -9 and restart (storage: ${REAL_STORAGE ? 'extensions/storage file_storage' : 'TEST DOUBLE file-backed client'})`, function () {
  this.timeout(90_000);
  let dir: string;
  let child: ChildProcess | undefined;
  beforeEach(() => { dir = tempDir('filelog-kill-'); fs.mkdirSync(path.join(dir, 'logs')); });
  afterEach(async () => {
    if (child && child.exitCode === null) await killNine(child);
    if (!process.env.FILELOG_KEEP) fs.rmSync(dir, { recursive: true, force: true });
    else process.stdout.write(`kept ${dir}\n`);
  });

  it('loses no line and duplicates none across two kills mid-file', async () => {
    const log = path.join(dir, 'logs', 'app.log');
    const out = path.join(dir, 'out.jsonl');
    const first = 150_000;
    const total = 180_000;
    appendLines(log, 1, first);

    child = await startChild(dir);
    await delivered(out, first * 0.15);
    await killNine(child);
    const afterFirstKill = readOut(out).length;
    assert.ok(afterFirstKill < first, `killed mid-file (${afterFirstKill} of ${first} delivered)`);

    // Lines written while the collector is down must be picked up too.
    appendLines(log, first + 1, total);
    child = await startChild(dir);
    await delivered(out, afterFirstKill + (total - afterFirstKill) * 0.3);
    await killNine(child);
    const afterSecondKill = readOut(out).length;
    assert.ok(afterSecondKill < total, `killed mid-file again (${afterSecondKill} of ${total})`);

    child = await startChild(dir);
    const t0 = Date.now();
    await delivered(out, total * 0.98);
    await until(() => readOut(out).filter((o) => !o.replay).length >= total, `all ${total} lines`, 60_000);
    process.stdout.write(`      (last run finished in ${Date.now() - t0} ms)\n`);
    await sleep(200);
    child.kill('SIGTERM');
    await new Promise((r) => child!.once('exit', r));

    const all = readOut(out);
    const firsts = all.filter((o) => !o.replay);
    const replays = all.filter((o) => o.replay);
    const count = new Map<string, number>();
    for (const o of firsts) count.set(o.body, (count.get(o.body) ?? 0) + 1);
    const missing: number[] = [];
    for (let i = 1; i <= total; i++) if (count.get(lineText(i)) !== 1) missing.push(i);
    assert.deepEqual(missing.slice(0, 10), [], 'every line delivered exactly once');
    assert.equal(firsts.length, total);
    // Re-deliveries after a kill can only be the batch whose checkpoint the kill interrupted,
    // and they carry the same event id (file id + offset), so a sink recognises them.
    const ids = new Set(firsts.map((o) => o.id));
    assert.ok(replays.every((o) => ids.has(o.id)), 'a replayed entry has the id of its first delivery');
    assert.ok(replays.length <= 2 * 500, `at most one batch replayed per kill (${replays.length}); child logs:\n${childLogs.slice(0, 3000)}`);
    process.stdout.write(`      (${replays.length} replayed entries across 2 kills, recognised by id)\n`);
  });
});
