import { AUTH_CONFIG_SCHEMA, type AuthConfig, type JsonSchema } from '@tapio/core';

export interface TlsConfig {
  cert_file?: string;
  key_file?: string;
  cert_pem?: string;
  key_pem?: string;
  /** mTLS: clients must present a certificate chaining to this CA. */
  client_ca_file?: string;
  min_version?: '1.0' | '1.1' | '1.2' | '1.3';
  max_version?: '1.0' | '1.1' | '1.2' | '1.3';
  /** Re-read the certificate files this often. */
  reload_interval?: string;
}

export interface HealthCheckConfig {
  /** host:port to listen on. */
  endpoint: string;
  /** URL path that answers; anything else is 404. */
  path: string;
  /** Also answer 503 while a component reports a recoverable error (e.g. memory_limiter refusing data). */
  include_recoverable: boolean;
  /** Bodies sent instead of Tapio's JSON report (as the Collector's health_check). */
  response_body?: { healthy?: string; unhealthy?: string };
  response_headers?: Record<string, string>;
  cors?: { allowed_origins?: string[]; allowed_headers?: string[]; max_age?: number };
  auth?: AuthConfig;
  tls?: TlsConfig;
  read_timeout?: string;
  read_header_timeout?: string;
  write_timeout?: string;
  idle_timeout?: string;
}

const DURATION = { type: 'string', format: 'duration' };
const TLS_VERSION = { enum: ['1.0', '1.1', '1.2', '1.3'] };
const NO_BODY = 'health_check reads no request body';

export const configSchema: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    endpoint: { type: 'string', minLength: 1, default: 'localhost:13133' },
    path: { type: 'string', pattern: '^/', default: '/' },
    include_recoverable: { type: 'boolean', default: false },
    response_body: {
      type: 'object',
      additionalProperties: false,
      properties: {
        healthy: { type: 'string', description: 'body of a 200 answer (text/plain); unset: the JSON report' },
        unhealthy: { type: 'string', description: 'body of a 503 answer (text/plain); unset: the JSON report' },
      },
    },
    check_collector_pipeline: {
      type: 'object',
      'x-no-effect': 'deprecated in the Collector and documented there as not working; Tapio judges health by component status (include_recoverable)',
    },
    // The Collector's confighttp server settings, squashed into health_check as there.
    response_headers: { type: 'object', additionalProperties: { type: 'string' }, description: 'headers added to every answer' },
    cors: {
      type: 'object',
      additionalProperties: false,
      properties: {
        allowed_origins: { type: 'array', items: { type: 'string' }, description: 'origins a browser may read the answer from; * wildcards allowed' },
        allowed_headers: { type: 'array', items: { type: 'string' } },
        max_age: { type: 'integer', minimum: 0 },
      },
    },
    auth: AUTH_CONFIG_SCHEMA,
    tls: {
      type: 'object',
      additionalProperties: false,
      properties: {
        cert_file: { type: 'string', minLength: 1 },
        key_file: { type: 'string', minLength: 1 },
        cert_pem: { type: 'string', minLength: 1 },
        key_pem: { type: 'string', minLength: 1, 'x-secret': true },
        client_ca_file: { type: 'string', minLength: 1, description: 'mTLS: clients need a certificate from this CA' },
        min_version: TLS_VERSION,
        max_version: TLS_VERSION,
        reload_interval: { ...DURATION, description: 're-read the certificate and key files this often' },
      },
    },
    read_timeout: { ...DURATION, description: 'the whole request must arrive within this; 0: no limit' },
    read_header_timeout: { ...DURATION, description: 'the request headers must arrive within this' },
    write_timeout: { ...DURATION, description: 'the answer must be written within this after the request started; 0: no limit' },
    idle_timeout: { ...DURATION, description: 'close a keep-alive connection idle for this long' },
    max_request_body_size: { anyOf: [{ type: 'integer' }, { type: 'string' }], 'x-no-effect': NO_BODY },
    compression_algorithms: { type: 'array', 'x-no-effect': NO_BODY },
    include_metadata: { type: 'boolean', 'x-no-effect': 'health_check passes no data on, so there is no metadata to keep' },
  },
};

export function createDefaultConfig(): HealthCheckConfig {
  return { endpoint: 'localhost:13133', path: '/', include_recoverable: false };
}

export function configProblems(c: HealthCheckConfig): { path: string[]; message: string }[] {
  const t = c.tls;
  if (!t) return [];
  const problems: { path: string[]; message: string }[] = [];
  if (!t.cert_file && !t.cert_pem) problems.push({ path: ['tls'], message: 'needs cert_file or cert_pem' });
  if (!t.key_file && !t.key_pem) problems.push({ path: ['tls'], message: 'needs key_file or key_pem' });
  return problems;
}
