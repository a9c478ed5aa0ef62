import { defineExporter } from '@tapio/core';
import { grpcConfigSchema, httpConfigSchema, validateGrpc, validateHttp, type OtlpGrpcExporterConfig, type OtlpHttpExporterConfig } from './config';
import { createGrpcExporter } from './grpc';
import { createHttpExporter } from './http';

export type { OtlpGrpcExporterConfig, OtlpHttpExporterConfig, TlsClientConfig } from './config';
export { encodeBatch } from './signals';
export { parseRetryAfter } from './http';

const stability = { traces: 'beta', metrics: 'beta', logs: 'beta', events: 'beta' } as const;

/** `otlp`: OTLP over gRPC. */
export const otlpExporterFactory = defineExporter<OtlpGrpcExporterConfig>({
  type: 'otlp',
  stability,
  configSchema: grpcConfigSchema,
  validate: validateGrpc,
  create: (ctx, config) => createGrpcExporter(ctx, config),
});

/** `otlphttp`: OTLP over HTTP, protobuf or JSON. */
export const otlpHttpExporterFactory = defineExporter<OtlpHttpExporterConfig>({
  type: 'otlphttp',
  stability,
  configSchema: httpConfigSchema,
  validate: validateHttp,
  create: (ctx, config) => createHttpExporter(ctx, config),
});

export const factories = [otlpExporterFactory, otlpHttpExporterFactory];
export default otlpExporterFactory;
