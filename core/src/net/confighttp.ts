import * as http from 'node:http';
import * as https from 'node:https';
import { parseDuration } from '../config/duration';
import type { Logger } from '../telemetry/logger';
import { keepTlsCurrent, serverTlsOptions, type TlsServerConfig } from './configtls';

// confighttp, the OpenTelemetry Collector's HTTP server settings, in Node's terms: shared by the
// otlp receiver's HTTP front and health_check.

/** The server timeouts of confighttp.ServerConfig (durations; 0: no limit). */
export interface HttpServerTimeouts {
  read_timeout?: string;
  read_header_timeout?: string;
  write_timeout?: string;
  idle_timeout?: string;
}

const DURATION = { type: 'string', format: 'duration' };

/** Schema properties of the four timeouts, to spread into a server's schema. */
export const HTTP_SERVER_TIMEOUT_PROPERTIES = {
  read_timeout: { ...DURATION, description: 'the whole request must arrive within this; 0: no limit' },
  read_header_timeout: { ...DURATION, description: 'the request headers must arrive within this; 0: no limit' },
  write_timeout: { ...DURATION, description: 'the answer must be written within this after the request started; 0: no limit' },
  idle_timeout: { ...DURATION, description: 'close a keep-alive connection idle for this long; 0: never' },
};

/**
 * An HTTP server, or HTTPS with `tls` (its certificates kept current, see keepTlsCurrent), with
 * the timeouts set. Unset timeouts keep Node's own limits. Returns the server and what stops the
 * certificate reloading.
 */
export function createHttpServer(cfg: HttpServerTimeouts & { tls?: TlsServerConfig }, handle: http.RequestListener, logger: Logger): { server: http.Server; stop: () => void } {
  const server = cfg.tls ? https.createServer(serverTlsOptions(cfg.tls), handle) : http.createServer(handle);
  const ms = (d: string | undefined): number | undefined => (d === undefined ? undefined : parseDuration(d));
  const read = ms(cfg.read_timeout), readHeader = ms(cfg.read_header_timeout), idle = ms(cfg.idle_timeout);
  if (read !== undefined) server.requestTimeout = read;
  // Node refuses headersTimeout above requestTimeout; 0 means "no limit" in both
  if (readHeader !== undefined) server.headersTimeout = readHeader === 0 || (server.requestTimeout > 0 && readHeader > server.requestTimeout) ? server.requestTimeout : readHeader;
  if (idle !== undefined) server.keepAliveTimeout = idle;
  const stop = cfg.tls ? keepTlsCurrent(server as https.Server, cfg.tls, logger) : () => undefined;
  return { server, stop };
}

/** Go's WriteTimeout: the answer must be out this long after the request began, or the connection goes. */
export function enforceWriteTimeout(req: http.IncomingMessage, res: http.ServerResponse, timeoutMs: number): void {
  if (timeoutMs <= 0) return;
  const timer = setTimeout(() => { if (!res.writableFinished) req.socket.destroy(); }, timeoutMs);
  res.once('close', () => clearTimeout(timer));
}

/** confighttp's `cors.allowed_origins` entry (`https://*.example.com`; `*` alone: every origin) → a RegExp. */
export function originPattern(origin: string): RegExp {
  const escaped = origin.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*');
  return new RegExp(`^${escaped}$`, 'i');
}
