import type * as http from 'node:http';
import * as https from 'node:https';
import type { Duplex } from 'node:stream';
import * as tls from 'node:tls';
import { parseDuration } from '@tapio/core';
import type { OtlpHttpExporterConfig } from './config';
import type { ClientTlsOptions } from '@tapio/core';
import { hostPort, openTunnel } from './tunnel';

/**
 * The otlphttp exporter's connection pool, from confighttp's transport settings:
 * max_conns_per_host → maxSockets (unset: num_connections, Tapio's own cap),
 * max_idle_conns_per_host / max_idle_conns → maxFreeSockets (unset: as many as may be open),
 * idle_conn_timeout → the agent's socket timeout, which Node applies to sockets while they are
 * idle in the pool (a request in flight has its own timeout), disable_keep_alives → keepAlive.
 */
export function agentOptions(cfg: OtlpHttpExporterConfig): http.AgentOptions {
  const maxSockets = cfg.max_conns_per_host || cfg.num_connections;
  const idleCaps = [cfg.max_idle_conns_per_host, cfg.max_idle_conns].filter((n): n is number => !!n);
  const idleMs = parseDuration(cfg.idle_conn_timeout ?? '90s');
  return {
    keepAlive: !cfg.disable_keep_alives,
    maxSockets,
    maxFreeSockets: idleCaps.length ? Math.min(...idleCaps) : maxSockets,
    ...(idleMs > 0 ? { timeout: idleMs } : {}),
    scheduling: 'fifo',
  };
}

/**
 * An HTTPS agent whose connections take the TLS options current at connect time (tls
 * reload_interval) and, with a proxy, are tunnelled through it with CONNECT (TLS runs end to
 * end inside the tunnel, so the proxy sees only the target host:port).
 */
export class HttpsExporterAgent extends https.Agent {
  /** `proxyFor(host, port)`: the proxy to tunnel a connection to that target through, if any. */
  constructor(options: http.AgentOptions, private readonly tlsNow: () => ClientTlsOptions, private readonly proxyFor?: (host: string, port: string) => URL | undefined) {
    super(options);
  }

  // Node's Agent passes a callback and, when this returns nothing, waits for the socket through it
  override createConnection(options: http.ClientRequestArgs, callback?: (err: Error | null, socket: Duplex) => void): Duplex | undefined {
    const cb = callback ?? (() => {});
    const o = { ...options, ...this.tlsNow() } as tls.ConnectionOptions;
    const host = String(options.host);
    const proxy = this.proxyFor?.(host, String(options.port));
    if (!proxy) return tls.connect(o);
    openTunnel(proxy, hostPort(host, String(options.port)), options.timeout, this.tlsNow()).then((socket) => cb(null, tls.connect({ ...o, socket })), (err: Error) => cb(err, undefined as never));
    return undefined; // the socket arrives through cb
  }
}
