import * as fs from 'node:fs';
import type * as tls from 'node:tls';
import { parseDuration, type Logger } from '@tapio/core';
import type { TlsServerConfig } from './config';

/** configtls's `min_version` / `max_version` values. */
export const TLS_VERSION_SCHEMA = { enum: ['1.0', '1.1', '1.2', '1.3'] };

/** configtls's `min_version` / `max_version` ("1.2") in Node's terms ("TLSv1.2"). */
export function tlsVersion(v: string | undefined): tls.SecureVersion | undefined {
  return v === undefined ? undefined : (`TLSv${v}` as tls.SecureVersion);
}

/**
 * configtls `cipher_suites` names (Go's crypto/tls, which are the IANA names) → OpenSSL's names,
 * which Node's `ciphers` option takes. TLS 1.3 suites have the same name in both.
 */
export const CIPHER_SUITES: ReadonlyMap<string, string> = new Map([
  ['TLS_RSA_WITH_AES_128_CBC_SHA', 'AES128-SHA'],
  ['TLS_RSA_WITH_AES_256_CBC_SHA', 'AES256-SHA'],
  ['TLS_RSA_WITH_AES_128_CBC_SHA256', 'AES128-SHA256'],
  ['TLS_RSA_WITH_AES_128_GCM_SHA256', 'AES128-GCM-SHA256'],
  ['TLS_RSA_WITH_AES_256_GCM_SHA384', 'AES256-GCM-SHA384'],
  ['TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA', 'ECDHE-ECDSA-AES128-SHA'],
  ['TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA', 'ECDHE-ECDSA-AES256-SHA'],
  ['TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA', 'ECDHE-RSA-AES128-SHA'],
  ['TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA', 'ECDHE-RSA-AES256-SHA'],
  ['TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256', 'ECDHE-ECDSA-AES128-SHA256'],
  ['TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256', 'ECDHE-RSA-AES128-SHA256'],
  ['TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256', 'ECDHE-ECDSA-AES128-GCM-SHA256'],
  ['TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384', 'ECDHE-ECDSA-AES256-GCM-SHA384'],
  ['TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256', 'ECDHE-RSA-AES128-GCM-SHA256'],
  ['TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384', 'ECDHE-RSA-AES256-GCM-SHA384'],
  ['TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256', 'ECDHE-RSA-CHACHA20-POLY1305'],
  ['TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256', 'ECDHE-ECDSA-CHACHA20-POLY1305'],
  // Go's older aliases of the two above
  ['TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305', 'ECDHE-RSA-CHACHA20-POLY1305'],
  ['TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305', 'ECDHE-ECDSA-CHACHA20-POLY1305'],
  ['TLS_AES_128_GCM_SHA256', 'TLS_AES_128_GCM_SHA256'],
  ['TLS_AES_256_GCM_SHA384', 'TLS_AES_256_GCM_SHA384'],
  ['TLS_CHACHA20_POLY1305_SHA256', 'TLS_CHACHA20_POLY1305_SHA256'],
]);

/** configtls `curve_preferences` → OpenSSL group names (Node's `ecdhCurve`). */
const CURVES: Record<string, string> = { X25519: 'X25519', P256: 'prime256v1', P384: 'secp384r1', P521: 'secp521r1' };
export const CURVE_NAMES = Object.keys(CURVES);

/** Node's `ciphers` string for configtls names (validated by the schema hooks); undefined: OpenSSL defaults. */
export function cipherList(names: readonly string[] | undefined): string | undefined {
  return names?.length ? names.map((n) => CIPHER_SUITES.get(n) ?? n).join(':') : undefined;
}

export function curveList(names: readonly string[] | undefined): string | undefined {
  return names?.length ? names.map((n) => CURVES[n] ?? n).join(':') : undefined;
}

/** Options for a TLS server from the receiver's `tls` section (both protocols). Reads the files now. */
export function serverTlsOptions(t: TlsServerConfig): tls.TlsOptions {
  const ca = t.client_ca_file ? fs.readFileSync(t.client_ca_file) : undefined;
  const options: tls.TlsOptions = {
    cert: t.cert_pem ?? fs.readFileSync(t.cert_file!), key: t.key_pem ?? fs.readFileSync(t.key_file!),
    // mTLS: with a client CA, clients must present a certificate that chains to it
    ...(ca ? { ca, requestCert: true, rejectUnauthorized: true } : {}),
    minVersion: tlsVersion(t.min_version), maxVersion: tlsVersion(t.max_version),
  };
  const ciphers = cipherList(t.cipher_suites);
  if (ciphers) options.ciphers = ciphers;
  const curves = curveList(t.curve_preferences);
  if (curves) options.ecdhCurve = curves;
  return options;
}

/**
 * Keeps a TLS server's certificate, key and client CA current: every `reload_interval`, and when
 * `client_ca_file_reload` is on, when the client CA file changes. New connections get the new
 * context; open ones keep theirs. A file that cannot be read (mid-rotation) keeps the old one.
 * Returns the stop function.
 */
export function keepTlsCurrent(server: { setSecureContext(o: tls.SecureContextOptions): void }, t: TlsServerConfig, logger: Logger): () => void {
  const reload = (why: string): void => {
    try {
      server.setSecureContext(serverTlsOptions(t) as tls.SecureContextOptions);
      logger.debug({ why }, 'TLS certificates reloaded');
    } catch (err) {
      logger.warn({ err: (err as Error).message, why }, 'TLS certificates could not be reloaded; keeping the previous ones');
    }
  };
  const stops: (() => void)[] = [];
  if (t.reload_interval) {
    const timer = setInterval(() => reload('reload_interval'), Math.max(1000, parseDuration(t.reload_interval)));
    timer.unref();
    stops.push(() => clearInterval(timer));
  }
  if (t.client_ca_file_reload && t.client_ca_file) {
    const file = t.client_ca_file;
    const onChange = (): void => reload('client_ca_file changed');
    fs.watchFile(file, { interval: 1000, persistent: false }, onChange);
    stops.push(() => fs.unwatchFile(file, onChange));
  }
  return () => { for (const s of stops) s(); };
}
