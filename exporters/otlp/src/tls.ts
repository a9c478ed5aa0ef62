import * as fs from 'node:fs';
import * as tls from 'node:tls';
import { parseDuration } from '@tapio/core';
import { TLS_VERSION_SCHEMA, tlsVersion } from '@tapio/receiver-otlp';

/** The exporters' `tls` section: configtls.ClientConfig. */
export interface TlsClientConfig {
  /** Plain text (no TLS). The gRPC exporter's default follows the endpoint: http:// or no scheme on localhost is insecure. */
  insecure?: boolean;
  insecure_skip_verify?: boolean;
  ca_file?: string;
  ca_pem?: string;
  cert_file?: string;
  cert_pem?: string;
  key_file?: string;
  key_pem?: string;
  min_version?: string;
  max_version?: string;
  /** SNI name and the name the server's certificate must be valid for (instead of the endpoint's host). */
  server_name_override?: string;
  /** Trust Node's root store (tls.rootCertificates) as well as ca_file / ca_pem. */
  include_system_ca_certs_pool?: boolean;
  cipher_suites?: string[];
  curve_preferences?: string[];
  /** Re-read cert/key/CA files this often; new connections use what was read. */
  reload_interval?: string;
}

/**
 * configtls `cipher_suites` (Go's crypto/tls names, which are the IANA names) → OpenSSL names, as
 * Node's `ciphers` option takes them. TLS 1.3 suites are spelled the same in both.
 */
const CIPHER_SUITES: Record<string, string> = {
  TLS_RSA_WITH_AES_128_CBC_SHA: 'AES128-SHA',
  TLS_RSA_WITH_AES_256_CBC_SHA: 'AES256-SHA',
  TLS_RSA_WITH_AES_128_CBC_SHA256: 'AES128-SHA256',
  TLS_RSA_WITH_AES_128_GCM_SHA256: 'AES128-GCM-SHA256',
  TLS_RSA_WITH_AES_256_GCM_SHA384: 'AES256-GCM-SHA384',
  TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA: 'ECDHE-ECDSA-AES128-SHA',
  TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA: 'ECDHE-ECDSA-AES256-SHA',
  TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA: 'ECDHE-RSA-AES128-SHA',
  TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA: 'ECDHE-RSA-AES256-SHA',
  TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256: 'ECDHE-ECDSA-AES128-SHA256',
  TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256: 'ECDHE-RSA-AES128-SHA256',
  TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256: 'ECDHE-RSA-AES128-GCM-SHA256',
  TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256: 'ECDHE-ECDSA-AES128-GCM-SHA256',
  TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384: 'ECDHE-RSA-AES256-GCM-SHA384',
  TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384: 'ECDHE-ECDSA-AES256-GCM-SHA384',
  TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256: 'ECDHE-RSA-CHACHA20-POLY1305',
  TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256: 'ECDHE-ECDSA-CHACHA20-POLY1305',
  // Go's older spellings of the two above
  TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305: 'ECDHE-RSA-CHACHA20-POLY1305',
  TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305: 'ECDHE-ECDSA-CHACHA20-POLY1305',
  TLS_AES_128_GCM_SHA256: 'TLS_AES_128_GCM_SHA256',
  TLS_AES_256_GCM_SHA384: 'TLS_AES_256_GCM_SHA384',
  TLS_CHACHA20_POLY1305_SHA256: 'TLS_CHACHA20_POLY1305_SHA256',
};

/** configtls `curve_preferences` → OpenSSL group names (Node's `ecdhCurve`). */
const CURVES: Record<string, string> = { X25519: 'X25519', P256: 'prime256v1', P384: 'secp384r1', P521: 'secp521r1' };

