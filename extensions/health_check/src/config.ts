import { AUTH_CONFIG_SCHEMA, HTTP_SERVER_TIMEOUT_PROPERTIES, TLS_SERVER_SCHEMA, tlsServerProblems, type AuthConfig, type HttpServerTimeouts, type JsonSchema, type TlsServerConfig } from '@tapio/core';

export interface HealthCheckConfig extends HttpServerTimeouts {
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
  tls?: TlsServerConfig;
}

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
    tls: TLS_SERVER_SCHEMA,
    ...HTTP_SERVER_TIMEOUT_PROPERTIES,
    max_request_body_size: { anyOf: [{ type: 'integer' }, { type: 'string' }], 'x-no-effect': NO_BODY },
    compression_algorithms: { type: 'array', 'x-no-effect': NO_BODY },
    include_metadata: { type: 'boolean', 'x-no-effect': 'health_check passes no data on, so there is no metadata to keep' },
  },
};

export function createDefaultConfig(): HealthCheckConfig {
  return { endpoint: 'localhost:13133', path: '/', include_recoverable: false };
}

export function configProblems(c: HealthCheckConfig): { path: (string | number)[]; message: string }[] {
  return c.tls ? tlsServerProblems(c.tls, ['tls']) : [];
}
