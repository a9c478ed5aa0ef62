import * as fs from 'node:fs';
import { parseByteSize, parseDuration, splitHostPort, type JsonSchema } from '@tapio/core';

export interface ApiConfig {
  /** REST + SSE + dashboard; null disables. */
  http: { endpoint: string } | null;
  /** gRPC; null disables. */
  grpc: { endpoint: string } | null;
  tls?: { cert_file: string; key_file: string };
  auth: { token?: string; token_file?: string; required: 'auto' | 'always' | 'never' };
  storage: { path: string; retention: string; max_events: number; max_size: string; max_incidents: number };
  streams: { max_clients: number; client_queue_size: number };
  max_page_size: number;
  dashboard: { enabled: boolean };
}

export const configSchema: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    http: {
      type: ['object', 'null'], additionalProperties: false, default: { endpoint: 'localhost:7779' },
      properties: { endpoint: { type: 'string', default: 'localhost:7779', description: 'host:port for REST, SSE and the dashboard' } },
    },
    grpc: {
      type: ['object', 'null'], additionalProperties: false, default: { endpoint: 'localhost:7778' },
      properties: { endpoint: { type: 'string', default: 'localhost:7778', description: 'host:port for the gRPC service tapio.api.v1.TapioApi' } },
    },
    tls: {
      type: 'object', additionalProperties: false, required: ['cert_file', 'key_file'],
      properties: { cert_file: { type: 'string' }, key_file: { type: 'string' } },
    },
    auth: {
      type: 'object', additionalProperties: false, default: {},
      properties: {
        token: { type: 'string', minLength: 16, 'x-secret': true, description: 'bearer token clients must send' },
        token_file: { type: 'string', description: 'file holding the bearer token (read at start)' },
        required: { enum: ['auto', 'always', 'never'], default: 'auto', description: 'auto: required unless every endpoint is on localhost' },
      },
    },
    storage: {
      type: 'object', additionalProperties: false, default: {},
      properties: {
        path: { type: 'string', default: './data/tapio-api.db', description: "SQLite file (':memory:' for none)" },
        retention: { type: 'string', format: 'duration', default: '168h' },
        max_events: { type: 'integer', minimum: 1, default: 1_000_000 },
        max_size: { type: 'string', format: 'byte-size', default: '512MiB' },
        max_incidents: { type: 'integer', minimum: 1, default: 10_000 },
      },
    },
    streams: {
      type: 'object', additionalProperties: false, default: {},
      properties: {
        max_clients: { type: 'integer', minimum: 1, default: 1000 },
        client_queue_size: { type: 'integer', minimum: 1, default: 1000, description: 'items queued per slow client before the oldest are dropped' },
      },
    },
    max_page_size: { type: 'integer', minimum: 1, maximum: 10_000, default: 1000 },
    dashboard: { type: 'object', additionalProperties: false, default: {}, properties: { enabled: { type: 'boolean', default: true } } },
  },
};

export function createDefaultConfig(): ApiConfig {
  return {
    http: { endpoint: 'localhost:7779' },
    grpc: { endpoint: 'localhost:7778' },
    auth: { required: 'auto' },
    storage: { path: './data/tapio-api.db', retention: '168h', max_events: 1_000_000, max_size: '512MiB', max_incidents: 10_000 },
    streams: { max_clients: 1000, client_queue_size: 1000 },
    max_page_size: 1000,
    dashboard: { enabled: true },
  };
}

const LOOPBACK = new Set(['localhost', '127.0.0.1', '::1', '[::1]']);

export function isLoopbackEndpoint(endpoint: string): boolean {
  const { host } = splitHostPort(endpoint);
  return LOOPBACK.has(host);
}

/** The token clients must present, or undefined when auth is off. Throws when it is required but missing. */
export function resolveToken(config: ApiConfig): string | undefined {
  let token = config.auth.token;
  if (!token && config.auth.token_file) {
    token = fs.readFileSync(config.auth.token_file, 'utf8').trim();
    if (token.length < 16) throw new Error(`auth.token_file ${config.auth.token_file}: the token must be at least 16 characters`);
  }
  const endpoints = [config.http?.endpoint, config.grpc?.endpoint].filter((e): e is string => !!e);
  const required = config.auth.required === 'always' || (config.auth.required === 'auto' && !endpoints.every(isLoopbackEndpoint));
  if (config.auth.required === 'never') return undefined;
  if (required && !token) {
    throw new Error(`tapio_api listens on ${endpoints.join(', ')}, which is not only localhost, so auth.token or auth.token_file is required (or set auth.required: never)`);
  }
  return token;
}

export function storeOptions(config: ApiConfig) {
  return {
    path: config.storage.path,
    retentionMs: parseDuration(config.storage.retention),
    maxEvents: config.storage.max_events,
    maxBytes: parseByteSize(config.storage.max_size),
    maxIncidents: config.storage.max_incidents,
  };
}
