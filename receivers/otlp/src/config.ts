import { AUTH_CONFIG_SCHEMA, TLS_SERVER_SCHEMA, tlsServerProblems, type AuthConfig, type JsonSchema, type TlsServerConfig } from '@tapio/core';

export interface GrpcServerConfig {
  endpoint: string;
  /** tcp (also tcp4 / tcp6) or unix (endpoint is then a socket path). */
  transport?: 'tcp' | 'tcp4' | 'tcp6' | 'unix';
  /** Pass the request's headers on with its events (Batch.metadata), as the Collector's client.Info. */
  include_metadata?: boolean;
  max_recv_msg_size_mib: number;
  max_concurrent_streams?: number;
  /** HTTP/2 receive window per stream and connection (bytes); Node's own default is 64 KiB. */
  initial_window_size?: number;
  /** configgrpc's server keepalive: durations such as "30s"; what is absent is off. */
  keepalive?: {
    server_parameters?: { max_connection_idle?: string; max_connection_age?: string; max_connection_age_grace?: string; time?: string; timeout: string };
    enforcement_policy?: { min_time: string; permit_without_stream: boolean };
  };
  tls?: TlsServerConfig;
  /** An authenticator extension every call must pass (UNAUTHENTICATED otherwise). */
  auth?: AuthConfig;
}

export interface HttpServerConfig {
  endpoint: string;
  include_metadata?: boolean;
  /** Content-Encodings accepted ("" is none); others get 415. */
  compression_algorithms?: string[];
  /** Headers added to every response. */
  response_headers?: Record<string, string>;
  read_timeout?: string;
  read_header_timeout?: string;
  write_timeout?: string;
  idle_timeout?: string;
  max_request_body_size: number | string;
  traces_url_path: string;
  metrics_url_path: string;
  logs_url_path: string;
  cors?: { allowed_origins?: string[]; allowed_headers?: string[]; max_age?: number };
  tls?: TlsServerConfig;
  /** An authenticator extension every request must pass (401 otherwise; CORS preflights need none). */
  auth?: AuthConfig;
}

export interface OtlpReceiverConfig {
  protocols: { grpc?: GrpcServerConfig; http?: HttpServerConfig };
  /** Load shedding, named after the otelarrow receiver's `admission` section. */
  admission?: { request_limit_mib: number };
  /** Worker threads that check trace requests off the main thread; 0: on the main thread. */
  decode_workers?: number;
}

/** host:port, [v6]:port or :port. */
const HOST_PORT = '^(\\[[^\\]]+\\]|[^:\\[\\]]*):[0-9]{1,5}$';
/** host:port, or a socket path for transport unix (checked together in validateConfig). */
const ENDPOINT = '^(/.*|(\\[[^\\]]+\\]|[^:\\[\\]]*):[0-9]{1,5})$';

const DURATION = { type: 'string', format: 'duration' };

/** The OpenTelemetry Collector's gRPC server `keepalive` section, same names and meaning. */
const KEEPALIVE_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  properties: {
    server_parameters: {
      type: 'object',
      additionalProperties: false,
      properties: {
        max_connection_idle: { ...DURATION, description: 'GOAWAY a connection that had no call for this long' },
        max_connection_age: { ...DURATION, description: 'GOAWAY a connection this old (±10 % jitter), so clients reconnect and rebalance' },
        max_connection_age_grace: { ...DURATION, description: 'after max_connection_age, cut the connection this long after its GOAWAY; unset: calls may finish however long they take' },
        time: { ...DURATION, description: 'PING the client this often' },
        timeout: { ...DURATION, default: '20s', description: 'close a connection whose client does not answer a PING within this' },
      },
    },
    enforcement_policy: {
      type: 'object',
      additionalProperties: false,
      properties: {
        min_time: { ...DURATION, default: '5m', description: 'clients that PING more often (three times) get GOAWAY too_many_pings' },
        permit_without_stream: { type: 'boolean', default: false, description: 'allow PINGs while the client has no call in flight' },
      },
    },
  },
};

