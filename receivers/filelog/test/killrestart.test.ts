import * as assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { AnyFactory, Consumer, Exporter } from '@tapio/core';
import { createComponent, testContext, testHost, TestStorageClient, TestStorageExtension, validConfig } from '@tapio/core/testing';
import filelogFactory, { FilelogReceiver, type FilelogConfig } from '../src/index';
import { sleep, tempDir, until } from './helpers';

const REPO_ROOT = path.resolve(__dirname, '../../../..');
const REAL_STORAGE = fs.existsSync(path.join(REPO_ROOT, 'extensions/storage/dist/src/index.js'));
const FILE_EXPORTER = fs.existsSync(path.join(REPO_ROOT, 'exporters/file/dist/src/index.js'));
const LINE_PAD = 'x'.repeat(40);
const lineText = (i: number): string => `kill-test line ${String(i).padStart(7, '0')} ${LINE_PAD}`;

interface Out { id: string; log: { body: string } }

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

/** Bytes of the first output line: every line is about as long (same event shape, same body length). */
function lineBytes(out: string): number {
  if (!fs.existsSync(out)) return Infinity;
  const head = Buffer.alloc(8192);
  const fd = fs.openSync(out, 'r');
  try { fs.readSync(fd, head, 0, head.length, 0); } finally { fs.closeSync(fd); }
  const nl = head.indexOf(10);
  return nl < 0 ? Infinity : nl + 1;
}

/** Waits until the child has delivered about `n` lines, checking the file size every 2 ms. */
async function delivered(out: string, n: number): Promise<void> {
  let per = Infinity;
  await until(() => {
    if (per === Infinity) per = lineBytes(out);
    return per !== Infinity && fs.statSync(out).size >= n * per;
  }, `${n} delivered lines`, 30_000);
}

describe(`filelog: kill -9 and restart (storage: ${REAL_STORAGE ? 'extensions/storage file_storage' : 'TEST DOUBLE file-backed client'})`, function () {
  this.timeout(90_000);
  let dir: string;
  let child: ChildProcess | undefined;
  before(function () {
    if (!FILE_EXPORTER) { process.stdout.write('      (skipped: build exporters/file first — npm run build — the child collector writes through it)\n'); this.skip(); }
  });
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
    await until(() => readOut(out).length >= total, `all ${total} lines`, 60_000);
    process.stdout.write(`      (last run finished in ${Date.now() - t0} ms)\n`);
    await sleep(200);
    child.kill('SIGTERM');
    await new Promise((r) => child!.once('exit', r));

    // The output file as written, with nothing filtered: each line exactly once, in order.
    const all = readOut(out);
    const count = new Map<string, number>();
    for (const o of all) count.set(o.log.body, (count.get(o.log.body) ?? 0) + 1);
    const wrong: string[] = [];
    for (let i = 1; i <= total && wrong.length < 10; i++) {
      const n = count.get(lineText(i)) ?? 0;
      if (n !== 1) wrong.push(`line ${i} delivered ${n}×`);
    }
    assert.deepEqual(wrong, [], `every line exactly once; child logs:\n${childLogs.slice(0, 3000)}`);
    assert.equal(all.length, total);
    assert.deepEqual(all.map((o) => o.log.body), Array.from({ length: total }, (_, i) => lineText(i + 1)), 'in file order');
    const skipped = [...childLogs.matchAll(/"events":(\d+)[^\n]*replays skipped/g)].map((m) => Number(m[1]));
    const cut = [...childLogs.matchAll(/"bytes":(\d+)[^\n]*cut bytes written after the last commit/g)].length;
    process.stdout.write(`      (after 2 kills: ${skipped.reduce((a, b) => a + b, 0)} replayed events skipped by the ledger in ${skipped.length} batches; uncommitted tail cut ${cut}×)\n`);
  });
});

/** TEST DOUBLE: a checkpoint store whose writes start failing, as if the process died right after the sink committed. */
class FreezableStorage extends TestStorageClient {
  frozen = false;
  override async set(key: string, value: Buffer | Uint8Array): Promise<void> {
    if (this.frozen) throw new Error('simulated crash: checkpoint not written');
    return super.set(key, value);
  }
}

describe('filelog → file exporter with storage: a crash between the sink commit and the checkpoint', function () {
  this.timeout(60_000);
  let dir: string;
  before(function () { if (!FILE_EXPORTER) this.skip(); });
  beforeEach(() => { dir = tempDir('filelog-ledger-'); });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  async function start(checkpoints: TestStorageClient): Promise<{ receiver: FilelogReceiver; exporter: Exporter; seen: () => number }> {
    const fileFactory = (require(path.join(REPO_ROOT, 'exporters/file/dist/src/index.js')) as { default: AnyFactory }).default;
    const host = testHost({
      ledger: new TestStorageExtension(new TestStorageClient(path.join(dir, 'ledger.json'))),
      checkpoints: new TestStorageExtension(checkpoints),
    });
    const exporter = (await createComponent(fileFactory, validConfig(fileFactory, { path: path.join(dir, 'out.jsonl'), storage: 'ledger' }))) as Exporter;
    await exporter.start(host);
    let n = 0;
    const counting: Consumer = { consume: (b) => { n += b.events.length; return exporter.consume(b); } };
    const cfg = validConfig<FilelogConfig>(filelogFactory, { include: [path.join(dir, '*.log')], start_at: 'beginning', poll_interval: '20ms', max_batch_size: 500, storage: 'checkpoints' });
    const receiver = new FilelogReceiver(testContext('filelog', 'receiver'), cfg, counting);
    await receiver.start(host);
    return { receiver, exporter, seen: () => n };
  }

  it('replays what the checkpoint missed, and the ledger keeps each line once in the output', async () => {
    const total = 5000;
    appendLines(path.join(dir, 'app.log'), 1, total);
    const checkpointsFile = path.join(dir, 'checkpoints.json');
    const store = new FreezableStorage(checkpointsFile);
    let run = await start(store);
    await until(() => run.seen() >= 1000, '1000 lines through');
    store.frozen = true;
    await until(() => run.seen() >= total, 'every line through once');
    await run.receiver.shutdown();
    await run.exporter.shutdown();

    run = await start(new TestStorageClient(checkpointsFile));
    await until(() => run.seen() > 0, 'the replay');
    await sleep(300);
    await run.receiver.shutdown();
    await run.exporter.shutdown();
    const replayed = run.seen();
    assert.ok(replayed >= total - 1500, `the receiver re-sent what its checkpoint missed (${replayed} lines)`);
    const bodies = readOut(path.join(dir, 'out.jsonl')).map((o) => o.log.body);
    assert.deepEqual(bodies, Array.from({ length: total }, (_, i) => lineText(i + 1)), 'each line once, in order');
  });
});
