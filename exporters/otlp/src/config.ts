import { AUTH_CONFIG_SCHEMA, BATCHER_SCHEMA, TLS_CLIENT_SCHEMA, tlsClientProblems, type TlsClientConfig, QUEUE_SCHEMA, queueConfigIssues, RETRY_SCHEMA, TIMEOUT_SCHEMA, type AuthConfig, type JsonSchema, type RawBatcher, type RawQueue, type RawRetry } from '@tapio/core';
import { GRPC_COMPRESSIONS, HTTP_COMPRESSIONS, levelProblem, LZ4_UNSUPPORTED, type CompressionName } from './compression';

export { clientTlsOptions, type TlsClientConfig } from '@tapio/core';

export interface CommonConfig {
  endpoint: string;
  headers: Record<string, string>;
  compression: CompressionName;
  tls?: TlsClientConfig;
  timeout: string;
  sending_queue: RawQueue;
  /** Collector v0.110–v0.129's exporter batching; applied as sending_queue.batch (with a warning). */
  batcher?: RawBatcher;
  retry_on_failure: RawRetry;
  /** Parallel connections to the endpoint (Tapio extension; one HTTP/2 connection caps throughput). */
  num_connections: number;
  /** An authenticator extension that signs every request (bearertokenauth, basicauth). */
  auth?: AuthConfig;
}

export interface OtlpGrpcExporterConfig extends CommonConfig {
  /** HTTP/2 PINGs that find a connection whose peer went silent (as configgrpc's client keepalive). */
  keepalive?: { time: string; timeout: string; permit_without_stream: boolean };
  /** The :authority pseudo-header (and nothing else: not SNI, not the certificate name). */
  authority?: string;
  /** "" / pick_first: one connection at a time; round_robin: calls spread over num_connections. */
  balancer_name: string;
  /** Wait (up to the timeout) for the connection to come up instead of failing the attempt at once. */
  wait_for_ready: boolean;
}

export interface OtlpHttpExporterConfig extends CommonConfig {
  encoding: 'proto' | 'json';
  traces_endpoint?: string;
  metrics_endpoint?: string;
  logs_endpoint?: string;
  compression_params?: { level?: number };
  proxy_url?: string;
  max_idle_conns: number;
  max_idle_conns_per_host?: number;
  max_conns_per_host?: number;
  idle_conn_timeout: string;
  disable_keep_alives: boolean;
  cookies?: { enabled?: boolean };
}

type Problem = { path?: (string | number)[]; message: string };

function common(defaultEndpoint: string, compressions: readonly string[]): Record<string, unknown> {
  return {
    // NOTE: the Collector has no default endpoint (it is required); ours is kept for existing configs
    endpoint: { type: 'string', default: defaultEndpoint },
    // header names must be HTTP tokens, else every request would fail at send time, not at load time
    headers: { type: 'object', propertyNames: { pattern: "^[!#$%&'*+.^_`|~0-9A-Za-z-]+$" }, additionalProperties: { type: 'string', 'x-secret': true }, default: {} },
    compression: { enum: compressions, default: 'gzip' },
    tls: TLS_CLIENT_SCHEMA,
    timeout: TIMEOUT_SCHEMA,
    sending_queue: QUEUE_SCHEMA,
    batcher: BATCHER_SCHEMA,
    retry_on_failure: RETRY_SCHEMA,
    num_connections: { type: 'integer', minimum: 1, maximum: 64, default: 1 },
    auth: AUTH_CONFIG_SCHEMA,
  };
}

/** gRPC-Go's transport buffers: Node's HTTP/2 session has no per-connection read/write buffer to size. */
const NO_GO_BUFFERS = "a gRPC-Go/net/http transport buffer size; Node's sockets have no such buffer to size";

export const grpcConfigSchema: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    ...common('localhost:4317', GRPC_COMPRESSIONS),
    keepalive: {
      type: 'object',
      additionalProperties: false,
      // a given section starts from gRPC-Go's own defaults (the Collector leaves it unset unless configured)
      properties: {
        time: { type: 'string', format: 'duration', default: '10s', description: 'PING the server this often (gRPC-Go uses at least 10s)' },
        timeout: { type: 'string', format: 'duration', default: '20s', description: 'drop the connection when a PING is not answered within this' },
        permit_without_stream: { type: 'boolean', default: false, description: 'PING also while no call is in flight' },
      },
    },
    authority: { type: 'string', minLength: 1, description: 'the :authority header sent instead of the endpoint host:port' },
    balancer_name: { enum: ['', 'pick_first', 'round_robin'], default: '', description: '"" / pick_first: calls use one connection; round_robin: spread over num_connections' },
    wait_for_ready: { type: 'boolean', default: false, description: 'an attempt waits (up to timeout) for the connection instead of failing at once when it cannot connect' },
    read_buffer_size: { type: 'integer', minimum: 0, 'x-no-effect': NO_GO_BUFFERS },
    write_buffer_size: { type: 'integer', minimum: 0, 'x-no-effect': NO_GO_BUFFERS },
  },
};

