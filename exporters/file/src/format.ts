import type { UnifiedEvent } from '@tapio/core';

/** Turns a batch into what is written: newline-terminated lines (text) or framed binary. */
export type LineEncoder = (events: UnifiedEvent[]) => string | Buffer;

export function toBytes(encoded: string | Buffer): Buffer {
  return typeof encoded === 'string' ? Buffer.from(encoded, 'utf8') : encoded;
}

/** `json`: one UnifiedEvent per line. */
export const jsonLines: LineEncoder = (events) => {
  let out = '';
  for (let i = 0; i < events.length; i++) out += JSON.stringify(events[i]) + '\n';
  return out;
};

/** The part of @tapio/receiver-otlp's codec this exporter uses (loaded only for `otlp_json` and `proto`). */
interface OtlpCodec {
  splitBySignal(events: UnifiedEvent[]): { spans: UnifiedEvent[]; logs: UnifiedEvent[]; metrics: UnifiedEvent[] };
  encodeTraces(events: UnifiedEvent[]): Buffer;
  encodeLogs(events: UnifiedEvent[]): Buffer;
  encodeMetrics(events: UnifiedEvent[]): Buffer;
  protoToJson(message: string, buf: Buffer): Record<string, unknown>;
}

/**
 * `otlp_json`: per batch, one line per signal holding an OTLP/JSON export request
 * (ExportTraceServiceRequest, …), as the OpenTelemetry Collector's file exporter writes.
 * Non-OTLP events (kernel, k8s, network, correlation) become log records with `tapio.*`
 * attributes, as in the OTLP exporter. The codec comes from @tapio/receiver-otlp, loaded lazily
 * so the json format does not depend on it.
 */
export function otlpJsonLines(load: () => unknown = loadOtlpPackage): LineEncoder {
  const codec = loadCodec('otlp_json', load);
  // The codec's encoders reuse one shared writer; copy the bytes before the next call.
  const request = (msg: string, buf: Buffer): string => JSON.stringify(codec.protoToJson(msg, Buffer.from(buf))) + '\n';
  return (events) => {
    const { spans, logs, metrics } = codec.splitBySignal(events);
    let out = '';
    if (spans.length) out += request('ExportTraceServiceRequest', codec.encodeTraces(spans));
    if (metrics.length) out += request('ExportMetricsServiceRequest', codec.encodeMetrics(metrics));
    if (logs.length) out += request('ExportLogsServiceRequest', codec.encodeLogs(logs));
    return out;
  };
}

/**
 * `proto`: per batch and signal, a 4-byte big-endian length followed by that many bytes of an
 * OTLP protobuf export request (ExportTraceServiceRequest, …): the framing of the Collector's
 * file exporter with `format: proto`, so the same readers work. Non-OTLP events become log
 * records as in `otlp_json`.
 */
export function otlpProtoFrames(load: () => unknown = loadOtlpPackage): LineEncoder {
  const codec = loadCodec('proto', load);
  const frame = (buf: Buffer): Buffer => {
    const out = Buffer.allocUnsafe(4 + buf.length);
    out.writeUInt32BE(buf.length, 0);
    // Copies: the codec's encoders reuse one shared writer.
    buf.copy(out, 4);
    return out;
  };
  return (events) => {
    const { spans, logs, metrics } = codec.splitBySignal(events);
    const frames: Buffer[] = [];
    if (spans.length) frames.push(frame(codec.encodeTraces(spans)));
    if (metrics.length) frames.push(frame(codec.encodeMetrics(metrics)));
    if (logs.length) frames.push(frame(codec.encodeLogs(logs)));
    return frames.length === 1 ? frames[0]! : Buffer.concat(frames);
  };
}

function loadOtlpPackage(): unknown {
  return require('@tapio/receiver-otlp');
}

function loadCodec(format: string, load: () => unknown): OtlpCodec {
  let codec: OtlpCodec;
  try {
    codec = load() as OtlpCodec;
  } catch (err) {
    throw new Error(`format ${format} needs the package @tapio/receiver-otlp (its OTLP codec): ${(err as Error).message}`);
  }
  if (typeof codec.encodeTraces !== 'function' || typeof codec.protoToJson !== 'function') {
    throw new Error(`format ${format}: @tapio/receiver-otlp does not export the OTLP codec (encodeTraces, protoToJson)`);
  }
  return codec;
}
