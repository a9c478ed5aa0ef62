import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { conformance, testContext, testHost, validConfig } from '@tapio/core/testing';
import type { StorageExtension } from '@tapio/core';
import factory, { SqliteStore, StorageFullError, databaseFile } from '../src/index';
import { valueFor } from './fixtures/values';

type Ext = StorageExtension & { start(h: unknown): Promise<void>; shutdown(): Promise<void>; file: string };

const tmpRoots: string[] = [];
function tmpDir(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'tapio-storage-'));
  tmpRoots.push(d);
  return d;
}
after(() => { for (const d of tmpRoots) fs.rmSync(d, { recursive: true, force: true }); });

async function open(overrides: Record<string, unknown>, id = 'file_storage'): Promise<Ext> {
  const ext = (await factory.create(testContext(id, 'extension'), validConfig(factory, overrides))) as unknown as Ext;
  await ext.start(testHost());
  return ext;
}

conformance(factory, { config: { directory: path.join(os.tmpdir(), `tapio-storage-conf-${process.pid}`), create_directory: true } });
after(() => fs.rmSync(path.join(os.tmpdir(), `tapio-storage-conf-${process.pid}`), { recursive: true, force: true }));

describe('file_storage extension', () => {
  it('stores, reads, overwrites and deletes values, and survives a restart', async () => {
    const directory = tmpDir();
    let ext = await open({ directory });
    let c = await ext.getClient('exporter', 'otlp');
    await c.set('a', Buffer.from('one'));
    await c.set('a', new Uint8Array([116, 119, 111]));
    await c.set('b', Buffer.from('bee'));
    await c.delete('b');
    assert.equal((await c.get('a'))?.toString(), 'two');
    assert.equal(await c.get('b'), undefined);
    await ext.shutdown();

    ext = await open({ directory });
    c = await ext.getClient('exporter', 'otlp');
    assert.equal((await c.get('a'))?.toString(), 'two');
    await ext.shutdown();
    assert.ok(fs.existsSync(databaseFile(directory, 'file_storage')));
  });

  it('keeps each component in its own namespace and lists keys by prefix in order', async () => {
    const ext = await open({ directory: tmpDir() });
    const a = await ext.getClient('exporter', 'otlp', 'traces');
    const b = await ext.getClient('exporter', 'otlp', 'logs');
    const r = await ext.getClient('receiver', 'filelog');
    for (const k of ['q/0002', 'q/0010', 'q/0001', 'meta']) await a.set(k, Buffer.from(k));
    await b.set('q/0001', Buffer.from('other'));
    await r.set('q/0003', Buffer.from('third'));
    assert.deepEqual(await a.keys('q/'), ['q/0001', 'q/0002', 'q/0010']);
    assert.deepEqual(await a.keys(), ['meta', 'q/0001', 'q/0002', 'q/0010']);
    assert.deepEqual(await b.keys('q/'), ['q/0001']);
    assert.equal((await b.get('q/0001'))?.toString(), 'other');
    assert.equal(await r.get('q/0001'), undefined);
    await ext.shutdown();
  });

  it('applies a batch of operations atomically', async () => {
    const ext = await open({ directory: tmpDir(), max_size: '64KiB' });
    const c = await ext.getClient('exporter', 'x');
    await c.set('keep', Buffer.from('1'));
    await c.batch([{ type: 'set', key: 'n1', value: Buffer.from('x') }, { type: 'delete', key: 'keep' }]);
    assert.deepEqual(await c.keys(), ['n1']);
    // A batch that cannot fit must leave nothing behind.
    const big = Buffer.alloc(200 * 1024, 1);
    await assert.rejects(c.batch([{ type: 'delete', key: 'n1' }, { type: 'set', key: 'big', value: big }]), StorageFullError);
    assert.deepEqual(await c.keys(), ['n1']);
    await ext.shutdown();
  });

  it('refuses writes beyond max_size with a clear error, and accepts them again once space is freed', async () => {
    const ext = await open({ directory: tmpDir(), max_size: '256KiB' });
    const c = await ext.getClient('exporter', 'x');
    const value = Buffer.alloc(16 * 1024, 7);
    let written = 0;
    let error: Error | undefined;
    for (let i = 0; i < 100 && !error; i++) {
      try { await c.set(`k/${String(i).padStart(3, '0')}`, value); written++; } catch (err) { error = err as Error; }
    }
    assert.ok(error instanceof StorageFullError, `expected StorageFullError, got ${error}`);
    assert.match(error.message, /max_size/);
    assert.ok(written > 5 && written < 16, `wrote ${written} values of 16 KiB into 256 KiB`);
    for (const k of await c.keys('k/')) await c.delete(k);
    await c.set('after', value);
    assert.equal((await c.get('after'))?.length, value.length);
    await ext.shutdown();
  });

  it('rejects operations after close and after shutdown, never crashing', async () => {
    const ext = await open({ directory: tmpDir() });
    const c = await ext.getClient('exporter', 'x');
    const d = await ext.getClient('exporter', 'y');
    await c.close();
    await assert.rejects(c.get('a'), /closed/);
    await ext.shutdown();
    await assert.rejects(d.set('a', Buffer.from('x')), /closed/);
    await assert.rejects(ext.getClient('exporter', 'z'), /not started or shut down/);
  });

  it('compacts on start: VACUUM shrinks a database whose data was deleted', async () => {
    const directory = tmpDir();
    let ext = await open({ directory, compaction: { interval: '0s' } });
    const c = await ext.getClient('exporter', 'x');
    for (let i = 0; i < 200; i++) await c.set(`k${i}`, Buffer.alloc(8192, i));
    for (let i = 0; i < 200; i++) await c.delete(`k${i}`);
    await ext.shutdown();
    const store = new SqliteStore(databaseFile(directory, 'file_storage'), { synchronous: 'normal', maxSizeBytes: 0, busyTimeoutMs: 1000, vacuumOnOpen: false });
    const before = store.sizeBytes();
    store.close();
    ext = await open({ directory, compaction: { on_start: true, interval: '0s' } });
    const file = ext.file;
    await ext.shutdown();
    const after = fs.statSync(file).size;
    assert.ok(after < before / 4, `size after VACUUM ${after} should be well below ${before}`);
  });

  it('on_rebound: once the database grew past rebound_needed_threshold_mib and its data fell below rebound_trigger_threshold_mib, it is compacted while running', async () => {
    const directory = tmpDir();
    const ext = await open({ directory, compaction: { interval: '0s', on_rebound: true, rebound_needed_threshold_mib: 1, rebound_trigger_threshold_mib: 1, check_interval: '50ms' } });
    try {
      const c = await ext.getClient('exporter', 'x');
      for (let i = 0; i < 300; i++) await c.set(`k${i}`, Buffer.alloc(8192, i));
      await new Promise((r) => setTimeout(r, 150));
      const wal = `${ext.file}-wal`;
      const grown = fs.statSync(ext.file).size + (fs.existsSync(wal) ? fs.statSync(wal).size : 0);
      assert.ok(grown > 2 * 1024 * 1024, 'about 2.4 MiB were written');
      for (let i = 0; i < 300; i++) await c.delete(`k${i}`);
      const deadline = Date.now() + 5000;
      while (fs.statSync(ext.file).size > 512 * 1024 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      assert.ok(fs.statSync(ext.file).size <= 512 * 1024, `the file shrank to ${fs.statSync(ext.file).size} bytes without a restart`);
      assert.equal(await c.get('k1'), undefined);
    } finally {
      await ext.shutdown();
    }
  });

  it('creates the directory with directory_permissions', async () => {
    const directory = path.join(tmpDir(), 'made');
    const ext = await open({ directory, create_directory: true, directory_permissions: '0700' });
    await ext.shutdown();
    assert.equal(fs.statSync(directory).mode & 0o777, 0o700);
  });

  it("accepts the Collector's bbolt-only compaction keys (without effect)", () => {
    assert.doesNotThrow(() => validConfig(factory, { compaction: { directory: '/tmp', max_transaction_size: 65536, cleanup_on_start: true } }));
  });

  it('fails to start with a clear error when the directory is missing (create_directory is off by default, as the Collector)', async () => {
    const directory = path.join(tmpDir(), 'missing');
    const ext = (await factory.create(testContext('file_storage', 'extension'), validConfig(factory, { directory }))) as unknown as Ext;
    await assert.rejects(ext.start(testHost()), /does not exist/);
    await ext.shutdown();
  });

  it('a second collector on the same directory fails to start after timeout, naming the file; it starts once the first shut down', async () => {
    const directory = tmpDir();
    const first = await open({ directory });
    const second = (await factory.create(testContext('file_storage', 'extension'), validConfig(factory, { directory, timeout: '100ms' }))) as unknown as Ext;
    await assert.rejects(second.start(testHost()), /file_storage\.sqlite is in use by another collector .*timeout of 100 ms/);
    await second.shutdown();
    await first.shutdown();
    const third = await open({ directory });
    assert.equal(await (await third.getClient('exporter', 'x')).get('k'), undefined);
    await third.shutdown();
  });

  it('the lock of a collector killed with SIGKILL is gone: the next one starts', async function () {
    this.timeout(30_000);
    const directory = tmpDir();
    const holder = spawn(process.execPath, ['-e', `
      const f = require(${JSON.stringify(path.join(__dirname, '../src/index.js'))}).default;
      const { testContext, testHost } = require('@tapio/core/testing');
      const ext = f.create(testContext('file_storage', 'extension'), { ...f.createDefaultConfig(), directory: ${JSON.stringify(directory)} });
      ext.start(testHost()).then(() => { console.log('holding'); setInterval(() => {}, 1000); });
    `], { stdio: ['ignore', 'pipe', 'inherit'], cwd: path.join(__dirname, '../..') });
    const exited = new Promise((r) => holder.once('exit', r));
    try {
      await new Promise<void>((resolve, reject) => { holder.stdout!.on('data', (d: Buffer) => { if (d.toString().includes('holding')) resolve(); }); holder.once('exit', (c) => reject(new Error(`holder exited with ${c}`))); });
      const blocked = (await factory.create(testContext('file_storage', 'extension'), validConfig(factory, { directory, timeout: '100ms' }))) as unknown as Ext;
      await assert.rejects(blocked.start(testHost()), /in use by another collector/);
      await blocked.shutdown();
    } finally {
      holder.kill('SIGKILL');
      await exited;
    }
    const next = await open({ directory, timeout: '2s' });
    await next.shutdown();
  });

  for (const fsync of [false, true]) {
    it(`loses nothing acknowledged when the writing process is killed with SIGKILL (fsync: ${fsync})`, async function () {
      this.timeout(30_000);
      const directory = tmpDir();
      const child = spawn(process.execPath, [path.join(__dirname, 'fixtures', 'crash-writer.js'), directory, String(fsync)], { stdio: ['ignore', 'pipe', 'pipe'] });
      let acked = -1;
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
      let buf = '';
      await new Promise<void>((resolve, reject) => {
        child.on('exit', (code) => reject(new Error(`writer exited early (${code}): ${stderr}`)));
        child.stdout.on('data', (d: Buffer) => {
          buf += d.toString();
          const lines = buf.split('\n');
          buf = lines.pop()!;
          for (const l of lines) acked = Number(l);
          // Kill at an arbitrary point mid-stream, while writes are in progress.
          if (acked >= 300) { child.kill('SIGKILL'); resolve(); }
        });
      });
      await new Promise((r) => child.once('close', r));
      const killedAt = acked;
      const store = new SqliteStore(databaseFile(directory, 'file_storage/crash'), { synchronous: 'normal', maxSizeBytes: 0, busyTimeoutMs: 1000, vacuumOnOpen: false });
      try {
        assert.equal(store.integrityCheck(), 'ok');
        const ns = 'exporter/otlp/q';
        for (let i = 0; i <= killedAt; i++) {
          assert.deepEqual(store.get(ns, `a/${i}`), valueFor(i), `a/${i} acknowledged but missing or wrong`);
          assert.deepEqual(store.get(ns, `b/${i}`), valueFor(i + 1), `b/${i} acknowledged but missing or wrong`);
        }
        // Pairs are atomic even for the write the kill interrupted.
        const aKeys = store.keys(ns, 'a/').length;
        assert.equal(store.keys(ns, 'b/').length, aKeys);
        assert.deepEqual(store.get(ns, `s/${killedAt}`), valueFor(killedAt));
        const s = store.keys(ns, 's/').map((k) => Number(k.slice(2)));
        assert.ok(s.every((i) => i >= killedAt - 1), `acknowledged deletes came back: ${s.join(',')}`);
      } finally {
        store.close();
      }
    });
  }
});
