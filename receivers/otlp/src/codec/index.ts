export { OtlpSpanEvent } from './span-event';
export { decodeLogs, decodeMetrics, decodeTraces, severityFromNumber, type DecodeResult } from './decode';
export { encodeLogs, encodeMetrics, encodeTraces, splitBySignal } from './encode';
export { jsonToProto, protoToJson, type OtlpMessage } from './json';
export { MalformedError, Reader, uint64String } from './reader';
export { Writer } from './writer';
export type { AttributeType, AttributeTypes, JsonAnyValue } from './anyvalue';
export type { BucketsJson, EntityRefJson, ExemplarJson, MetricType, PointJson, ResourceMeta, ScopeInfo, SpanEventJson, SpanLinkJson } from './model';
export { decodeRetryDelayMs, encodePartialSuccess, encodeRpcStatus, GRPC_STATUS, GRPC_STATUS_NAME, SIGNAL_INFO, type OtlpSignal } from './rpc';
