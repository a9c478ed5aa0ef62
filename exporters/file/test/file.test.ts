import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { conformance, createComponent, testBatch, testContext, testEvent, validConfig } from '@tapio/core/testing';
import type { Batch, Exporter, UnifiedEvent } from '@tapio/core';
import factory, { FileWriter, jsonLines, otlpJsonLines, otlpProtoFrames, RotatingFile } from '../src/index';

const roots: string[] = [];
function tmpDir(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'tapio-file-'));
  roots.push(d);
  return d;
}
after(() => { for (const d of roots) fs.rmSync(d, { recursive: true, force: true }); });

conformance(factory, { config: { path: path.join(os.tmpdir(), `tapio-file-conformance-${process.pid}.jsonl`) } });
after(() => fs.rmSync(path.join(os.tmpdir(), `tapio-file-conformance-${process.pid}.jsonl`), { force: true }));

async function fileExporter(overrides: Record<string, unknown>): Promise<Exporter> {
  const e = (await createComponent(factory, validConfig(factory, overrides))) as Exporter;
  await e.start(undefined as never);
  return e;
}

function readLines(file: string): string[] {
  const raw = fs.readFileSync(file);
  const text = file.endsWith('.gz') ? zlib.gunzipSync(raw).toString('utf8') : raw.toString('utf8');
  return text.split('\n').filter((l) => l.length > 0);
}

/** What a UnifiedEvent looks like after JSON (undefined fields vanish). */
const asJson = (e: UnifiedEvent): unknown => JSON.parse(JSON.stringify(e));