export const configSchema: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    decode_workers: {
      type: 'integer', minimum: 0, maximum: 64, default: 0,
      description: 'worker threads that check trace requests (every field of every span) off the main thread, which then only builds the events; 0: all on the main thread. Logs and metrics are always decoded on the main thread',
    },
    admission: {
      type: 'object',
      additionalProperties: false,
      default: { request_limit_mib: 32 },
      properties: {
        request_limit_mib: {
          type: 'number', exclusiveMinimum: 0, default: 32,
          description: 'request bytes (both protocols) that may be decoding or waiting on the pipeline at once; past it, requests are refused with UNAVAILABLE / 503 + retry hint before they are decoded',
        },
      },
    },
    protocols: {
      type: 'object',
      additionalProperties: false,
      minProperties: 1,
      // Both protocols when `protocols` is not given; only the listed ones when it is (as the Collector).
      default: { grpc: {}, http: {} },
      properties: {
        grpc: {
          type: ['object', 'null'],
          additionalProperties: false,
          properties: {
            endpoint: { type: 'string', pattern: ENDPOINT, default: 'localhost:4317', description: 'host:port to listen on (port 0: any free port); with transport unix, a socket path' },
            transport: { enum: ['tcp', 'tcp4', 'tcp6', 'unix'], description: 'unix: listen on the socket path given as endpoint' },
            include_metadata: { type: 'boolean', default: false, description: "pass each request's headers on with its events (for the batch processor's metadata_keys)" },
            read_buffer_size: { type: 'integer', minimum: 0, 'x-no-effect': "a gRPC-Go transport buffer; Node's HTTP/2 reads into its own buffers" },
            write_buffer_size: { type: 'integer', minimum: 0, 'x-no-effect': "a gRPC-Go transport buffer; Node's HTTP/2 writes from its own buffers" },
            dialer: { type: 'object', 'x-no-effect': 'a client setting; a server does not dial' },
            max_recv_msg_size_mib: { type: 'number', exclusiveMinimum: 0, default: 4 },
            max_concurrent_streams: { type: 'integer', minimum: 1 },
            initial_window_size: { type: 'integer', minimum: 65535, maximum: 2147483647, default: 16777216, description: "HTTP/2 receive window in bytes (Node's default is 64 KiB); large windows keep MB-sized batches from another collector flowing" },
            keepalive: KEEPALIVE_SCHEMA,
            tls: TLS_SERVER_SCHEMA,
            auth: AUTH_CONFIG_SCHEMA,
          },
        },
        http: {
          type: ['object', 'null'],
          additionalProperties: false,
          properties: {
            endpoint: { type: 'string', pattern: HOST_PORT, default: 'localhost:4318' },
            include_metadata: { type: 'boolean', default: false, description: "pass each request's headers on with its events (for the batch processor's metadata_keys)" },
            compression_algorithms: {
              type: 'array', items: { enum: ['', 'gzip', 'zlib', 'deflate', 'zstd', 'snappy', 'lz4', 'x-snappy-framed'] },
              description: 'Content-Encodings accepted ("": none); unset: all Tapio can decode ("", gzip, zstd, zlib, snappy, deflate, x-snappy-framed: the Collector\'s default less lz4). snappy is the framing format when the body starts with its stream identifier, else the block format. lz4 is accepted in the list but Tapio cannot decode it (415: no maintained JavaScript/WASM LZ4 frame decoder)',
            },
            response_headers: { type: 'object', additionalProperties: { type: 'string' }, description: 'headers added to every response' },
            read_timeout: { ...DURATION, description: 'the whole request must arrive within this; 0: no limit' },
            read_header_timeout: { ...DURATION, description: 'the request headers must arrive within this; 0: no limit' },
            write_timeout: { ...DURATION, description: 'the answer must be written within this after the request started; 0: no limit' },
            idle_timeout: { ...DURATION, description: 'close a keep-alive connection idle for this long; 0: never' },
            max_request_body_size: {
              anyOf: [{ type: 'integer', minimum: 1 }, { type: 'string', format: 'byte-size' }],
              default: '20MiB',
              description: 'limit on the request body, compressed and decompressed',
            },
            traces_url_path: { type: 'string', default: '/v1/traces' },
            metrics_url_path: { type: 'string', default: '/v1/metrics' },
            logs_url_path: { type: 'string', default: '/v1/logs' },
            cors: {
              type: 'object',
              additionalProperties: false,
              properties: {
                allowed_origins: { type: 'array', items: { type: 'string' }, default: [], description: 'origins allowed to send from a browser; * wildcards allowed' },
                allowed_headers: { type: 'array', items: { type: 'string' }, default: [] },
                max_age: { type: 'integer', minimum: 0, description: 'seconds a browser may cache a preflight answer; unset: no Access-Control-Max-Age (browsers use 5 s)' },
              },
            },
            tls: TLS_SERVER_SCHEMA,
            auth: AUTH_CONFIG_SCHEMA,
          },
        },
      },
    },
  },
};

type Problem = { path: (string | number)[]; message: string };

/** What the schema cannot say: TLS needs a certificate and a key; a unix transport needs a socket path. */
export function validateConfig(config: OtlpReceiverConfig): Problem[] {
  const problems: Problem[] = [];
  const grpc = config.protocols?.grpc;
  if (grpc) {
    const isPath = grpc.endpoint?.startsWith('/') ?? false;
    if (grpc.transport === 'unix' && !isPath) problems.push({ path: ['protocols', 'grpc', 'endpoint'], message: 'with transport unix, endpoint must be a socket path (/run/tapio/otlp.sock)' });
    if (grpc.transport !== 'unix' && isPath) problems.push({ path: ['protocols', 'grpc', 'endpoint'], message: 'a socket path needs transport: unix' });
    if (grpc.tls) problems.push(...tlsServerProblems(grpc.tls, ['protocols', 'grpc', 'tls']));
  }
  const http = config.protocols?.http;
  if (http?.tls) problems.push(...tlsServerProblems(http.tls, ['protocols', 'http', 'tls']));
  return problems;
}
