import * as fs from 'node:fs';
import * as tls from 'node:tls';
import { parseDuration } from '../config/duration';
import type { Logger } from '../telemetry/logger';

// configtls, the OpenTelemetry Collector's TLS settings, in Node's terms: the server side (receivers,
// health_check) and the client side (exporters), with the same names, defaults and checks.

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

export interface TlsServerConfig {
  cert_file?: string;
  key_file?: string;
  /** The certificate and key inline (PEM) instead of files. */
  cert_pem?: string;
  key_pem?: string;
  /** When set, clients must present a certificate signed by this CA (mTLS). */
  client_ca_file?: string;
  /** Load client_ca_file again when it changes. */
  client_ca_file_reload?: boolean;
  min_version?: string;
  max_version?: string;
  /** Go / IANA names (TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256); see CIPHER_SUITES. */
  cipher_suites?: string[];
  /** X25519, P256, P384, P521. */
  curve_preferences?: string[];
  /** Read the certificate, key and client CA files again this often (for new connections). */
  reload_interval?: string;
  ca_file?: string;
  ca_pem?: string;
  include_system_ca_certs_pool?: boolean;
}

/** A server's `tls` section (configtls.ServerConfig); see tlsServerProblems for what it cannot say. */
export const TLS_SERVER_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  description: 'as configtls: a certificate and key (file or inline PEM) are required',
  properties: {
    cert_file: { type: 'string', description: 'PEM certificate' },
    key_file: { type: 'string', description: 'PEM private key', 'x-secret': true },
    cert_pem: { type: 'string', description: 'PEM certificate inline' },
    key_pem: { type: 'string', description: 'PEM private key inline', 'x-secret': true },
    client_ca_file: { type: 'string', description: 'CA that client certificates must chain to (mTLS)' },
    client_ca_file_reload: { type: 'boolean', description: 'load client_ca_file again when it changes' },
    min_version: { ...TLS_VERSION_SCHEMA, default: '1.2', description: 'oldest TLS version accepted (as configtls)' },
    max_version: { ...TLS_VERSION_SCHEMA, description: 'newest TLS version offered; unset: the newest Node supports' },
    cipher_suites: { type: 'array', items: { type: 'string' }, description: 'TLS 1.0-1.2 suites by their Go / IANA names; unset: OpenSSL defaults' },
    curve_preferences: { type: 'array', items: { enum: CURVE_NAMES } },
    reload_interval: { type: 'string', format: 'duration', description: 'read the certificate, key and client CA files again this often' },
    ca_file: { type: 'string', 'x-no-effect': 'a server verifies clients with client_ca_file; ca_file is a client setting' },
    ca_pem: { type: 'string', 'x-no-effect': 'a server verifies clients with client_ca_file; ca_pem is a client setting' },
    include_system_ca_certs_pool: { type: 'boolean', 'x-no-effect': 'a server verifies clients with client_ca_file only' },
  },
};


/** What TLS_SERVER_SCHEMA cannot say: a certificate and a key (file or PEM, not both), known cipher names. */
export function tlsServerProblems(t: TlsServerConfig, at: (string | number)[]): { path: (string | number)[]; message: string }[] {
  const out: { path: (string | number)[]; message: string }[] = [];
  for (const [file, pem, what] of [['cert_file', 'cert_pem', 'certificate'], ['key_file', 'key_pem', 'private key']] as const) {
    if (t[file] === undefined && t[pem] === undefined) out.push({ path: at, message: `a TLS server needs its ${what}: set ${file} or ${pem}` });
    if (t[file] !== undefined && t[pem] !== undefined) out.push({ path: [...at, pem], message: `set ${file} or ${pem}, not both` });
  }
  (t.cipher_suites ?? []).forEach((name, i) => {
    if (!CIPHER_SUITES.has(name)) out.push({ path: [...at, 'cipher_suites', i], message: `unknown cipher suite "${name}" (known: ${[...CIPHER_SUITES.keys()].join(', ')})` });
  });
  return out;
}

/** Node options for a TLS server from its `tls` section. Reads the files now. */
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

/** A client's `tls` section (exporters): configtls.ClientConfig. */
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
    cipher_suites: { type: 'array', items: { enum: [...CIPHER_SUITES.keys()] }, description: 'TLS 1.0-1.2 suites offered (Go/IANA names)' },
    curve_preferences: { type: 'array', items: { enum: CURVE_NAMES } },
    reload_interval: { type: 'string', format: 'duration', description: 'read cert/key/CA files again this often (for new connections)' },
  },
};

/** Problems the schema cannot express (configtls's Validate): both a file and its PEM, half a key pair. */
export function tlsClientProblems(t: TlsClientConfig | undefined, at: (string | number)[]): { path: (string | number)[]; message: string }[] {
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
  const ciphers = cipherList(t.cipher_suites);
  if (ciphers) o.ciphers = ciphers;
  const curves = curveList(t.curve_preferences);
  if (curves) o.ecdhCurve = curves;
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
