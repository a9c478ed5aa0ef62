import * as http from 'node:http';
import * as grpc from '@grpc/grpc-js';
import { SinkConsumer, testContext, validConfig } from '@tapio/core/testing';
import type { Consumer, UnifiedEvent } from '@tapio/core';
import factory, { encodeLogs, encodeMetrics, encodeTraces, OtlpReceiver, protoToJson } from '../src/index';
import { normalize } from './normalize';

export interface Running {
  receiver: OtlpReceiver;
  grpcPort: number;
  httpPort: number;
  sink: SinkConsumer;
}

/** Starts an otlp receiver on free ports in front of `next` (a SinkConsumer by default). */
export async function startReceiver(protocols: Record<string, unknown> = {}, next?: Consumer, extra: Record<string, unknown> = {}): Promise<Running> {
  const sink = new SinkConsumer();
  const chosen: Record<string, unknown> = { grpc: { endpoint: '127.0.0.1:0' }, http: { endpoint: '127.0.0.1:0' }, ...protocols };
  for (const k of Object.keys(chosen)) if (chosen[k] === undefined) delete chosen[k]; // `grpc: undefined` turns gRPC off
  const cfg = validConfig(factory, { protocols: chosen, ...extra });
  const receiver = (await factory.create(testContext('otlp', 'receiver'), cfg as never, next ?? sink)) as OtlpReceiver;
  await receiver.start();
  return { receiver, grpcPort: receiver.grpc?.port ?? 0, httpPort: receiver.http?.port ?? 0, sink };
}

/** The OTLP document that a set of events re-encodes to, normalized for comparison. */
export function asOtlp(signal: 'traces' | 'logs' | 'metrics', events: UnifiedEvent[]): unknown {
  if (signal === 'traces') return normalize(protoToJson('ExportTraceServiceRequest', encodeTraces(events)));
  if (signal === 'logs') return normalize(protoToJson('ExportLogsServiceRequest', encodeLogs(events)));
  return normalize(protoToJson('ExportMetricsServiceRequest', encodeMetrics(events)));
}

export interface HttpAnswer { status: number; headers: http.IncomingHttpHeaders; body: Buffer }

export function post(port: number, path: string, body: Buffer | string, headers: Record<string, string | number> = {}, method = 'POST'): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path, method, headers: { 'Content-Length': Buffer.byteLength(body), ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** SDK exporters report through a callback; this makes it a promise that rejects on failure. */
export function sdkExport<T>(exporter: { export(items: T, cb: (r: { code: number; error?: Error }) => void): void }, items: T): Promise<void> {
  return new Promise((resolve, reject) => {
    exporter.export(items, (r) => (r.code === 0 ? resolve() : reject(r.error ?? new Error('export failed'))));
  });
}

export const TRACES_PATH = '/opentelemetry.proto.collector.trace.v1.TraceService/Export';
const identity = (b: Buffer): Buffer => b;

/** One raw gRPC call with a grpc-js client (bytes in, bytes out). */
export function grpcCall(port: number, body: Buffer, path = TRACES_PATH, gzip = false): Promise<{ err: grpc.ServiceError | null; res?: Buffer }> {
  const client = new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure(), {
    'grpc.max_send_message_length': -1,
    ...(gzip ? { 'grpc.default_compression_algorithm': grpc.compressionAlgorithms.gzip } : {}),
  });
  return new Promise((resolve) => {
    client.makeUnaryRequest(path, identity, identity, body, (err, res) => { client.close(); resolve({ err, res }); });
  });
}