describe('file exporter', () => {
  it('writes one UnifiedEvent per line that reads back equal', async () => {
    const file = path.join(tmpDir(), 'out', 'events.jsonl');
    const e = await fileExporter({ path: file });
    const batch: Batch = { events: [testEvent('span'), testEvent('k8s'), testEvent('kernel'), testEvent('log', { attributes: { 'a.b': [1, 'x', true] } })] };
    await e.consume(batch);
    await e.shutdown();
    assert.deepEqual(readLines(file).map((l) => JSON.parse(l)), batch.events.map(asJson));
  });

  it('never interleaves lines from concurrent batches, buffered or not', async () => {
    for (const flush_interval of ['0s', '1h']) {
      const file = path.join(tmpDir(), 'events.jsonl');
      const e = await fileExporter({ path: file, flush_interval });
      const batches = Array.from({ length: 40 }, () => testBatch(25));
      await Promise.all(batches.map((b) => e.consume(b)));
      await e.shutdown();
      const got = readLines(file).map((l) => (JSON.parse(l) as UnifiedEvent).id);
      assert.deepEqual(got.sort(), batches.flatMap((b) => b.events.map((x) => x.id)).sort(), `flush_interval ${flush_interval}`);
    }
  });

  it('starts an existing file empty by default, as the Collector', async () => {
    const file = path.join(tmpDir(), 'events.jsonl');
    fs.writeFileSync(file, '{"earlier":true}\n');
    const e = await fileExporter({ path: file, flush_interval: '0s' });
    await e.consume(testBatch(2));
    await e.shutdown();
    assert.equal(readLines(file).length, 2);
  });

  it('with append: true continues an existing file', async () => {
    const file = path.join(tmpDir(), 'events.jsonl');
    fs.writeFileSync(file, '{"earlier":true}\n');
    const e = await fileExporter({ path: file, flush_interval: '0s', append: true });
    await e.consume(testBatch(2));
    await e.shutdown();
    const lines = readLines(file);
    assert.equal(lines.length, 3);
    assert.deepEqual(JSON.parse(lines[0]!), { earlier: true });
  });

  it('writes gzip that decompresses to the same lines, even across several flushes', async () => {
    const file = path.join(tmpDir(), 'events.jsonl.gz');
    const e = await fileExporter({ path: file, compression: 'gzip', flush_interval: '0s' });
    const a = testBatch(3);
    const b = testBatch(4);
    await e.consume(a);
    await e.consume(b);
    await e.shutdown();
    assert.deepEqual(readLines(file).map((l) => (JSON.parse(l) as UnifiedEvent).id), [...a.events, ...b.events].map((x) => x.id));
  });

  it('rotates by size, keeps every line across the files, and prunes to max_backups', async () => {
    const dir = tmpDir();
    const file = path.join(dir, 'events.jsonl');
    const e = await fileExporter({ path: file, flush_interval: '0s', rotation: { max_megabytes: 1, max_backups: 2 } });
    const ids: string[] = [];
    // ~4.5 MiB in ~20 KiB batches: four rotations, of which only the last two backups are kept.
    const padding = 'x'.repeat(2000);
    for (let i = 0; i < 230; i++) {
      const batch = { events: Array.from({ length: 10 }, () => testEvent('log', { attributes: { padding } })) };
      ids.push(...batch.events.map((x) => x.id));
      await e.consume(batch);
    }
    await e.shutdown();
    const backups = await new RotatingFile(file, undefined).backups();
    assert.equal(backups.length, 2);
    for (const f of [...backups, file]) assert.ok(fs.statSync(f).size <= 1024 * 1024, `${f} exceeds max_megabytes`);
    const kept = [...backups, file].flatMap(readLines).map((l) => (JSON.parse(l) as UnifiedEvent).id);
    // The kept files hold the newest lines, in order, without gaps.
    assert.deepEqual(kept, ids.slice(ids.length - kept.length));
    assert.ok(kept.length > ids.length / 3);
  });

  it('prunes rotated files older than max_days', async () => {
    const dir = tmpDir();
    const file = path.join(dir, 'events.jsonl');
    const old = path.join(dir, 'events-2020-01-01T00-00-00.000.jsonl');
    fs.writeFileSync(old, '{}\n');
    const longAgo = new Date('2020-01-01T00:00:00Z');
    fs.utimesSync(old, longAgo, longAgo);
    const rf = new RotatingFile(file, { max_megabytes: 1, max_days: 7, max_backups: 0, localtime: false });
    await rf.open();
    await rf.write(Buffer.from('{"a":1}\n'));
    await rf.rotate();
    await rf.close();
    const backups = await rf.backups();
    assert.equal(backups.length, 1);
    assert.notEqual(backups[0], old);
    assert.equal(fs.existsSync(old), false);
  });

  it('a write that fails (disk full) and is retried writes the batch once, buffered or not', async () => {
    const realWrite = RotatingFile.prototype.write;
    try {
      for (const flush_interval of ['0s', '50ms']) {
        const file = path.join(tmpDir(), 'out.jsonl');
        let failures = 2;
        RotatingFile.prototype.write = async function (this: RotatingFile, b: Buffer) {
          if (failures-- > 0) throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
          return realWrite.call(this, b);
        };
        const e = await fileExporter({ path: file, flush_interval, retry_on_failure: { initial_interval: '10ms', max_interval: '10ms' } });
        // 0s: every send writes; 50ms: a batch past the 4 MiB write-now threshold does too
        const batch = flush_interval === '0s' ? testBatch(3) : testBatch(4000);
        if (flush_interval !== '0s') for (const ev of batch.events) ev.attributes = { pad: 'x'.repeat(1100) };
        await e.consume(batch);
        await e.shutdown();
        assert.equal(readLines(file).length, batch.events.length, `flush_interval ${flush_interval}: each event once`);
      }
    } finally { RotatingFile.prototype.write = realWrite; }
  });

  it('while writes keep failing, buffers less than 4 MiB of answered batches and refuses the rest with the write\'s error; what was answered is written once the disk recovers', async () => {
    let failing = true;
    const lines: string[] = [];
    const disk = { file: '/fake/out.jsonl', async open() {}, async close() {}, async write(b: Buffer) { if (failing) throw new Error('ENOSPC'); lines.push(...b.toString().split('\n').filter(Boolean)); } };
    const w = new FileWriter(testContext('file', 'exporter'), disk as unknown as RotatingFile, jsonLines, false, 3_600_000);
    await w.start();
    const big = testBatch(1000);
    for (const ev of big.events) ev.attributes = { pad: 'x'.repeat(1000) };
    let accepted = 0;
    const refusals: unknown[] = [];
    for (let i = 0; i < 10; i++) {
      try { await w.send(big); accepted++; } catch (err) { refusals.push(err); }
    }
    assert.equal(accepted, 3, 'three ~1.1 MB batches fit under the 4 MiB write-now threshold');
    assert.equal(refusals.length, 7);
    assert.ok(refusals.every((e) => /ENOSPC/.test(String(e))), 'refused with the write error');
    failing = false;
    await w.close();
    assert.equal(lines.length, accepted * 1000, 'every accepted batch written exactly once');
  });

  it('fails to start with a clear error when the path cannot be opened', async () => {
    const dir = tmpDir();
    fs.writeFileSync(path.join(dir, 'not-a-dir'), '');
    const e = (await createComponent(factory, validConfig(factory, { path: path.join(dir, 'not-a-dir', 'events.jsonl') }))) as Exporter;
    await assert.rejects(e.start(undefined as never), /ENOTDIR|EEXIST|not a directory/);
    await e.shutdown();
  });

  it('otlp_json: writes OTLP/JSON export requests per signal', async function () {
    let encode: ReturnType<typeof otlpJsonLines>;
    try { encode = otlpJsonLines(); } catch (err) { this.skip(); return; }
    const file = path.join(tmpDir(), 'otlp.jsonl');
    const e = await fileExporter({ path: file, format: 'otlp_json', flush_interval: '0s' });
    const spans = [testEvent('span'), testEvent('span')];
    await e.consume({ events: [...spans, testEvent('log'), testEvent('k8s')] });
    await e.shutdown();
    const lines = readLines(file).map((l) => JSON.parse(l) as Record<string, any>);
    assert.equal(lines.length, 2);
    const traces = lines.find((l) => l.resourceSpans)!;
    const logs = lines.find((l) => l.resourceLogs)!;
    const gotSpans = traces.resourceSpans.flatMap((r: any) => r.scopeSpans.flatMap((s: any) => s.spans));
    assert.deepEqual(gotSpans.map((s: any) => s.spanId).sort(), spans.map((s) => s.trace!.spanId).sort());
    const records = logs.resourceLogs.flatMap((r: any) => r.scopeLogs.flatMap((s: any) => s.logRecords));
    assert.equal(records.length, 2);
    assert.ok(encode);
  });

  it('proto: writes 4-byte big-endian length-prefixed OTLP export requests, one per signal', async function () {
    let codec: { protoToJson(message: string, buf: Buffer): Record<string, any> };
    try { otlpProtoFrames(); codec = require('@tapio/receiver-otlp'); } catch { this.skip(); return; }
    const file = path.join(tmpDir(), 'otlp.pb');
    const e = await fileExporter({ path: file, format: 'proto', flush_interval: '0s' });
    const spans = [testEvent('span'), testEvent('span')];
    await e.consume({ events: [...spans, testEvent('log')] });
    await e.shutdown();
    const raw = fs.readFileSync(file);
    const frames: Buffer[] = [];
    for (let at = 0; at < raw.length;) {
      const n = raw.readUInt32BE(at);
      frames.push(raw.subarray(at + 4, at + 4 + n));
      at += 4 + n;
    }
    assert.equal(frames.length, 2, 'traces, then logs; the frames cover the file exactly');
    const traces = codec.protoToJson('ExportTraceServiceRequest', frames[0]!);
    const gotSpans = traces.resourceSpans.flatMap((r: any) => r.scopeSpans.flatMap((s: any) => s.spans));
    assert.deepEqual(gotSpans.map((s: any) => s.spanId).sort(), spans.map((s) => s.trace!.spanId).sort());
    const logs = codec.protoToJson('ExportLogsServiceRequest', frames[1]!);
    assert.equal(logs.resourceLogs.flatMap((r: any) => r.scopeLogs.flatMap((s: any) => s.logRecords)).length, 1);
  });
});