const NO_HTTP2 = 'Tapio\'s otlphttp client speaks HTTP/1.1, which has no HTTP/2 PING health check';

export const httpConfigSchema: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    ...common('http://localhost:4318', HTTP_COMPRESSIONS),
    timeout: { ...TIMEOUT_SCHEMA, default: '30s' }, // confighttp's, not exporterhelper's 5s
    encoding: { enum: ['proto', 'json'], default: 'proto' },
    traces_endpoint: { type: 'string', description: 'full URL; default endpoint + /v1/traces' },
    metrics_endpoint: { type: 'string' },
    logs_endpoint: { type: 'string' },
    compression_params: {
      type: 'object', additionalProperties: false,
      properties: { level: { type: 'integer', description: 'gzip/deflate/zlib: -1 (default), -2 (Huffman only), 1..9; zstd: its levels' } },
    },
    proxy_url: { type: 'string', description: 'http:// or https:// proxy: CONNECT tunnel for https endpoints, absolute-form requests for http' },
    max_idle_conns: { type: 'integer', minimum: 0, default: 100, description: 'idle keep-alive sockets kept (0: no limit)' },
    max_idle_conns_per_host: { type: 'integer', minimum: 0, description: 'idle sockets kept per host (0/unset: 2, as Go)' },
    max_conns_per_host: { type: 'integer', minimum: 0, description: 'sockets per host, busy or idle (0/unset: num_connections)' },
    idle_conn_timeout: { type: 'string', format: 'duration', default: '90s', description: 'an idle keep-alive socket is closed after this (0: never)' },
    disable_keep_alives: { type: 'boolean', default: false, description: 'one request per connection' },
    cookies: { type: 'object', additionalProperties: false, properties: { enabled: { type: 'boolean', default: false, description: 'keep cookies the server sets and send them back' } } },
    read_buffer_size: { type: 'integer', minimum: 0, 'x-no-effect': NO_GO_BUFFERS },
    write_buffer_size: { type: 'integer', minimum: 0, 'x-no-effect': NO_GO_BUFFERS },
    http2_read_idle_timeout: { type: 'string', format: 'duration', 'x-no-effect': NO_HTTP2 },
    http2_ping_timeout: { type: 'string', format: 'duration', 'x-no-effect': NO_HTTP2 },
  },
};

export function validateGrpc(c: OtlpGrpcExporterConfig): Problem[] {
  const out = [...tlsClientProblems(c.tls, ['tls']), ...queueConfigIssues(c.sending_queue)];
  if (!GRPC_ENDPOINT.test(c.endpoint)) out.push({ path: ['endpoint'], message: `not a gRPC endpoint: "${c.endpoint}" (host:port, http(s)://host:port or dns:///host:port; unix sockets are not supported by this exporter)` });
  return out;
}

/** What the gRPC exporter can dial: host:port / [v6]:port, optionally as http(s):// or gRPC's dns: name. */
const GRPC_ENDPOINT = /^(?:https?:\/\/|dns:(?:\/\/[^/]*\/)?)?(?:\[[0-9a-fA-F:.]+\]|[^:/\s[\]]+)(?::\d+)?\/?$/;

export function validateHttp(c: OtlpHttpExporterConfig): Problem[] {
  const out: Problem[] = [...tlsClientProblems(c.tls, ['tls']), ...queueConfigIssues(c.sending_queue)];
  for (const key of ['endpoint', 'traces_endpoint', 'metrics_endpoint', 'logs_endpoint'] as const) {
    const problem = httpUrlProblem(c[key]);
    if (problem) out.push({ path: [key], message: problem });
  }
  if (c.compression === 'lz4') out.push({ path: ['compression'], message: LZ4_UNSUPPORTED });
  const lp = levelProblem(c.compression, c.compression_params?.level);
  if (lp && c.compression !== 'lz4') out.push({ path: ['compression_params', 'level'], message: lp });
  if (c.proxy_url) {
    let u: URL | undefined;
    try { u = new URL(c.proxy_url); } catch { out.push({ path: ['proxy_url'], message: `not a URL: ${c.proxy_url}` }); }
    if (u && u.protocol !== 'http:' && u.protocol !== 'https:') out.push({ path: ['proxy_url'], message: `only http:// and https:// proxies are supported (got ${u.protocol}//)` });
  }
  return out;
}

/** otlphttp endpoints are absolute http:// or https:// URLs ('localhost:4318' is the gRPC form). */
function httpUrlProblem(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  let u: URL;
  try { u = new URL(value); } catch { return `not a URL: "${value}" (an otlphttp endpoint looks like http://host:4318)`; }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') return `must be an http:// or https:// URL (got "${value}")`;
  return undefined;
}
