import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createHash } from 'node:crypto';
import { AuthenticationError } from '@tapio/core';
import { conformance, validConfig } from '@tapio/core/testing';
import factory, { BasicAuth, type BasicAuthConfig } from '../src/index';

conformance(factory, { config: { htpasswd: { inline: 'user:password' } } });

const basic = (user: string, password: string): { authorization: string } => ({ authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` });

async function accepts(auth: BasicAuth, headers: Record<string, string>): Promise<boolean> {
  try { await auth.authenticate(headers); return true; } catch (err) {
    assert.ok(err instanceof AuthenticationError, `expected an AuthenticationError, got ${(err as Error).message}`);
    return false;
  }
}

async function started(cfg: BasicAuthConfig): Promise<BasicAuth> {
  const auth = factory.create({} as never, validConfig(factory, cfg as Record<string, unknown>) as BasicAuthConfig) as BasicAuth;
  await auth.start();
  return auth;
}

/** Entries as Apache's htpasswd writes them: the reference our verification must agree with. */
function htpasswdLine(flag: string, user: string, password: string): string {
  return execFileSync('htpasswd', [`-nb${flag}`, user, password], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
}

describe('basicauth extension', () => {
  describe('with entries from Apache htpasswd', function () {
    let file: string;
    before(function () {
      try { execFileSync('htpasswd', ['-nbB', 'x', 'y'], { stdio: 'ignore' }); } catch {
        // .ci/setup.d/auth.sh installs apache2-utils
        this.skip();
      }
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'basicauth-'));
      file = path.join(dir, '.htpasswd');
      fs.writeFileSync(file, ['# made by htpasswd', htpasswdLine('B', 'alice', 's3cret'), htpasswdLine('m', 'bob', 'hunter2'), htpasswdLine('s', 'carol', 'pa:ss'), ''].join('\n'));
    });

    it('accepts the right password for bcrypt, apr1-MD5 and SHA-1 entries and refuses wrong ones', async () => {
      const auth = await started({ htpasswd: { file } });
      assert.equal(await accepts(auth, basic('alice', 's3cret')), true);
      assert.equal(await accepts(auth, basic('bob', 'hunter2')), true);
      assert.equal(await accepts(auth, basic('carol', 'pa:ss')), true, 'a password may contain a colon');
      assert.equal(await accepts(auth, basic('alice', 's3cret!')), false);
      assert.equal(await accepts(auth, basic('bob', 'hunter')), false);
      assert.equal(await accepts(auth, basic('carol', 'pa')), false);
      assert.equal(await accepts(auth, basic('mallory', 's3cret')), false, 'unknown user');
    });

    it('SHA-crypt ($5$ -2, $6$ -5), crypt MD5 ($1$) and {SSHA} entries: the password gets in, the hash string does not', async () => {
      const sha = [htpasswdLine('2', 'erin', 'shh-256'), htpasswdLine('5', 'frank', 'shh-512')];
      const md5crypt = `gina:${execFileSync('openssl', ['passwd', '-1', 'old-school'], { encoding: 'utf8' }).trim()}`;
      const salt = Buffer.from('s4lt');
      const ssha = `hank:{SSHA}${Buffer.concat([createHash('sha1').update('ldap-pw').update(salt).digest(), salt]).toString('base64')}`;
      const auth = await started({ htpasswd: { inline: [...sha, md5crypt, ssha].join('\n') } });
      for (const [line, password] of [[sha[0]!, 'shh-256'], [sha[1]!, 'shh-512'], [md5crypt, 'old-school'], [ssha, 'ldap-pw']] as const) {
        const [user, hash] = [line.slice(0, line.indexOf(':')), line.slice(line.indexOf(':') + 1)];
        assert.equal(await accepts(auth, basic(user, password)), true, `${user}: its password`);
        assert.equal(await accepts(auth, basic(user, hash)), false, `${user}: the hash string is not a password`);
        assert.equal(await accepts(auth, basic(user, `${password}x`)), false);
      }
    });

    it('inline entries add to the file (plain text as in the Collector example)', async () => {
      const auth = await started({ htpasswd: { file, inline: 'dave:plain-pw' } });
      assert.equal(await accepts(auth, basic('dave', 'plain-pw')), true);
      assert.equal(await accepts(auth, basic('dave', 'plain')), false);
      assert.equal(await accepts(auth, basic('alice', 's3cret')), true);
    });

    it('a credential checked once is answered from memory: no second bcrypt', async () => {
      const auth = await started({ htpasswd: { file } });
      const first = auth.authenticate(basic('alice', 's3cret'));
      assert.ok(first instanceof Promise, 'the first check runs bcrypt');
      await first;
      assert.equal(auth.authenticate(basic('alice', 's3cret')), undefined, 'the second is synchronous');
      await assert.rejects(async () => auth.authenticate(basic('alice', 'wrong')), AuthenticationError, 'a wrong password is never cached as right');
    });
  });

  it('refuses a missing, non-Basic or malformed Authorization header with a reason', async () => {
    const auth = await started({ htpasswd: { inline: 'u:p' } });
    assert.throws(() => auth.authenticate({}), /missing the Authorization header/);
    assert.throws(() => auth.authenticate({ authorization: 'Bearer abc' }), /not Basic credentials/);
    assert.throws(() => auth.authenticate({ authorization: `Basic ${Buffer.from('no-colon').toString('base64')}` }), /malformed/);
  });

  it('client_auth sends the Basic header, which its server side accepts', async () => {
    const client = await started({ client_auth: { username: 'collector-a', password: 'p@ss word' } });
    const headers = client.requestHeaders();
    assert.equal(Buffer.from(headers.authorization!.replace(/^Basic /, ''), 'base64').toString(), 'collector-a:p@ss word');
    const server = await started({ htpasswd: { inline: 'collector-a:p@ss word' } });
    assert.equal(await accepts(server, headers), true);
  });

  it('client_auth with a username only sends "user:" (empty password), as the Collector', async () => {
    const client = await started({ client_auth: { username: 'api-token-as-user' } });
    assert.deepEqual(client.requestHeaders(), basic('api-token-as-user', ''));
  });

  it('the config needs htpasswd or client_auth, and a bad htpasswd line names its line', async () => {
    assert.match(factory.validate!({} as BasicAuthConfig).map((p) => p.message).join(), /htpasswd .*or client_auth/);
    assert.match(factory.validate!({ htpasswd: {} } as BasicAuthConfig).map((p) => p.message).join(), /htpasswd.file or htpasswd.inline/);
    await assert.rejects(started({ htpasswd: { inline: 'good:pw\nno-colon-here' } }), /htpasswd.inline:2: expected "user:password-hash"/);
    // a hash of a kind not read (yescrypt, {CRYPT}) must not be compared as a plain password
    await assert.rejects(started({ htpasswd: { inline: 'a:pw\nb:$y$j9T$abc$def' } }), /htpasswd.inline:2: unsupported password hash "\$y\$j9T\$a…"/);
    await assert.rejects(started({ htpasswd: { inline: 'c:{CRYPT}abcdefg' } }), /unsupported password hash/);
    assert.match(factory.validate!({ client_auth: { username: 'ops:team', password: 'x' } } as BasicAuthConfig).map((p) => p.message).join(), /client_auth.username must not contain ":"/);
    await assert.rejects(started({ htpasswd: { file: '/nonexistent/.htpasswd' } }), /cannot read htpasswd.file \/nonexistent\/.htpasswd/);
  });
});
