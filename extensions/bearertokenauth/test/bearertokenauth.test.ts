import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createLogger } from '@tapio/core';
import { conformance, validConfig } from '@tapio/core/testing';
import factory, { BearerTokenAuth, type BearerTokenAuthConfig } from '../src/index';

conformance(factory, { config: { token: 'abc' } });

function make(cfg: Partial<BearerTokenAuthConfig>): BearerTokenAuth {
  return new BearerTokenAuth(validConfig(factory, cfg) as BearerTokenAuthConfig, createLogger('silent'));
}

async function waitFor(what: string, cond: () => boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('bearertokenauth extension', () => {
  it('accepts "Bearer <token>" for any configured token and refuses others without echoing them', async () => {
    const auth = make({ token: 't-one', tokens: ['t-two'] });
    await auth.start();
    auth.authenticate({ authorization: 'Bearer t-one' });
    auth.authenticate({ authorization: 'Bearer t-two' });
    assert.throws(() => auth.authenticate({ authorization: 'Bearer t-three' }), (err: Error) => /does not carry a valid token/.test(err.message) && !err.message.includes('t-three'));
    assert.throws(() => auth.authenticate({ authorization: 't-one' }), /valid token/, 'the scheme is required');
    assert.throws(() => auth.authenticate({}), /missing the Authorization header/);
    assert.deepEqual(auth.requestHeaders(), { authorization: 'Bearer t-one' });
  });

  it('a custom header and an empty scheme carry the bare token', async () => {
    const auth = make({ header: 'X-Api-Key', scheme: '', token: 'k123' });
    await auth.start();
    auth.authenticate({ 'x-api-key': 'k123' });
    assert.throws(() => auth.authenticate({ authorization: 'Bearer k123' }), /missing the X-Api-Key header/);
    assert.deepEqual(auth.requestHeaders(), { 'x-api-key': 'k123' });
  });

  it('follows a rotated token file, and keeps the last token when the file turns empty', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bearer-'));
    const file = path.join(dir, 'token');
    fs.writeFileSync(file, 'first-token\n');
    const auth = make({ filename: file });
    await auth.start();
    try {
      assert.deepEqual(auth.requestHeaders(), { authorization: 'Bearer first-token' }, 'trailing newline trimmed');
      fs.writeFileSync(file, 'second-token');
      await waitFor('the new token', () => auth.requestHeaders().authorization === 'Bearer second-token');
      auth.authenticate({ authorization: 'Bearer second-token' });
      assert.throws(() => auth.authenticate({ authorization: 'Bearer first-token' }), /valid token/);
      fs.writeFileSync(file, '');
      await new Promise((r) => setTimeout(r, 2500));
      assert.deepEqual(auth.requestHeaders(), { authorization: 'Bearer second-token' });
    } finally {
      await auth.shutdown();
    }
  });

  it('a token file with one token per line: any is accepted, the first is sent (rotation through the file, as the Collector)', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bearer-'));
    const file = path.join(dir, 'tokens');
    fs.writeFileSync(file, 'new-token\n  old-token  \n\n');
    const auth = make({ filename: file });
    await auth.start();
    try {
      auth.authenticate({ authorization: 'Bearer new-token' });
      auth.authenticate({ authorization: 'Bearer old-token' });
      assert.throws(() => auth.authenticate({ authorization: 'Bearer new-token\nold-token' }), /valid token/);
      assert.deepEqual(auth.requestHeaders(), { authorization: 'Bearer new-token' }, 'one header value, no newline in it');
    } finally {
      await auth.shutdown();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('two instances on one token file: shutting one down leaves the other following it', async () => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'bearer-')), 'token');
    fs.writeFileSync(file, 'v1');
    const a = make({ filename: file });
    const b = make({ filename: file });
    await a.start();
    await b.start();
    try {
      await a.shutdown();
      fs.writeFileSync(file, 'v2');
      await waitFor('the second instance to see the new token', () => b.requestHeaders().authorization === 'Bearer v2');
      assert.equal(a.requestHeaders().authorization, 'Bearer v1', 'the stopped one no longer follows the file');
    } finally {
      await b.shutdown();
    }
  });

  it('the config names at least one token source', () => {
    assert.match(factory.validate!({ header: 'Authorization', scheme: 'Bearer' }).map((p) => p.message).join(), /one of token, tokens or filename/);
  });

  it('token and filename together: accepted, and the file wins (as the Collector and its README example)', async () => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'bearer-')), 'token');
    fs.writeFileSync(file, 'from-file');
    assert.deepEqual(factory.validate!({ header: 'Authorization', scheme: 'Bearer', token: 'inline', filename: file }), []);
    const auth = make({ token: 'inline', filename: file });
    await auth.start();
    try {
      assert.deepEqual(auth.requestHeaders(), { authorization: 'Bearer from-file' });
      assert.throws(() => auth.authenticate({ authorization: 'Bearer inline' }), /valid token/);
    } finally {
      await auth.shutdown();
    }
  });
});
