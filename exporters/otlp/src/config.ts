import * as fs from 'node:fs';
import type * as tls from 'node:tls';
import { TLS_VERSION_SCHEMA, tlsVersion } from '@tapio/receiver-otlp';
import { AUTH_CONFIG_SCHEMA, QUEUE_SCHEMA, RETRY_SCHEMA, TIMEOUT_SCHEMA, type AuthConfig, type JsonSchema, type RawQueue, type RawRetry } from '@tapio/core';

export interface TlsClientConfig {
  /** Plain text (no TLS). The gRPC exporter's default follows the endpoint: http:// or no scheme on localhost is insecure. */
  insecure?: boolean;
  insecure_skip_verify?: boolean;
  ca_file?: string;
  cert_file?: string;
  key_file?: string;
  min_version?: string;
  max_version?: string;
}

export interface CommonConfig {
  endpoint: string;
  headers: Record<string, string>;
  compression: 'gzip' | 'none';
  tls?: TlsClientConfig;
  timeout: string;
  sending_queue: RawQueue;
  retry_on_failure: RawRetry;
  /** Parallel connections to the endpoint (Tapio extension; one HTTP/2 connection caps throughput). */
  num_connections: number;
  /** An authenticator extension that signs every request (bearertokenauth, basicauth). */
  auth?: AuthConfig;
}

export interface OtlpGrpcExporterConfig extends CommonConfig {
  /** HTTP/2 PINGs that find a connection whose peer went silent (as configgrpc's client keepalive). */
  keepalive?: { time: string; timeout: string; permit_without_stream: boolean };
}

export interface OtlpHttpExporterConfig extends CommonConfig {
  encoding: 'proto' | 'json';
  traces_endpoint?: string;
  metrics_endpoint?: string;
  logs_endpoint?: string;
}

/** Node TLS client options from the `tls` section (both exporters). */
export function clientTlsOptions(t: TlsClientConfig = {}): { ca?: Buffer; cert?: Buffer; key?: Buffer; rejectUnauthorized: boolean; minVersion?: tls.SecureVersion; maxVersion?: tls.SecureVersion } {
  const read = (f?: string): Buffer | undefined => (f ? fs.readFileSync(f) : undefined);
  return {
    ca: read(t.ca_file), cert: read(t.cert_file), key: read(t.key_file), rejectUnauthorized: !t.insecure_skip_verify,
    minVersion: tlsVersion(t.min_version), maxVersion: tlsVersion(t.max_version),
  };
}

const TLS_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  properties: {
    insecure: { type: 'boolean' },
    insecure_skip_verify: { type: 'boolean', default: false },
    ca_file: { type: 'string' },
    cert_file: { type: 'string' },
    key_file: { type: 'string', 'x-secret': true },
    min_version: { ...TLS_VERSION_SCHEMA, default: '1.2', description: 'oldest TLS version offered (as configtls)' },
    max_version: { ...TLS_VERSION_SCHEMA, description: 'newest TLS version offered; unset: the newest Node supports' },
  },
};

function common(defaultEndpoint: string): Record<string, unknown> {
  return {
    endpoint: { type: 'string', default: defaultEndpoint },
    // header names must be HTTP tokens, else every request would fail at send time, not at load time
    headers: { type: 'object', propertyNames: { pattern: "^[!#$%&'*+.^_`|~0-9A-Za-z-]+$" }, additionalProperties: { type: 'string', 'x-secret': true }, default: {} },
    compression: { enum: ['gzip', 'none'], default: 'gzip' },
    tls: TLS_SCHEMA,
    timeout: TIMEOUT_SCHEMA,
    sending_queue: QUEUE_SCHEMA,
    retry_on_failure: RETRY_SCHEMA,
    num_connections: { type: 'integer', minimum: 1, maximum: 64, default: 1 },
    auth: AUTH_CONFIG_SCHEMA,
  };
}

export const grpcConfigSchema: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    ...common('localhost:4317'),
    keepalive: {
      type: 'object',
      additionalProperties: false,
      properties: {
        time: { type: 'string', format: 'duration', default: '30s', description: 'PING the server this often' },
        timeout: { type: 'string', format: 'duration', default: '10s', description: 'drop the connection when a PING is not answered within this' },
        permit_without_stream: { type: 'boolean', default: false, description: 'PING also while no call is in flight' },
      },
    },
  },
};

export const httpConfigSchema: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    ...common('http://localhost:4318'),
    encoding: { enum: ['proto', 'json'], default: 'proto' },
    traces_endpoint: { type: 'string', description: 'full URL; default endpoint + /v1/traces' },
    metrics_endpoint: { type: 'string' },
    logs_endpoint: { type: 'string' },
  },
};