describe('file exporter config rules', () => {
  const refused = (overrides: Record<string, unknown>): string[] =>
    (factory.validate?.(validConfig(factory, overrides)) ?? []).map((i) => `${(i.path ?? []).join('.')}: ${i.message}`);

  it('refuses append with rotation or compression, as the Collector', () => {
    assert.match(refused({ append: true, rotation: {} }).join(), /^append: append and rotation/);
    assert.match(refused({ append: true, compression: 'gzip' }).join(), /^append: append and compression/);
    assert.deepEqual(refused({ append: true }), []);
  });

  it('refuses an encoding extension, pointing to the formats', () => {
    assert.match(refused({ encoding: 'otlp_encoding' }).join(), /^encoding: encoding extensions do not exist in Tapio; use format: otlp_json/);
  });

  it('with group_by needs exactly one * in path', () => {
    assert.match(refused({ path: '/tmp/x.json', group_by: { enabled: true } }).join(), /^path: must contain exactly one \* when group_by is enabled \(has 0\)/);
    assert.match(refused({ path: '/tmp/*/*.json', group_by: { enabled: true } }).join(), /has 2/);
    assert.deepEqual(refused({ path: '/tmp/*.json', group_by: { enabled: true } }), []);
  });

  it('checks the sending_queue rules the schema cannot say', () => {
    assert.deepEqual(refused({ sending_queue: { enabled: true, sizer: 'items', queue_size: 100, batch: { min_size: 500 } } }), ['sending_queue.batch.min_size: must be less than or equal to queue_size (100)']);
  });
});

