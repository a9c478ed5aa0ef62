import * as assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { positionId, type Exporter, type UnifiedEvent } from '@tapio/core';
import { createComponent, resolveYaml, testEvent, testHost, TestStorageClient, TestStorageExtension, validConfig } from '@tapio/core/testing';
import factory from '../src/index';

const roots: string[] = [];
function tmpDir(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'tapio-file-ledger-'));
  roots.push(d);
  return d;
}
after(() => { for (const d of roots) fs.rmSync(d, { recursive: true, force: true }); });

/** Log events with positional ids, as filelog makes them: stream + byte offset. */
function lines(stream: string, from: number, to: number): UnifiedEvent[] {
  const out: UnifiedEvent[] = [];
  for (let i = from; i <= to; i++) out.push(testEvent('log', { id: positionId(stream, i * 100), log: { body: `${stream} line ${i}` } }));
  return out;
}

function bodies(file: string): string[] {
  const raw = fs.readFileSync(file);
  const text = file.endsWith('.gz') ? zlib.gunzipSync(raw).toString('utf8') : raw.toString('utf8');
  return text.split('\n').filter(Boolean).map((l) => String((JSON.parse(l) as UnifiedEvent).log?.body));
}

/** A file exporter with a ledger in `storageFile` (the TEST DOUBLE client survives "restarts" through that file). */
async function start(file: string, storageFile: string, extra: Record<string, unknown> = {}): Promise<Exporter> {
  const e = (await createComponent(factory, validConfig(factory, { path: file, storage: 'file_storage', ...extra }))) as Exporter;
  await e.start(testHost({ file_storage: new TestStorageExtension(new TestStorageClient(storageFile)) }));
  return e;
}

describe('file exporter with storage (exactly-once output)', () => {
  it('skips replays of events it already wrote, per stream, and writes everything else', async () => {
    const dir = tmpDir();
    const out = path.join(dir, 'out.jsonl');
    const e = await start(out, path.join(dir, 'ledger.json'));
    await e.consume({ events: lines('a', 1, 5) });
    await e.consume({ events: lines('b', 1, 2) });
    // A source restarted from an older checkpoint replays a..3–7 and b..1–3; an unpositioned event always goes out.
    const unpositioned = testEvent('log', { log: { body: 'plain' } });
    await e.consume({ events: [...lines('a', 3, 7), ...lines('b', 1, 3), unpositioned] });
    await e.shutdown();
    assert.deepEqual(bodies(out), [
      ...[1, 2, 3, 4, 5].map((i) => `a line ${i}`), 'b line 1', 'b line 2',
      'a line 6', 'a line 7', 'b line 3', 'plain',
    ]);
  });

  it('remembers what it wrote across a restart, and cuts bytes written after the last commit', async () => {
    const dir = tmpDir();
    const out = path.join(dir, 'out.jsonl');
    const ledger = path.join(dir, 'ledger.json');
    let e = await start(out, ledger);
    await e.consume({ events: lines('a', 1, 3) });
    await e.shutdown();
    // What a kill -9 between the write and the commit leaves: a tail the ledger never saw (here half a line).
    fs.appendFileSync(out, '{"id":"a#2s","log":{"body":"a line 4"}}\n{"id":"a#');
    e = await start(out, ledger);
    await e.consume({ events: lines('a', 2, 6) });
    await e.shutdown();
    assert.deepEqual(bodies(out), [1, 2, 3, 4, 5, 6].map((i) => `a line ${i}`));
  });

  it('keeps exactly-once across rotation and gzip, and after a restart appends to the right file', async () => {
    const dir = tmpDir();
    const out = path.join(dir, 'out.jsonl.gz');
    const ledger = path.join(dir, 'ledger.json');
    const cfg = { compression: 'gzip', rotation: { max_megabytes: 1 } };
    let e = await start(out, ledger, cfg);
        const batch = (from: number, to: number): UnifiedEvent[] => lines('s', from, to).map((ev) => ({ ...ev, attributes: { pad: randomBytes(1000).toString('hex') } }));
    for (let i = 0; i < 10; i++) await e.consume({ events: batch(i * 200 + 1, i * 200 + 200) });
    await e.shutdown();
    e = await start(out, ledger, cfg);
    await e.consume({ events: batch(1801, 2100) });
    await e.shutdown();
    const files = fs.readdirSync(dir).filter((f) => f.startsWith('out')).map((f) => path.join(dir, f));
    assert.ok(files.length > 1, `rotated (${files.length} files)`);
    const all = files.flatMap(bodies);
    assert.equal(all.length, 2100);
    assert.equal(new Set(all).size, 2100, 'no line twice');
  });

  it('a failed batch leaves nothing written or committed; sent again, it is written once', async () => {
    const dir = tmpDir();
    const out = path.join(dir, 'out.jsonl');
    const e = await start(out, path.join(dir, 'ledger.json'), { retry_on_failure: { enabled: false } });
    await e.consume({ events: lines('a', 1, 2) });
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    // An event that cannot be encoded fails the batch before anything is written or committed.
    await assert.rejects(e.consume({ events: [...lines('a', 3, 4), testEvent('log', { id: positionId('a', 999), log: { body: circular as never } })] }));
    await e.consume({ events: lines('a', 3, 4) });
    await e.shutdown();
    assert.deepEqual(bodies(out), [1, 2, 3, 4].map((i) => `a line ${i}`));
  });

  it('refuses storage with a reordering queue (num_consumers > 1), naming the key', () => {
    const { issues } = resolveYaml(`
extensions: { file_storage: {} }
exporters:
  file: { path: /tmp/x.jsonl, storage: file_storage, sending_queue: { enabled: true, num_consumers: 4 } }
service:
  extensions: [file_storage]
  pipelines: { logs: { receivers: [test], exporters: [file] } }
`, [factory, require('@tapio/core/testing').testReceiverFactory, fakeStorageFactory()]);
    const msg = issues.map((i) => `${i.path}: ${i.message}`).join('\n');
    assert.match(msg, /exporters\.file\.sending_queue\.num_consumers: must be 1 when storage is set/);
  });
});

function fakeStorageFactory() {
  const { defineExtension } = require('@tapio/core') as typeof import('@tapio/core');
  return defineExtension<Record<string, never>>({
    type: 'file_storage', stability: 'development', configSchema: { type: 'object' },
    create: () => new TestStorageExtension(),
  });
}
