import { createHash, timingSafeEqual } from 'node:crypto';
import type { Host } from './types';

/**
 * Authentication as the OpenTelemetry Collector's configauth: an extension (bearertokenauth,
 * basicauth…) does the checking or the signing, and a receiver or exporter names it in its
 * `auth: { authenticator: <extension id> }`.
 */

/** A request's headers (gRPC metadata or HTTP headers), names in lower case. */
export type RequestHeaders = Record<string, string | string[] | undefined>;

/** Why a request was refused; the receiver answers UNAUTHENTICATED / 401 with this message. */
export class AuthenticationError extends Error {}

/** Checks incoming requests (receivers). */
export interface ServerAuthenticator {
  /**
   * Accepts the request by returning (or resolving), refuses it by throwing (or rejecting) an
   * AuthenticationError. Synchronous when it can be: it runs for every request.
   */
  authenticate(headers: RequestHeaders): void | Promise<void>;
  /** Why this instance cannot check requests (e.g. basicauth without htpasswd); undefined when it can. */
  serverConfigProblem?(): string | undefined;
}

/** Signs outgoing requests (exporters). */
export interface ClientAuthenticator {
  /** Headers to add to the next request, names in lower case; read per request (tokens rotate). */
  requestHeaders(): Record<string, string>;
  /** Why this instance cannot sign requests (e.g. basicauth without client_auth); undefined when it can. */
  clientConfigProblem?(): string | undefined;
}

export interface AuthConfig {
  /** Id of an authenticator extension listed in service.extensions, e.g. `bearertokenauth/in`. */
  authenticator: string;
}

/** The `auth` section of a receiver protocol or an exporter. */
export const AUTH_CONFIG_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: ['authenticator'],
  properties: {
    authenticator: { type: 'string', minLength: 1, 'x-extension-ref': true, description: 'id of an authenticator extension in service.extensions (bearertokenauth, basicauth)' },
    request_params: { type: 'array', items: { type: 'string' }, 'x-no-effect': "Tapio's authenticators read headers only" },
  },
};

export function isServerAuthenticator(x: unknown): x is ServerAuthenticator {
  return typeof (x as ServerAuthenticator | undefined)?.authenticate === 'function';
}

export function isClientAuthenticator(x: unknown): x is ClientAuthenticator {
  return typeof (x as ClientAuthenticator | undefined)?.requestHeaders === 'function';
}

/** The server authenticator `auth` names; `where` is the config path for the error (`protocols.grpc.auth`). */
export function resolveServerAuthenticator(host: Host, auth: AuthConfig | undefined, where: string): ServerAuthenticator | undefined {
  const a = resolveAuthenticator(host, auth, where, isServerAuthenticator, 'authenticate incoming requests');
  const problem = a?.serverConfigProblem?.();
  if (problem) throw new Error(`${where}.authenticator: extension "${auth!.authenticator}" cannot authenticate incoming requests: ${problem}`);
  return a;
}

/** The client authenticator `auth` names; `where` is the config path for the error (`auth`). */
export function resolveClientAuthenticator(host: Host, auth: AuthConfig | undefined, where: string): ClientAuthenticator | undefined {
  const a = resolveAuthenticator(host, auth, where, isClientAuthenticator, 'sign outgoing requests');
  const problem = a?.clientConfigProblem?.();
  if (problem) throw new Error(`${where}.authenticator: extension "${auth!.authenticator}" cannot sign outgoing requests: ${problem}`);
  return a;
}

function resolveAuthenticator<T>(host: Host, auth: AuthConfig | undefined, where: string, is: (x: unknown) => x is T, ability: string): T | undefined {
  if (!auth) return undefined;
  const ext = host.getExtension<unknown>(auth.authenticator);
  if (!ext) throw new Error(`${where}.authenticator: no extension "${auth.authenticator}" is configured in service.extensions`);
  if (!is(ext)) throw new Error(`${where}.authenticator: extension "${auth.authenticator}" cannot ${ability}`);
  return ext;
}

/**
 * The gate a receiver puts in front of a request: `accept()` once the authenticator let it
 * through, `refuse(reason)` otherwise. Synchronous when the authenticator answers at once (a
 * token compare, a cached password), so only slow checks (bcrypt) cost a promise.
 */
export function authenticateRequest(auth: ServerAuthenticator, headers: RequestHeaders, accept: () => void, refuse: (reason: string) => void): void {
  let pending: void | Promise<void>;
  try { pending = auth.authenticate(headers); } catch (err) { refuse(refusalReason(err)); return; }
  if (pending) pending.then(accept, (err: unknown) => refuse(refusalReason(err)));
  else accept();
}

/** An AuthenticationError says why; anything else is the authenticator failing. */
function refusalReason(err: unknown): string {
  return err instanceof AuthenticationError ? err.message : `authentication failed: ${(err as Error).message}`;
}

/** A header's single value (the first when a client repeated it). */
export function headerValue(headers: RequestHeaders, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/**
 * Equal strings, in time that does not depend on where they differ (for secrets). Both sides are
 * hashed first: timingSafeEqual needs equal lengths, and comparing lengths would leak the secret's.
 */
export function constantTimeEqual(a: string, b: string): boolean {
  return timingSafeEqual(secretDigest(a), secretDigest(b));
}

/** SHA-256 of a secret, for comparing with timingSafeEqual against digests made once in advance. */
export function secretDigest(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}
