import { timingSafeEqual } from 'node:crypto';
import * as fs from 'node:fs';
import {
  AuthenticationError, defineExtension, headerValue, secretDigest,
  type ClientAuthenticator, type Extension, type Logger, type RequestHeaders, type ServerAuthenticator,
} from '@tapio/core';

export interface BearerTokenAuthConfig {
  /** Header that carries the token. */
  header: string;
  /** Prefix before the token ("Bearer"); empty: the header is the token alone. */
  scheme: string;
  token?: string;
  /** Server side: every token accepted. */
  tokens?: string[];
  /** A file holding the token, read again when it changes (a rotated Kubernetes secret). Wins over token/tokens, as in the Collector. */
  filename?: string;
}

/** How often the token file is read for a new token. */
const FILE_POLL_MS = 1000;

/**
 * One extension, both directions: a receiver that names it accepts only requests whose header
 * is `<scheme> <token>` for one of its tokens; an exporter that names it sends that header.
 */
export class BearerTokenAuth implements Extension, ServerAuthenticator, ClientAuthenticator {
  private readonly headerName: string;
  /** SHA-256 of each accepted header value, made once: a request's value is hashed once and compared with each. */
  private accepted: Buffer[] = [];
  private outgoing: Record<string, string> = {};
  private poll: NodeJS.Timeout | undefined;
  private fileToken: string | undefined;
  private lastProblem: string | undefined;

  constructor(private readonly cfg: BearerTokenAuthConfig, private readonly logger: Logger) {
    this.headerName = cfg.header.toLowerCase();
  }

  async start(): Promise<void> {
    if (this.cfg.filename) {
      // As the Collector: with filename set, token and tokens are not used.
      if (this.cfg.token !== undefined || this.cfg.tokens?.length) this.logger.info({ filename: this.cfg.filename }, 'bearertokenauth: filename is set, so token/tokens are ignored');
      this.fileToken = readToken(this.cfg.filename);
      this.useTokens(fileTokens(this.fileToken));
      // The file is read again, not stat'ed: a rewrite of the same size within one timestamp tick
      // looks unchanged to stat. Reading by path also follows a Kubernetes secret's symlink swap.
      this.poll = setInterval(() => this.reload(), FILE_POLL_MS).unref();
    } else {
      this.useTokens([...(this.cfg.token !== undefined ? [this.cfg.token] : []), ...(this.cfg.tokens ?? [])]);
    }
  }

  async shutdown(): Promise<void> {
    clearInterval(this.poll);
    this.poll = undefined;
  }

  authenticate(headers: RequestHeaders): void {
    const got = headerValue(headers, this.headerName);
    if (got === undefined) throw new AuthenticationError(`missing the ${this.cfg.header} header`);
    const digest = secretDigest(got);
    for (const want of this.accepted) if (timingSafeEqual(digest, want)) return;
    throw new AuthenticationError(`the ${this.cfg.header} header does not carry a valid token`);
  }

  requestHeaders(): Record<string, string> {
    return this.outgoing;
  }

  private useTokens(tokens: string[]): void {
    const values = tokens.map((t) => (this.cfg.scheme ? `${this.cfg.scheme} ${t}` : t));
    this.accepted = values.map(secretDigest);
    this.outgoing = values.length ? { [this.headerName]: values[0]! } : {};
  }

  /** A changed token file: the new token from now on; an unreadable or empty one keeps the old (warned once per change). */
  private reload(): void {
    let token: string;
    try {
      token = readToken(this.cfg.filename!);
    } catch (err) {
      const message = (err as Error).message;
      if (message !== this.lastProblem) this.logger.warn({ filename: this.cfg.filename, err: message }, 'bearer token file unreadable; keeping the previous token');
      this.lastProblem = message;
      return;
    }
    this.lastProblem = undefined;
    if (token === this.fileToken) return;
    this.fileToken = token;
    this.useTokens(fileTokens(token));
    this.logger.info({ filename: this.cfg.filename }, 'bearer token reloaded');
  }
}

/**
 * A token file's tokens, one per line (trimmed, blank lines skipped), as the Collector reads it:
 * a server accepts any of them, a client sends the first — so a file can carry the new token
 * next to the old one while clients move over.
 */
function fileTokens(text: string): string[] {
  return text.split('\n').map((line) => line.trim()).filter(Boolean);
}

function readToken(filename: string): string {
  const token = fs.readFileSync(filename, 'utf8').trim();
  if (!token) throw new Error(`token file ${filename} is empty`);
  return token;
}

export default defineExtension<BearerTokenAuthConfig>({
  type: 'bearertokenauth',
  stability: 'beta',
  configSchema: {
    type: 'object',
    additionalProperties: false,
    properties: {
      header: { type: 'string', pattern: "^[!#$%&'*+.^_`|~0-9A-Za-z-]+$", default: 'Authorization' },
      scheme: { type: 'string', default: 'Bearer' },
      token: { type: 'string', minLength: 1, 'x-secret': true },
      tokens: { type: 'array', items: { type: 'string', minLength: 1, 'x-secret': true } },
      filename: { type: 'string', minLength: 1 },
    },
  },
  createDefaultConfig: () => ({ header: 'Authorization', scheme: 'Bearer' }),
  validate(config) {
    const sources = [config.token !== undefined, (config.tokens?.length ?? 0) > 0, config.filename !== undefined].filter(Boolean).length;
    if (sources === 0) return [{ message: 'set one of token, tokens or filename' }];
    return [];
  },
  create: (ctx, config) => new BearerTokenAuth(config, ctx.logger),
});
