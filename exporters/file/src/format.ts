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

/** Turns a batch into its messages, each written whole: OTLP export requests (one per signal) or a batch of lines. */
export type MessageEncoder = (events: UnifiedEvent[]) => Buffer[];

/**
 * Per batch, one OTLP export request per signal (ExportTraceServiceRequest, …), as protobuf or
 * as OTLP/JSON without a line end: the messages of the Collector's file exporter. Non-OTLP
 * events (kernel, k8s, network, correlation) become log records with `tapio.*` attributes, as in
 * the OTLP exporter. The codec comes from @tapio/receiver-otlp, loaded lazily so the json format
 * does not depend on it.
 */
export function otlpMessages(format: 'otlp_json' | 'proto', load: () => unknown = loadOtlpPackage): MessageEncoder {
  const codec = loadCodec(format, load);
  // The codec's encoders reuse one shared writer: copy the bytes before the next call.
  const message = format === 'proto'
    ? (_name: string, buf: Buffer): Buffer => Buffer.from(buf)
    : (name: string, buf: Buffer): Buffer => Buffer.from(JSON.stringify(codec.protoToJson(name, Buffer.from(buf))), 'utf8');
  return (events) => {
    const { spans, logs, metrics } = codec.splitBySignal(events);
    const out: Buffer[] = [];
    if (spans.length) out.push(message('ExportTraceServiceRequest', codec.encodeTraces(spans)));
    if (metrics.length) out.push(message('ExportMetricsServiceRequest', codec.encodeMetrics(metrics)));
    if (logs.length) out.push(message('ExportLogsServiceRequest', codec.encodeLogs(logs)));
    return out;
  };
}

/** `otlp_json`: per batch, one line per signal holding an OTLP/JSON export request, as the Collector's `json`. */
export function otlpJsonLines(load: () => unknown = loadOtlpPackage): LineEncoder {
  const messages = otlpMessages('otlp_json', load);
  return (events) => {
    let out = '';
    for (const m of messages(events)) out += m.toString('utf8') + '\n';
    return out;
  };
}

/** Each message after its length as a 4-byte big-endian integer: the Collector file exporter's framing. */
export function lengthPrefixed(messages: Buffer[]): Buffer {
  const out = Buffer.allocUnsafe(messages.reduce((n, m) => n + 4 + m.length, 0));
  let at = 0;
  for (const m of messages) {
    out.writeUInt32BE(m.length, at);
    m.copy(out, at + 4);
    at += 4 + m.length;
  }
  return out;
}

/**
 * `proto`: per batch and signal, a 4-byte big-endian length followed by that many bytes of an
 * OTLP protobuf export request: the framing of the Collector's file exporter with
 * `format: proto`, so the same readers work.
 */
export function otlpProtoFrames(load: () => unknown = loadOtlpPackage): LineEncoder {
  const messages = otlpMessages('proto', load);
  return (events) => lengthPrefixed(messages(events));
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