describe('file exporter group_by', () => {
  const svc = (name: string | undefined): UnifiedEvent => {
    const e = testEvent('log');
    if (name === undefined) delete e.resource['service.name']; else e.resource['service.name'] = name;
    return e;
  };

  it('writes one file per resource attribute value and drops events without it', async () => {
    const dir = tmpDir();
    const e = await fileExporter({ path: path.join(dir, 'by-service', '*.jsonl'), flush_interval: '0s', group_by: { enabled: true, resource_attribute: 'service.name' } });
    const events = [svc('checkout'), svc('payment'), svc('checkout'), svc(undefined)];
    await e.consume({ events });
    await e.shutdown();
    assert.deepEqual(fs.readdirSync(path.join(dir, 'by-service')).sort(), ['checkout.jsonl', 'payment.jsonl']);
    const ids = (f: string): string[] => readLines(path.join(dir, 'by-service', f)).map((l) => (JSON.parse(l) as UnifiedEvent).id);
    assert.deepEqual(ids('checkout.jsonl'), [events[0]!.id, events[2]!.id]);
    assert.deepEqual(ids('payment.jsonl'), [events[1]!.id]);
  });

  it('past max_open_files closes the least recently used file and, reopening it, appends: nothing is lost', async () => {
    const dir = tmpDir();
    const e = await fileExporter({ path: path.join(dir, '*.jsonl'), flush_interval: '1h', group_by: { enabled: true, resource_attribute: 'service.name', max_open_files: 1 } });
    const sent: UnifiedEvent[] = [];
    for (const name of ['a', 'b', 'a', 'b', 'a']) {
      const ev = svc(name);
      sent.push(ev);
      await e.consume({ events: [ev] });
    }
    await e.shutdown();
    const ids = (f: string): string[] => readLines(path.join(dir, f)).map((l) => (JSON.parse(l) as UnifiedEvent).id);
    assert.deepEqual(ids('a.jsonl'), [sent[0]!.id, sent[2]!.id, sent[4]!.id]);
    assert.deepEqual(ids('b.jsonl'), [sent[1]!.id, sent[3]!.id]);
  });

  it('keeps a hostile attribute value inside the directory', async () => {
    const dir = tmpDir();
    const e = await fileExporter({ path: path.join(dir, 'out', '*.jsonl'), flush_interval: '0s', group_by: { enabled: true, resource_attribute: 'service.name' } });
    await e.consume({ events: [svc('../../escape')] });
    await e.shutdown();
    assert.deepEqual(fs.readdirSync(dir), ['out']);
    assert.equal(fs.readdirSync(path.join(dir, 'out')).length, 1);
  });
});
