import { createHash } from 'node:crypto';
import aprMd5 from 'apache-md5';
import * as bcrypt from 'bcryptjs';
import { constantTimeEqual } from '@tapio/core';

/**
 * An htpasswd file's entries (`user:hash`, one per line; blank lines and `#` comments skipped).
 * Hashes as Apache's `htpasswd` writes them: bcrypt (`$2y$`, -B), MD5 (`$apr1$`, the default),
 * SHA-1 (`{SHA}`, -s); anything else is a plain-text password, as in the Collector's inline
 * example (`${env:USER}:${env:PASSWORD}`).
 */
export class Htpasswd {
  private readonly users = new Map<string, string>();

  constructor(text: string, source: string) {
    text.split(/\r?\n/).forEach((line, i) => {
      const l = line.trim();
      if (!l || l.startsWith('#')) return;
      const colon = l.indexOf(':');
      if (colon <= 0) throw new Error(`${source}:${i + 1}: expected "user:password-hash"`);
      this.users.set(l.slice(0, colon), l.slice(colon + 1));
    });
  }

  get size(): number { return this.users.size; }

  /** True when `password` is this user's. bcrypt is slow on purpose (~50-100 ms), so it is asynchronous. */
  async verify(user: string, password: string): Promise<boolean> {
    const hash = this.users.get(user);
    if (hash === undefined) return false;
    if (/^\$2[aby]\$/.test(hash)) return bcrypt.compare(password, hash);
    if (hash.startsWith('$apr1$')) return constantTimeEqual(aprMd5(password, hash), hash);
    if (hash.startsWith('{SHA}')) return constantTimeEqual(`{SHA}${createHash('sha1').update(password).digest('base64')}`, hash);
    return constantTimeEqual(password, hash);
  }
}
