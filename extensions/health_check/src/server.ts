import * as fs from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import type * as tls from 'node:tls';
import { parseDuration, type Logger } from '@tapio/core';
import type { HealthCheckConfig, TlsConfig } from './config';

type Handler = (req: http.IncomingMessage, res: http.ServerResponse) => void;

function tlsOptions(t: TlsConfig): tls.SecureContextOptions & tls.TlsOptions {
  const ca = t.client_ca_file ? fs.readFileSync(t.client_ca_file) : undefined;
  const version = (v: string | undefined): tls.SecureVersion | undefined => (v ? (`TLSv${v}` as tls.SecureVersion) : undefined);
  return {
    cert: t.cert_pem ?? fs.readFileSync(t.cert_file!), key: t.key_pem ?? fs.readFileSync(t.key_file!),
    ...(ca ? { ca, requestCert: true, rejectUnauthorized: true } : {}),
    minVersion: version(t.min_version), maxVersion: version(t.max_version),
  };
}

/**
 * An HTTP or HTTPS server with the Collector's confighttp server timeouts in Node's terms.
 * Returns the server and a function that stops certificate reloading.
 */
export function createServer(c: HealthCheckConfig, handle: Handler, logger: Logger): { server: http.Server; stop: () => void } {
  const server = c.tls ? https.createServer(tlsOptions(c.tls), handle) : http.createServer(handle);
  const ms = (d: string | undefined): number | undefined => (d === undefined ? undefined : parseDuration(d));
  const read = ms(c.read_timeout), readHeader = ms(c.read_header_timeout), idle = ms(c.idle_timeout);
  if (read !== undefined) server.requestTimeout = read;
  // Node refuses headersTimeout above requestTimeout; 0 means "no limit" in both.
  if (readHeader !== undefined) server.headersTimeout = readHeader === 0 || (server.requestTimeout > 0 && readHeader > server.requestTimeout) ? server.requestTimeout : readHeader;
  if (idle !== undefined) server.keepAliveTimeout = idle;
  let stop = (): void => undefined;
  const t = c.tls;
  if (t?.reload_interval) {
    const timer = setInterval(() => {
      try { (server as https.Server).setSecureContext(tlsOptions(t)); } catch (err) {
        logger.warn({ err: (err as Error).message }, 'health_check: TLS certificates could not be reloaded; keeping the previous ones');
      }
    }, Math.max(1000, parseDuration(t.reload_interval)));
    timer.unref();
    stop = () => clearInterval(timer);
  }
  return { server, stop };
}

/** Go's WriteTimeout: the answer must be out this long after the request began, or the connection goes. */
export function enforceWriteTimeout(req: http.IncomingMessage, res: http.ServerResponse, timeoutMs: number): void {
  if (timeoutMs <= 0) return;
  const timer = setTimeout(() => { if (!res.writableFinished) req.socket.destroy(); }, timeoutMs);
  res.once('close', () => clearTimeout(timer));
}

/** `*` wildcards as in confighttp's allowed_origins. */
export function originPattern(origin: string): RegExp {
  return new RegExp(`^${origin.split('*').map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);
}
