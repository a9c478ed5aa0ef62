import { createHash } from 'node:crypto';
import aprMd5 from 'apache-md5';
import * as bcrypt from 'bcryptjs';
import { constantTimeEqual } from '@tapio/core';
import { shaCrypt } from './sha-crypt';

/**
 * An htpasswd file's entries (`user:hash`, one per line; blank lines and `#` comments skipped).
 * Hashes as Apache's `htpasswd` and crypt(3) write them, the formats the Collector's go-htpasswd
 * reads: bcrypt (`$2y$`, -B), MD5 (`$apr1$`, the default; `$1$`, -m of crypt), SHA-crypt (`$5$`
 * -2, `$6$` -5), SHA-1 (`{SHA}`, -s), salted SHA-1 (`{SSHA}`); anything else is a plain-text
 * password, as in the Collector's inline example (`${env:USER}:${env:PASSWORD}`) — except what
 * looks like a hash of another kind (`$id$…`, `{SCHEME}…`): that fails the start, since comparing
 * it as plain text would let the hash string itself in as the password.
 */
export class Htpasswd {
  private readonly users = new Map<string, string>();

  constructor(text: string, source: string) {
    text.split(/\r?\n/).forEach((line, i) => {
      const l = line.trim();
      if (!l || l.startsWith('#')) return;
      const colon = l.indexOf(':');
      if (colon <= 0) throw new Error(`${source}:${i + 1}: expected "user:password-hash"`);
      const hash = l.slice(colon + 1);
      if (UNKNOWN_SCHEME.test(hash) && !KNOWN_SCHEME.test(hash)) {
        throw new Error(`${source}:${i + 1}: unsupported password hash "${hash.slice(0, 8)}…" (bcrypt $2y$, MD5 $apr1$ / $1$, SHA-crypt $5$ / $6$, {SHA}, {SSHA} or plain text)`);
      }
      this.users.set(l.slice(0, colon), hash);
    });
  }

  get size(): number { return this.users.size; }

  /** True when `password` is this user's. bcrypt is slow on purpose (~50-100 ms), so it is asynchronous. */
  async verify(user: string, password: string): Promise<boolean> {
    const hash = this.users.get(user);
    if (hash === undefined) return false;
    if (/^\$2[aby]\$/.test(hash)) return bcrypt.compare(password, hash);
    if (hash.startsWith('$apr1$') || hash.startsWith('$1$')) return constantTimeEqual(aprMd5(password, hash), hash);
    if (hash.startsWith('$5$') || hash.startsWith('$6$')) return constantTimeEqual(shaCrypt(password, hash) ?? '', hash);
    if (hash.startsWith('{SHA}')) return constantTimeEqual(`{SHA}${createHash('sha1').update(password).digest('base64')}`, hash);
    if (hash.startsWith('{SSHA}')) return verifySsha(password, hash);
    return constantTimeEqual(password, hash);
  }
}

/** What a hash of some scheme looks like (`$id$…`, `{SCHEME}…`), and the schemes read above. */
const UNKNOWN_SCHEME = /^(\$[A-Za-z0-9]+\$|\{[A-Za-z0-9-]+\})/;
const KNOWN_SCHEME = /^(\$2[aby]\$|\$apr1\$|\$1\$|\$5\$|\$6\$|\{SHA\}|\{SSHA\})/;

/** `{SSHA}` base64(SHA-1(password + salt) + salt), as OpenLDAP's slappasswd writes it. */
function verifySsha(password: string, hash: string): boolean {
  const raw = Buffer.from(hash.slice('{SSHA}'.length), 'base64');
  if (raw.length <= 20) return false;
  const digest = createHash('sha1').update(password).update(raw.subarray(20)).digest();
  return constantTimeEqual(digest.toString('base64'), raw.subarray(0, 20).toString('base64'));
}