export const TLS_CLIENT_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  properties: {
    insecure: { type: 'boolean' },
    insecure_skip_verify: { type: 'boolean', default: false },
    ca_file: { type: 'string' },
    ca_pem: { type: 'string', description: 'CA certificate(s) as PEM text instead of ca_file' },
    cert_file: { type: 'string' },
    cert_pem: { type: 'string', description: 'client certificate as PEM text instead of cert_file' },
    key_file: { type: 'string', 'x-secret': true },
    key_pem: { type: 'string', 'x-secret': true, description: 'client key as PEM text instead of key_file' },
    min_version: { ...TLS_VERSION_SCHEMA, default: '1.2', description: 'oldest TLS version offered (as configtls)' },
    max_version: { ...TLS_VERSION_SCHEMA, description: 'newest TLS version offered; unset: the newest Node supports' },
    server_name_override: { type: 'string', description: 'SNI and certificate name instead of the endpoint host' },
    include_system_ca_certs_pool: { type: 'boolean', default: false, description: "also trust Node's root store (tls.rootCertificates)" },
    cipher_suites: { type: 'array', items: { enum: Object.keys(CIPHER_SUITES) }, description: 'TLS 1.0-1.2 suites offered (Go/IANA names)' },
    curve_preferences: { type: 'array', items: { enum: Object.keys(CURVES) } },
    reload_interval: { type: 'string', format: 'duration', description: 'read cert/key/CA files again this often (for new connections)' },
  },
};

/** Problems the schema cannot express (configtls's Validate): both a file and its PEM, half a key pair. */
export function validateTls(t: TlsClientConfig | undefined, at: (string | number)[]): { path: (string | number)[]; message: string }[] {
  if (!t) return [];
  const out: { path: (string | number)[]; message: string }[] = [];
  for (const k of ['ca', 'cert', 'key'] as const) {
    if (t[`${k}_file`] && t[`${k}_pem`]) out.push({ path: [...at, `${k}_pem`], message: `give either ${k}_file or ${k}_pem, not both` });
  }
  const hasCert = !!(t.cert_file || t.cert_pem);
  const hasKey = !!(t.key_file || t.key_pem);
  if (hasCert !== hasKey) out.push({ path: at, message: 'a client certificate needs its key: give both cert_file/cert_pem and key_file/key_pem, or neither' });
  return out;
}

export type ClientTlsOptions = tls.ConnectionOptions;

/** Node TLS client options from the `tls` section, with the files read now (throws when one cannot be). */
export function clientTlsOptions(t: TlsClientConfig = {}): ClientTlsOptions {
  const read = (file?: string, pem?: string): Buffer | string | undefined => pem ?? (file ? fs.readFileSync(file) : undefined);
  let ca: (Buffer | string)[] | Buffer | string | undefined = read(t.ca_file, t.ca_pem);
  // a `ca` replaces Node's root store, so the system roots are added back only when asked for
  if (t.include_system_ca_certs_pool) ca = [...tls.rootCertificates, ...(ca ? [ca] : [])];
  const o: ClientTlsOptions = {
    ca, cert: read(t.cert_file, t.cert_pem), key: read(t.key_file, t.key_pem),
    rejectUnauthorized: !t.insecure_skip_verify,
    minVersion: tlsVersion(t.min_version), maxVersion: tlsVersion(t.max_version),
  };
  // Node uses `servername` both for SNI and as the name checkServerIdentity checks the certificate against
  if (t.server_name_override) o.servername = t.server_name_override;
  if (t.cipher_suites?.length) o.ciphers = t.cipher_suites.map((n) => CIPHER_SUITES[n] ?? n).join(':');
  if (t.curve_preferences?.length) o.ecdhCurve = t.curve_preferences.map((n) => CURVES[n] ?? n).join(':');
  return o;
}

/**
 * The TLS options for the next new connection. With `reload_interval`, the files are read again
 * once that long has passed since the last read (as configtls reloads on a handshake after the
 * interval); a read that fails (a rotation in progress) keeps the previous options and retries
 * at the next connection. Open connections keep the certificates they were made with.
 */
export function tlsOptionsSource(t: TlsClientConfig = {}, onReloadError?: (err: Error) => void): () => ClientTlsOptions {
  let current = clientTlsOptions(t); // the first read fails the start, as a missing file should
  const everyMs = t.reload_interval ? parseDuration(t.reload_interval) : 0;
  if (everyMs <= 0) return () => current;
  let readAt = Date.now();
  return () => {
    if (Date.now() - readAt >= everyMs) {
      readAt = Date.now();
      try { current = clientTlsOptions(t); } catch (err) { onReloadError?.(err as Error); }
    }
    return current;
  };
}
