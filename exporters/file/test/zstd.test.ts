import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createComponent, testEvent, validConfig } from '@tapio/core/testing';
import type { Exporter, UnifiedEvent } from '@tapio/core';
import factory from '../src/index';

interface Otlp {
  loadZstd(): Promise<{ decompress(raw: Buffer, limit: number): Buffer }>;
  protoToJson(message: string, buf: Buffer): Record<string, any>;
  encodeTraces(events: UnifiedEvent[]): Buffer;
  encodeLogs(events: UnifiedEvent[]): Buffer;
}
// the zstd codec and the OTLP codec both come from the receiver package, as in the exporter
// eslint-disable-next-line @typescript-eslint/no-require-imports
const otlp = require('@tapio/receiver-otlp') as Otlp;

const dirs: string[] = [];
after(() => { for (const d of dirs) fs.rmSync(d, { recursive: true, force: true }); });
function tmpFile(name: string): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'tapio-file-zstd-'));
  dirs.push(d);
  return path.join(d, name);
}

/** The Collector's reader for a compressed file: 4-byte big-endian length, that many bytes of one zstd frame, repeated to the end. */
async function readZstdMessages(file: string): Promise<Buffer[]> {
  const zstd = await otlp.loadZstd();
  const raw = fs.readFileSync(file);
  const out: Buffer[] = [];
  for (let at = 0; at < raw.length;) {
    const n = raw.readUInt32BE(at);
    assert.ok(at + 4 + n <= raw.length, 'a frame runs past the end of the file');
    const frame = raw.subarray(at + 4, at + 4 + n);
    assert.equal(frame.readUInt32LE(0), 0xfd2fb528, 'each message is a zstd frame');
    out.push(zstd.decompress(frame, 64 << 20));
    at += 4 + n;
  }
  return out;
}

async function writeWith(overrides: Record<string, unknown>, batches: UnifiedEvent[][]): Promise<string> {
  const file = tmpFile('out.bin');
  const e = (await createComponent(factory, validConfig(factory, { path: file, compression: 'zstd', flush_interval: '0s', ...overrides }))) as Exporter;
  await e.start(undefined as never);
  for (const events of batches) await e.consume({ events });
  await e.shutdown();
  return file;
}

const spanIds = (request: Record<string, any>): string[] => request.resourceSpans.flatMap((r: any) => r.scopeSpans.flatMap((s: any) => s.spans.map((x: any) => x.spanId)));

describe('file exporter compression: zstd (the Collector\'s message framing)', () => {
  const batch1 = [testEvent('span'), testEvent('span'), testEvent('log')];
  const batch2 = [testEvent('span')];

  it('proto: each export request is a length-prefixed zstd frame that decodes to the same OTLP request', async () => {
    const file = await writeWith({ format: 'proto' }, [batch1, batch2]);
    const messages = await readZstdMessages(file);
    assert.equal(messages.length, 3, 'batch 1: traces and logs; batch 2: traces');
    assert.deepEqual(otlp.protoToJson('ExportTraceServiceRequest', messages[0]!), otlp.protoToJson('ExportTraceServiceRequest', Buffer.from(otlp.encodeTraces(batch1.slice(0, 2)))));
    assert.deepEqual(otlp.protoToJson('ExportLogsServiceRequest', messages[1]!), otlp.protoToJson('ExportLogsServiceRequest', Buffer.from(otlp.encodeLogs(batch1.slice(2)))));
    assert.deepEqual(spanIds(otlp.protoToJson('ExportTraceServiceRequest', messages[2]!)), [batch2[0]!.trace!.spanId]);
  });

  it('otlp_json: each OTLP/JSON request is a length-prefixed zstd frame, with no line end (as the Collector\'s json + zstd)', async () => {
    const file = await writeWith({ format: 'otlp_json' }, [batch1, batch2]);
    const messages = await readZstdMessages(file);
    assert.equal(messages.length, 3);
    for (const m of messages) assert.notEqual(m.at(-1), 0x0a, 'no newline inside the message');
    const [traces, logs, traces2] = messages.map((m) => JSON.parse(m.toString('utf8')) as Record<string, any>);
    assert.deepEqual(traces, otlp.protoToJson('ExportTraceServiceRequest', Buffer.from(otlp.encodeTraces(batch1.slice(0, 2)))));
    assert.equal(logs!.resourceLogs[0].scopeLogs[0].logRecords.length, 1);
    assert.deepEqual(spanIds(traces2!), [batch2[0]!.trace!.spanId]);
  });

  it('json (Tapio\'s): each batch\'s lines are one length-prefixed zstd frame that reads back to the events', async () => {
    const file = await writeWith({ format: 'json', flush_interval: '1h' }, [batch1, batch2]);
    const messages = await readZstdMessages(file);
    assert.equal(messages.length, 2);
    const events = messages.flatMap((m) => m.toString('utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as unknown));
    assert.deepEqual(events, [...batch1, ...batch2].map((e) => JSON.parse(JSON.stringify(e)) as unknown));
  });

  it('refuses append with zstd, as with gzip (the Collector refuses append with compression)', () => {
    const issues = factory.validate?.(validConfig(factory, { path: tmpFile('x'), compression: 'zstd', append: true })) ?? [];
    assert.match(issues.map((i) => i.message).join(), /append and compression/);
  });
});
