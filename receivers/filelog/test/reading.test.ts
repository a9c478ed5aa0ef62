import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { conformance } from '@tapio/core/testing';
import factory from '../src/index';
import { bodies, run, sleep, tempDir, TestStorageExtension, until } from './helpers';

conformance(factory);

describe('filelog reading', () => {
  let dir: string;
  beforeEach(() => { dir = tempDir(); });
  afterEach(() => { fs.rmSync(dir, { recursive: true, force: true }); });

  it('reads existing lines from the beginning and then what is appended', async () => {
    const f = path.join(dir, 'app.log');
    fs.writeFileSync(f, 'one\ntwo\r\n\nthree\n');
    const r = await run({ include: [path.join(dir, '*.log')] });
    try {
      await r.sink.waitFor(3);
      fs.appendFileSync(f, 'four\n');
      await r.sink.waitFor(4);
      assert.deepEqual(bodies(r.sink), ['one', 'two', 'three', 'four']);
      assert.equal(r.sink.events[0]!.resource['log.file.name'], 'app.log');
      assert.equal(r.sink.events[0]!.resource['log.file.path'], f);
    } finally { await r.stop(); }
  });

  it('start_at: end skips what files held at startup but reads new files whole', async () => {
    fs.writeFileSync(path.join(dir, 'old.log'), 'before start\n');
    const r = await run({ include: [path.join(dir, '*.log')], start_at: 'end' });
    try {
      // The first poll (which defines "at startup") has found the old file.
      await until(() => r.receiver.openFiles() === 1, 'the first poll');
      fs.appendFileSync(path.join(dir, 'old.log'), 'after start\n');
      fs.writeFileSync(path.join(dir, 'new.log'), 'new file line\n');
      await r.sink.waitFor(2);
      await sleep(60);
      assert.deepEqual(bodies(r.sink).sort(), ['after start', 'new file line']);
    } finally { await r.stop(); }
  });

  it('honours exclude patterns', async () => {
    fs.writeFileSync(path.join(dir, 'a.log'), 'keep\n');
    fs.writeFileSync(path.join(dir, 'a.log.gz'), 'not me\n');
    const r = await run({ include: [path.join(dir, 'a.log*')], exclude: ['**/*.gz'] });
    try {
      await r.sink.waitFor(1);
      await sleep(80);
      assert.deepEqual(bodies(r.sink), ['keep']);
    } finally { await r.stop(); }
  });

  it('joins multiline entries by line_start_pattern (stack traces) and flushes the last one after force_flush_period', async () => {
    fs.writeFileSync(path.join(dir, 'java.log'), [
      '2024-01-01 10:00:00 ERROR boom', 'java.lang.IllegalStateException: x', '\tat a.b.C.d(C.java:1)', '',
      '2024-01-01 10:00:01 INFO ok', '',
    ].join('\n'));
    const r = await run({ include: [path.join(dir, '*.log')], multiline: { line_start_pattern: '^\\d{4}-\\d{2}-\\d{2}' } });
    try {
      await r.sink.waitFor(2);
      assert.deepEqual(bodies(r.sink), ['2024-01-01 10:00:00 ERROR boom\njava.lang.IllegalStateException: x\n\tat a.b.C.d(C.java:1)', '2024-01-01 10:00:01 INFO ok']);
    } finally { await r.stop(); }
  });

  it('joins multiline entries by line_end_pattern', async () => {
    fs.writeFileSync(path.join(dir, 'm.log'), 'a\nb;\nc\nd\ne;\n');
    const r = await run({ include: [path.join(dir, '*.log')], multiline: { line_end_pattern: ';$' } });
    try {
      await r.sink.waitFor(2);
      assert.deepEqual(bodies(r.sink), ['a\nb;', 'c\nd\ne;']);
    } finally { await r.stop(); }
  });

  it('sends a multiline entry that outgrows max_log_size (a start pattern that never matches again)', async () => {
    fs.writeFileSync(path.join(dir, 'ml.log'), 'START here\n' + Array.from({ length: 100 }, (_, i) => `continuation ${i}`).join('\n') + '\n');
    const r = await run({ include: [path.join(dir, '*.log')], max_log_size: '1KiB', multiline: { line_start_pattern: '^START' } });
    try {
      await until(() => bodies(r.sink).join('\n').includes('continuation 99'), 'every line');
      const b = bodies(r.sink);
      assert.ok(b[0]!.startsWith('START here\ncontinuation 0') && b[0]!.length > 1024 && b[0]!.length < 1100);
      assert.equal(b.join('\n'), 'START here\n' + Array.from({ length: 100 }, (_, i) => `continuation ${i}`).join('\n'));
      assert.equal(r.receiver.stats.longLines, 1);
    } finally { await r.stop(); }
  });

  it('emits an unterminated last line after force_flush_period', async () => {
    fs.writeFileSync(path.join(dir, 'p.log'), 'complete\nno newline yet');
    const r = await run({ include: [path.join(dir, '*.log')] });
    try {
      await r.sink.waitFor(2);
      assert.deepEqual(bodies(r.sink), ['complete', 'no newline yet']);
    } finally { await r.stop(); }
  });

  for (const [encoding, bufOf] of [
    ['utf-16le', (s: string) => Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(s, 'utf16le')])],
    ['utf-16be', (s: string) => Buffer.concat([Buffer.from([0xfe, 0xff]), Buffer.from(s, 'utf16le').swap16()])],
    ['latin1', (s: string) => Buffer.from(s, 'latin1')],
  ] as const) {
    it(`decodes ${encoding} files (BOM removed)`, async () => {
      const text = 'Grüße aus Köln\nçà et là\n';
      fs.writeFileSync(path.join(dir, 'e.log'), bufOf(text));
      const r = await run({ include: [path.join(dir, '*.log')], encoding });
      try {
        await r.sink.waitFor(2);
        assert.deepEqual(bodies(r.sink), ['Grüße aus Köln', 'çà et là']);
      } finally { await r.stop(); }
    });
  }

  it('reads gzip-compressed files (compression: gzip), including concatenated members', async () => {
    const lines = Array.from({ length: 500 }, (_, i) => `gz line ${i}`);
    fs.writeFileSync(path.join(dir, 'old.log.gz'), Buffer.concat([zlib.gzipSync(lines.slice(0, 200).join('\n') + '\n'), zlib.gzipSync(lines.slice(200).join('\n'))]));
    const r = await run({ include: [path.join(dir, '*.gz')], compression: 'gzip' });
    try {
      await r.sink.waitFor(500);
      await sleep(80);
      assert.deepEqual(bodies(r.sink), lines);
    } finally { await r.stop(); }
  });

  it('splits a line longer than max_log_size into pieces that together are the line, and counts it', async () => {
    const long = 'x'.repeat(10_000) + 'é'.repeat(2000) + 'END';
    fs.writeFileSync(path.join(dir, 'l.log'), `short\n${long}\nafter\n`);
    const r = await run({ include: [path.join(dir, '*.log')], max_log_size: '3KiB' });
    try {
      await until(() => bodies(r.sink).includes('after'), 'the line after the long one');
      const b = bodies(r.sink);
      assert.equal(b[0], 'short');
      assert.equal(b.slice(1, -1).join(''), long);
      assert.ok(b.slice(1, -1).every((p) => Buffer.byteLength(p) <= 3072));
      assert.equal(r.receiver.stats.longLines, 1);
    } finally { await r.stop(); }
  });

  it('truncates a 50 MB line to max_log_size with max_log_size_behavior: truncate, without buffering it', async () => {
    const f = path.join(dir, 'big.log');
    const fd = fs.openSync(f, 'w');
    fs.writeSync(fd, 'before\n');
    const chunk = Buffer.alloc(1024 * 1024, 0x61);
    for (let i = 0; i < 50; i++) fs.writeSync(fd, chunk);
    fs.writeSync(fd, '\nafter\n');
    fs.closeSync(fd);
    const r = await run({ include: [f], max_log_size: '64KiB', max_log_size_behavior: 'truncate' });
    try {
      await until(() => bodies(r.sink).includes('after'), 'the line after the 50 MB line', 30_000);
      const b = bodies(r.sink);
      assert.equal(b.length, 3);
      assert.equal(b[1]!.length, 64 * 1024);
      assert.equal(r.receiver.stats.longLines, 1);
    } finally { await r.stop(); }
  });

  it('passes invalid UTF-8 and binary garbage on with replacement characters, counted', async () => {
    fs.writeFileSync(path.join(dir, 'bad.log'), Buffer.concat([Buffer.from('ok\n'), Buffer.from([0xc3, 0x28, 0xff, 0x0a]), Buffer.from([0, 1, 2, 3, 0x0a]), Buffer.from('fine\n')]));
    const r = await run({ include: [path.join(dir, '*.log')] });
    try {
      await r.sink.waitFor(4);
      assert.deepEqual(bodies(r.sink), ['ok', '\uFFFD(\uFFFD', '\u0000\u0001\u0002\u0003', 'fine']);
      assert.equal(r.receiver.stats.invalidText, 2);
    } finally { await r.stop(); }
  });

  it('resumes from checkpoints after a restart: nothing lost, nothing read twice', async () => {
    const f = path.join(dir, 'c.log');
    fs.writeFileSync(f, 'a1\na2\n');
    const storage = new TestStorageExtension();
    const r1 = await run({ include: [f] }, { storage });
    await r1.sink.waitFor(2);
    await r1.stop();
    fs.appendFileSync(f, 'a3\na4\n');
    const r2 = await run({ include: [f], start_at: 'end' }, { storage });
    try {
      await r2.sink.waitFor(2);
      await sleep(80);
      assert.deepEqual(bodies(r2.sink), ['a3', 'a4']);
      assert.deepEqual(bodies(r1.sink), ['a1', 'a2']);
      // Event ids are the file's id + byte offset, so they are stable across restarts.
      assert.ok(r2.sink.events[0]!.id.startsWith(r1.sink.events[0]!.id.split('#')[0]!));
    } finally { await r2.stop(); }
  });

  it('reads many files while holding at most max_concurrent_files open', async () => {
    const n = 40;
    for (let i = 0; i < n; i++) fs.writeFileSync(path.join(dir, `f${i}.log`), `file ${i} line 1\nfile ${i} line 2\n`);
    const r = await run({ include: [path.join(dir, '*.log')], max_concurrent_files: 8 });
    let maxOpen = 0;
    const t = setInterval(() => { maxOpen = Math.max(maxOpen, r.receiver.openFiles()); }, 1);
    try {
      await r.sink.waitFor(2 * n);
      for (let i = 0; i < n; i++) fs.appendFileSync(path.join(dir, `f${i}.log`), `file ${i} line 3\n`);
      await r.sink.waitFor(3 * n);
      await sleep(80);
      assert.equal(r.sink.events.length, 3 * n);
      assert.equal(new Set(bodies(r.sink)).size, 3 * n);
      assert.ok(maxOpen <= 8, `held ${maxOpen} files open`);
    } finally { clearInterval(t); await r.stop(); }
  });
});
