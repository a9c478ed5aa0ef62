import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import {
  AuthenticationError, defineExtension, headerValue,
  type ClientAuthenticator, type Extension, type RequestHeaders, type ServerAuthenticator,
} from '@tapio/core';
import { Htpasswd } from './htpasswd';

export interface BasicAuthConfig {
  /** Server side: the accepted users, from a file and/or inline (both are read; inline wins for a user in both). */
  htpasswd?: { file?: string; inline?: string };
  /** Client side: the credentials an exporter sends. */
  client_auth?: { username?: string; password?: string };
}

/** Credentials verified lately, by the hash of their header value: bcrypt costs ~50-100 ms per check. */
const CACHE_MAX = 1024;

/** HTTP Basic authentication: checks `Authorization: Basic …` against htpasswd entries, or sends it. */
export class BasicAuth implements Extension, ServerAuthenticator, ClientAuthenticator {
  private users: Htpasswd | undefined;
  private readonly outgoing: Record<string, string>;
  private readonly verified = new Set<string>();

  constructor(private readonly cfg: BasicAuthConfig) {
    const c = cfg.client_auth;
    // As the Collector, either part may be empty (a token-as-username API sends `user:`).
    this.outgoing = c ? { authorization: `Basic ${Buffer.from(`${c.username ?? ''}:${c.password ?? ''}`).toString('base64')}` } : {};
  }

  async start(): Promise<void> {
    const h = this.cfg.htpasswd;
    if (!h) return;
    const parts: string[] = [];
    if (h.file) {
      try { parts.push(fs.readFileSync(h.file, 'utf8')); } catch (err) { throw new Error(`basicauth: cannot read htpasswd.file ${h.file}: ${(err as Error).message}`); }
    }
    if (h.inline) parts.push(h.inline);
    this.users = new Htpasswd(parts.join('\n'), h.file ?? 'htpasswd.inline');
  }

  async shutdown(): Promise<void> {}

  authenticate(headers: RequestHeaders): void | Promise<void> {
    const users = this.users;
    if (!users) throw new AuthenticationError('basicauth has no htpasswd section: it cannot check incoming requests');
    const value = headerValue(headers, 'authorization');
    if (!value) throw new AuthenticationError('missing the Authorization header');
    const m = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(value);
    if (!m) throw new AuthenticationError('the Authorization header is not Basic credentials');
    const key = createHash('sha256').update(value).digest('base64');
    if (this.verified.has(key)) return;
    const decoded = Buffer.from(m[1]!, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) throw new AuthenticationError('malformed Basic credentials');
    return users.verify(decoded.slice(0, colon), decoded.slice(colon + 1)).then((ok) => {
      if (!ok) throw new AuthenticationError('invalid username or password');
      if (this.verified.size >= CACHE_MAX) this.verified.clear();
      this.verified.add(key);
    });
  }

  requestHeaders(): Record<string, string> {
    return this.outgoing;
  }

  serverConfigProblem(): string | undefined {
    return this.cfg.htpasswd ? undefined : 'it has no htpasswd section';
  }

  clientConfigProblem(): string | undefined {
    return this.cfg.client_auth ? undefined : 'it has no client_auth section';
  }
}

export default defineExtension<BasicAuthConfig>({
  type: 'basicauth',
  stability: 'beta',
  configSchema: {
    type: 'object',
    additionalProperties: false,
    properties: {
      htpasswd: {
        type: 'object',
        additionalProperties: false,
        properties: {
          file: { type: 'string', minLength: 1, description: 'an htpasswd file (bcrypt, MD5 apr1/crypt, SHA-crypt, SHA-1, salted SHA-1 or plain entries)' },
          inline: { type: 'string', 'x-secret': true, description: 'htpasswd entries written in the config' },
        },
      },
      client_auth: {
        type: 'object',
        additionalProperties: false,
        properties: { username: { type: 'string' }, password: { type: 'string', 'x-secret': true } },
      },
    },
  },
  createDefaultConfig: () => ({}),
  validate(config) {
    if (!config.htpasswd && !config.client_auth) return [{ message: 'set htpasswd (to check incoming requests) or client_auth (to sign outgoing ones)' }];
    if (config.htpasswd && !config.htpasswd.file && config.htpasswd.inline === undefined) return [{ path: ['htpasswd'], message: 'set htpasswd.file or htpasswd.inline' }];
    // the server splits user:password at the first colon, so a colon in the name cannot get through (the Collector refuses it too)
    if (config.client_auth?.username?.includes(':')) return [{ path: ['client_auth', 'username'], message: 'client_auth.username must not contain ":"' }];
    return [];
  },
  create: (_ctx, config) => new BasicAuth(config),
});
