import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { bodies, run, sleep, tempDir, until } from './helpers';

/**
 * A log writer like a real application: appends numbered lines on a timer through an open file
 * descriptor, and rotates the file the way logrotate does — rename + create (the application
 * keeps writing to the old descriptor for a moment before reopening) or copytruncate.
 */
class Writer {
  written = 0;
  private fd: number;
  private timer?: NodeJS.Timeout;

  constructor(private readonly file: string) { this.fd = fs.openSync(file, 'a'); }

  line(): void { fs.writeSync(this.fd, `line ${String(++this.written).padStart(6, '0')} ${'payload '.repeat(4)}\n`); }

  start(perTick: number): void { this.timer = setInterval(() => { for (let i = 0; i < perTick; i++) this.line(); }, 2); }

  stop(): void { clearInterval(this.timer); fs.closeSync(this.fd); }

  /** logrotate `create`: rename, the app writes `lateLines` more to the old file, then reopens. */
  renameCreate(rotated: string, lateLines: number): void {
    fs.renameSync(this.file, rotated);
    for (let i = 0; i < lateLines; i++) this.line();
    fs.closeSync(this.fd);
    this.fd = fs.openSync(this.file, 'a');
  }

  /** logrotate `copytruncate`: copy, then truncate the file the app keeps appending to. */
  copyTruncate(rotated: string): void {
    fs.copyFileSync(this.file, rotated);
    fs.ftruncateSync(this.fd, 0);
  }
}

function assertExactlyOnce(got: string[], written: number): void {
  const seen = new Map<string, number>();
  for (const b of got) seen.set(b, (seen.get(b) ?? 0) + 1);
  const dup = [...seen].filter(([, n]) => n > 1).map(([b]) => b.slice(0, 11));
  const missing: number[] = [];
  for (let i = 1; i <= written; i++) if (!seen.has(`line ${String(i).padStart(6, '0')} ${'payload '.repeat(4)}`)) missing.push(i);
  assert.deepEqual(dup, [], 'no line arrives twice');
  assert.deepEqual(missing, [], 'no line is lost');
  assert.equal(got.length, written);
}

describe('filelog rotation under continuous writes', function () {
  this.timeout(30_000);
  let dir: string;
  beforeEach(() => { dir = tempDir('filelog-rot-'); });
  afterEach(() => { fs.rmSync(dir, { recursive: true, force: true }); });

  async function rotateWhileWriting(rotate: (w: Writer, i: number) => void, include: string): Promise<void> {
    const file = path.join(dir, 'app.log');
    const w = new Writer(file);
    const r = await run({ include: [path.join(dir, include)], poll_interval: '15ms' });
    try {
      w.start(5);
      for (let i = 1; i <= 6; i++) {
        await sleep(120);
        rotate(w, i);
      }
      await sleep(120);
      w.stop();
      await until(() => r.sink.events.length >= w.written, `${w.written} lines (have ${r.sink.events.length})`);
      await sleep(150);
      assertExactlyOnce(bodies(r.sink), w.written);
      assert.ok(w.written > 1000, `wrote ${w.written} lines`);
    } finally { await r.stop(); }
  }

  it('rename + create, rotated files still matched by include: every line exactly once', async () => {
    await rotateWhileWriting((w, i) => w.renameCreate(path.join(dir, `app.log.${i}`), 20), 'app.log*');
  });

  it('rename + create, rotated files outside include: the old file is read to its end, then closed', async () => {
    await rotateWhileWriting((w, i) => w.renameCreate(path.join(dir, `app.${i}.old`), 20), 'app.log');
  });

  it('copytruncate, rotated copies matched by include: every line exactly once', async () => {
    await rotateWhileWriting((w, i) => w.copyTruncate(path.join(dir, `app.log.${i}`)), 'app.log*');
  });

  it('a new file that starts with the same bytes as the rotated one is a new file, and the rotated one is read to its end', async () => {
    const file = path.join(dir, 'app.log');
    fs.writeFileSync(file, 'service started\n');
    const r = await run({ include: [file] });
    try {
      await r.sink.waitFor(1);
      fs.appendFileSync(file, 'a1\na2\na3\n');
      fs.renameSync(file, path.join(dir, 'app.old'));
      fs.writeFileSync(file, 'service started\nb1\n');
      await r.sink.waitFor(6);
      await sleep(80);
      assert.deepEqual(bodies(r.sink).sort(), ['a1', 'a2', 'a3', 'b1', 'service started', 'service started']);
    } finally { await r.stop(); }
  });

  it('closes deleted files', async () => {
    const files = [0, 1, 2].map((i) => path.join(dir, `d${i}.log`));
    for (const f of files) fs.writeFileSync(f, `content of ${f}\n`);
    const r = await run({ include: [path.join(dir, '*.log')] });
    try {
      await r.sink.waitFor(3);
      await until(() => r.receiver.openFiles() === 3, 'the three files to be open');
      for (const f of files) fs.unlinkSync(f);
      await until(() => r.receiver.openFiles() === 0, 'deleted files to be closed');
      assert.ok(r.receiver.stats.filesClosed >= 3);
      assert.deepEqual(bodies(r.sink).sort(), files.map((f) => `content of ${f}`));
    } finally { await r.stop(); }
  });
});
