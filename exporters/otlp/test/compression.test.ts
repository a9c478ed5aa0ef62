import * as assert from 'node:assert/strict';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as zlib from 'node:zlib';
import { uncompress as snappyBlock } from 'snappyjs';
import { testBatch, testContext, validConfig } from '@tapio/core/testing';
import { crc32c, protoToJson } from '@tapio/receiver-otlp';
import { otlpExporterFactory, otlpHttpExporterFactory } from '../src/index';
import { exporterIssues, grpcOkServer } from './helpers';

/** Reads snappy's framing format (stream identifier, then chunks with masked CRC-32C), checking every CRC. */
function unframeSnappy(b: Buffer): Buffer {
  assert.deepEqual([...b.subarray(0, 10)], [0xff, 6, 0, 0, 0x73, 0x4e, 0x61, 0x50, 0x70, 0x59], 'stream identifier');
  const out: Buffer[] = [];
  for (let at = 10; at < b.length;) {
    const type = b[at]!;
    const len = b.readUIntLE(at + 1, 3);
    const crc = b.readUInt32LE(at + 4);
    const data = b.subarray(at + 8, at + 4 + len);
    const plain = type === 0 ? Buffer.from(snappyBlock(data)) : data;
    assert.ok(type === 0 || type === 1, `chunk type ${type}`);
    const c = crc32c(plain);
    assert.equal(crc, (((c >>> 15) | (c << 17)) + 0xa282ead8) >>> 0, 'masked CRC-32C of the chunk');
    out.push(plain);
    at += 4 + len;
  }
  return Buffer.concat(out);
}

async function decode(encoding: string | undefined, body: Buffer): Promise<Buffer> {
  switch (encoding) {
    case undefined: return body;
    case 'gzip': return zlib.gunzipSync(body);
    case 'deflate': case 'zlib': return zlib.inflateSync(body); // zlib-wrapped, as Go's compress/zlib reads it
    case 'zstd': { const { Zstd } = await import('@hpcc-js/wasm-zstd'); return Buffer.from((await Zstd.load()).decompress(body)); }
    case 'snappy': case 'x-snappy-framed': return unframeSnappy(body);
    default: throw new Error(`unexpected encoding ${encoding}`);
  }
}

/** An OTLP/HTTP endpoint that keeps the raw requests. */
async function httpSink(): Promise<{ port: number; seen: { headers: http.IncomingHttpHeaders; body: Buffer }[]; close(): Promise<void> }> {
  const seen: { headers: http.IncomingHttpHeaders; body: Buffer }[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => { seen.push({ headers: req.headers, body: Buffer.concat(chunks) }); res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end(); });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { port: (server.address() as AddressInfo).port, seen, close: () => new Promise((r) => { server.closeAllConnections(); server.close(() => r()); }) };
}

const noQueue = { sending_queue: { enabled: false }, retry_on_failure: { enabled: false } };

describe('otlp exporters: the Collector\'s compression settings', () => {
  it('otlphttp: each of "", none, gzip, deflate, zlib, zstd, snappy, x-snappy-framed sends a body that decodes by its Content-Encoding to the OTLP request', async () => {
    const s = await httpSink();
    try {
      for (const compression of ['', 'none', 'gzip', 'deflate', 'zlib', 'zstd', 'snappy', 'x-snappy-framed']) {
        const e = await otlpHttpExporterFactory.create(testContext('otlphttp', 'exporter'), validConfig(otlpHttpExporterFactory, { endpoint: `http://127.0.0.1:${s.port}`, compression, ...noQueue }) as never);
        await e.start({} as never);
        await e.consume(testBatch(3, 'log'));
        await e.shutdown();
        const { headers, body } = s.seen.pop()!;
        const expected = compression === '' || compression === 'none' ? undefined : compression;
        assert.equal(headers['content-encoding'], expected, `${compression || '""'}: Content-Encoding`);
        const request = protoToJson('ExportLogsServiceRequest', await decode(expected, body)) as { resourceLogs: { scopeLogs: { logRecords: unknown[] }[] }[] };
        const records = request.resourceLogs.flatMap((r) => r.scopeLogs.flatMap((sl) => sl.logRecords));
        assert.equal(records.length, 3, `${compression || '""'}: the decoded request carries the 3 records`);
      }
    } finally { await s.close(); }
  });

  it('otlphttp: compression_params.level sets the zlib level (9 packs tighter than 1); an invalid level or lz4 is a config error that says why', async () => {
    const s = await httpSink();
    try {
      const sizes: number[] = [];
      for (const level of [1, 9]) {
        const e = await otlpHttpExporterFactory.create(testContext('otlphttp', 'exporter'), validConfig(otlpHttpExporterFactory, { endpoint: `http://127.0.0.1:${s.port}`, compression: 'deflate', compression_params: { level }, ...noQueue }) as never);
        await e.start({} as never);
        await e.consume(testBatch(400, 'log'));
        await e.shutdown();
        sizes.push(s.seen.pop()!.body.length);
      }
      assert.ok(sizes[1]! < sizes[0]!, `level 9 (${sizes[1]} bytes) is smaller than level 1 (${sizes[0]} bytes)`);
    } finally { await s.close(); }
    assert.match(exporterIssues('otlphttp', 'compression: gzip\ncompression_params: { level: 12 }').issues.join('\n'), /level 12 is not valid for gzip/);
    assert.match(exporterIssues('otlphttp', 'compression: lz4').issues.join('\n'), /lz4 is not supported.*use zstd/);
    assert.deepEqual(exporterIssues('otlphttp', 'compression: zstd\ncompression_params: { level: 19 }').issues, []);
    // gRPC-Go has no deflate/zlib/lz4 codec: configgrpc refuses them, so do we, naming the ones it has
    assert.match(exporterIssues('otlp', 'compression: deflate').issues.join('\n'), /compression.*must be one of: "", "none", "gzip", "zstd", "snappy"/);
  });

  it('otlp (gRPC): gzip, zstd and snappy set grpc-encoding and the compressed flag, and the message decodes; none sends it as is', async () => {
    const s = await grpcOkServer();
    try {
      for (const compression of ['gzip', 'zstd', 'snappy', 'none']) {
        const e = await otlpExporterFactory.create(testContext('otlp', 'exporter'), validConfig(otlpExporterFactory, { endpoint: `127.0.0.1:${s.port}`, compression, ...noQueue }) as never);
        await e.start({} as never);
        await e.consume(testBatch(2, 'span'));
        await e.shutdown();
        const { headers, flag, message } = s.calls.pop()!;
        const compressed = compression !== 'none';
        assert.equal(headers['grpc-encoding'], compressed ? compression : undefined);
        assert.equal(flag, compressed ? 1 : 0);
        const request = protoToJson('ExportTraceServiceRequest', await decode(compressed ? compression : undefined, message)) as { resourceSpans: { scopeSpans: { spans: unknown[] }[] }[] };
        assert.equal(request.resourceSpans.flatMap((r) => r.scopeSpans.flatMap((x) => x.spans)).length, 2, compression);
      }
    } finally { await s.close(); }
  });

  it('crc32c matches the standard check value', () => {
    assert.equal(crc32c(Buffer.from('123456789')), 0xe3069283);
  });
});
