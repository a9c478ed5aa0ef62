import * as fs from 'node:fs';
import type * as tls from 'node:tls';
import type { TlsServerConfig } from './config';

/** configtls's `min_version` / `max_version` values. */
export const TLS_VERSION_SCHEMA = { enum: ['1.0', '1.1', '1.2', '1.3'] };

/** configtls's `min_version` / `max_version` ("1.2") in Node's terms ("TLSv1.2"). */
export function tlsVersion(v: string | undefined): tls.SecureVersion | undefined {
  return v === undefined ? undefined : (`TLSv${v}` as tls.SecureVersion);
}

/** Options for a TLS server from the receiver's `tls` section (both protocols). */
export function serverTlsOptions(t: TlsServerConfig): tls.TlsOptions {
  const ca = t.client_ca_file ? fs.readFileSync(t.client_ca_file) : undefined;
  return {
    cert: fs.readFileSync(t.cert_file!), key: fs.readFileSync(t.key_file!),
    // mTLS: with a client CA, clients must present a certificate that chains to it
    ...(ca ? { ca, requestCert: true, rejectUnauthorized: true } : {}),
    minVersion: tlsVersion(t.min_version), maxVersion: tlsVersion(t.max_version),
  };
}
