import * as http from 'node:http';
import * as https from 'node:https';
import type { Duplex } from 'node:stream';
import * as tls from 'node:tls';
import { parseDuration } from '@tapio/core';
import type { OtlpHttpExporterConfig } from './config';
import type { ClientTlsOptions } from '@tapio/core';

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

/** `Proxy-Authorization` from the proxy URL's user info, as Go's transport sends it. */
export function proxyAuthorization(proxy: URL): Record<string, string> {
  if (!proxy.username) return {};
  const cred = `${decodeURIComponent(proxy.username)}:${decodeURIComponent(proxy.password)}`;
  return { 'Proxy-Authorization': `Basic ${Buffer.from(cred).toString('base64')}` };
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
    const target = `${host.includes(':') ? `[${host}]` : host}:${options.port}`;
    const req = http.request({
      host: proxy.hostname.replace(/^\[|\]$/g, ''), port: proxy.port || 80, method: 'CONNECT', path: target, agent: false,
      headers: { Host: target, ...proxyAuthorization(proxy) }, timeout: options.timeout,
    });
    req.once('connect', (res, socket) => {
      if (res.statusCode !== 200) {
        socket.destroy();
        cb(new Error(`proxy ${proxy.host} refused CONNECT ${target}: HTTP ${res.statusCode}`), socket);
        return;
      }
      cb(null, tls.connect({ ...o, socket }));
    });
    req.once('timeout', () => req.destroy(new Error(`proxy ${proxy.host} did not answer CONNECT ${target} in time`)));
    req.once('error', (err) => cb(err, undefined as never));
    req.end();
    return undefined; // the socket arrives through cb
  }
}
