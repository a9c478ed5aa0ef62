import { Writer } from './writer';

export type OtlpSignal = 'traces' | 'metrics' | 'logs';

/** gRPC status codes (https://grpc.github.io/grpc/core/md_doc_statuscodes.html), for the receiver and the exporter. */
export const GRPC_STATUS = {
  OK: 0, CANCELLED: 1, UNKNOWN: 2, INVALID_ARGUMENT: 3, DEADLINE_EXCEEDED: 4, NOT_FOUND: 5, ALREADY_EXISTS: 6, PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8, FAILED_PRECONDITION: 9, ABORTED: 10, OUT_OF_RANGE: 11, UNIMPLEMENTED: 12, INTERNAL: 13, UNAVAILABLE: 14,
  DATA_LOSS: 15, UNAUTHENTICATED: 16,
} as const;

/** A status code's name, e.g. 14 → UNAVAILABLE. */
export const GRPC_STATUS_NAME: Record<number, string> = Object.fromEntries(Object.entries(GRPC_STATUS).map(([k, v]) => [v, k]));

/** Per-signal names: gRPC method path, HTTP path, partial-success field. */
export const SIGNAL_INFO: Record<OtlpSignal, { grpcPath: string; httpPath: string; rejectedField: string; request: 'ExportTraceServiceRequest' | 'ExportMetricsServiceRequest' | 'ExportLogsServiceRequest'; response: 'ExportTraceServiceResponse' | 'ExportMetricsServiceResponse' | 'ExportLogsServiceResponse' }> = {
  traces: { grpcPath: '/opentelemetry.proto.collector.trace.v1.TraceService/Export', httpPath: '/v1/traces', rejectedField: 'rejectedSpans', request: 'ExportTraceServiceRequest', response: 'ExportTraceServiceResponse' },
  metrics: { grpcPath: '/opentelemetry.proto.collector.metrics.v1.MetricsService/Export', httpPath: '/v1/metrics', rejectedField: 'rejectedDataPoints', request: 'ExportMetricsServiceRequest', response: 'ExportMetricsServiceResponse' },
  logs: { grpcPath: '/opentelemetry.proto.collector.logs.v1.LogsService/Export', httpPath: '/v1/logs', rejectedField: 'rejectedLogRecords', request: 'ExportLogsServiceRequest', response: 'ExportLogsServiceResponse' },
};

/** Export*ServiceResponse with a partial_success (the three responses share one layout). */
export function encodePartialSuccess(rejected: number, message: string): Buffer {
  if (rejected <= 0 && !message) return Buffer.alloc(0);
  const w = new Writer(256);
  const m = w.begin(1);
  if (rejected > 0) { w.varint(8); w.int64(rejected); }
  if (message) w.string(2, message);
  w.end(m);
  return w.finish();
}

/** google.rpc.Status, optionally with a google.rpc.RetryInfo detail (retry_delay). */
export function encodeRpcStatus(code: number, message: string, retryAfterMs?: number): Buffer {
  const w = new Writer(256);
  if (code) { w.varint(8); w.varint(code); }
  if (message) w.string(2, message);
  if (retryAfterMs !== undefined) {
    const any = w.begin(3);
    w.string(1, 'type.googleapis.com/google.rpc.RetryInfo');
    const value = w.begin(2);
    const delay = w.begin(1);
    const seconds = Math.floor(retryAfterMs / 1000);
    const nanos = Math.round((retryAfterMs - seconds * 1000) * 1e6);
    if (seconds) { w.varint(8); w.int64(seconds); }
    if (nanos) { w.varint(16); w.varint(nanos); }
    w.end(delay);
    w.end(value);
    w.end(any);
  }
  return w.finish();
}

/** Reads the retry delay (ms) from a google.rpc.Status carrying RetryInfo, if any. */
export { decodeRetryDelayMs } from './retryinfo';
