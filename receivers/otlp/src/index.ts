import { defineReceiver } from '@tapio/core';
import { configSchema, validateConfig, type OtlpReceiverConfig } from './config';
import { OtlpReceiver } from './receiver';

export type { GrpcServerConfig, HttpServerConfig, OtlpReceiverConfig } from './config';
export { OtlpReceiver } from './receiver';
export { inflateCapped, InflateError } from './inflate';
export { crc32c, maskedCrc32c } from './compression/crc32c';
export { decodeSnappyBlock, snappyBlock } from './compression/snappy-block';
export { isSnappyFramed, SNAPPY_STREAM_IDENTIFIER, snappyFramed, unframeSnappy } from './compression/snappy-framed';
export { loadZstd, type ZstdCodec } from './compression/zstd';
export { ExportHandler, type Outcome } from './handler';
export { DecodePool, DecodeWorkerError } from './decode-pool';
export { cpuMicros, otlpProfile, SAMPLE_EVERY, traceDecoded, traceExported, traceExportStart, traceTurnWait, wallMs } from './profile';
export {
  decodeLogs, decodeMetrics, decodeRetryDelayMs, decodeTraces, encodeLogs, encodeMetrics, encodePartialSuccess, encodeRpcStatus,
  encodeTraces, GRPC_STATUS, GRPC_STATUS_NAME, jsonToProto, MalformedError, OtlpSpanEvent, protoToJson, Reader, severityFromNumber, SIGNAL_INFO, splitBySignal, uint64String, Writer,
  type AttributeType, type AttributeTypes, type DecodeResult, type JsonAnyValue, type OtlpMessage, type OtlpSignal, type PointJson,
  type ResourceMeta, type ScopeInfo,
} from './codec/index';

export default defineReceiver<OtlpReceiverConfig>({
  type: 'otlp',
  stability: { traces: 'beta', metrics: 'beta', logs: 'beta', events: 'beta' },
  configSchema,
  validate: validateConfig,
  create: (ctx, config, next) => new OtlpReceiver(ctx, config, next),
});
