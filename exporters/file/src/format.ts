import type { UnifiedEvent } from '@tapio/core';

/** Turns a batch into newline-terminated lines. */
export type LineEncoder = (events: UnifiedEvent[]) => string;

/** `json`: one UnifiedEvent per line. */
export const jsonLines: LineEncoder = (events) => {
  let out = '';
  for (let i = 0; i < events.length; i++) out += JSON.stringify(events[i]) + '\n';
  return out;
};

/** The part of @tapio/receiver-otlp's codec this exporter uses (loaded only for `otlp_json`). */
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
export function otlpJsonLines(load: () => unknown = () => require('@tapio/receiver-otlp')): LineEncoder {
  let codec: OtlpCodec;
  try {
    codec = load() as OtlpCodec;
  } catch (err) {
    throw new Error(`format otlp_json needs the package @tapio/receiver-otlp (its OTLP codec): ${(err as Error).message}`);
  }
  if (typeof codec.encodeTraces !== 'function' || typeof codec.protoToJson !== 'function') {
    throw new Error('format otlp_json: @tapio/receiver-otlp does not export the OTLP codec (encodeTraces, protoToJson)');
  }
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
