import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as https from 'node:https';
import * as path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { testEvent } from '@tapio/core/testing';
import { authMetadata, createGrpcClient } from '../src/index';
import { startApi, tmpDir } from './helpers';

function haveOpenssl(): boolean {
  try { execFileSync('openssl', ['version'], { stdio: 'ignore' }); return true; } catch { return false; }
}

describe('tapio_api over TLS with a token file', function () {
  this.timeout(30_000);
  let dir: string;
  let cert: Buffer;

  before(function () {
    if (!haveOpenssl()) this.skip();
    dir = tmpDir('tapio-api-tls-');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1',
      '-keyout', path.join(dir, 'key.pem'), '-out', path.join(dir, 'cert.pem')], { stdio: 'ignore' });
    cert = fs.readFileSync(path.join(dir, 'cert.pem'));
    fs.writeFileSync(path.join(dir, 'token'), 'file-token-0123456789abcdef\n');
  });
  after(() => { if (dir) fs.rmSync(dir, { recursive: true, force: true }); });

  it('serves HTTPS and gRPC over TLS, requiring the token read from the file', async () => {
    const { ext, base, grpc: addr } = await startApi({
      tls: { cert_file: path.join(dir, 'cert.pem'), key_file: path.join(dir, 'key.pem') },
      auth: { token_file: path.join(dir, 'token'), required: 'always' }, storage: { path: ':memory:' },
    });
    try {
      assert.match(base, /^https:/);
      ext.ingest([testEvent('kernel')]);
      const get = (token?: string) => new Promise<{ status: number; body: any }>((resolve, reject) => {
        https.get(`${base}/api/v1/health`, { ca: cert, headers: token ? { authorization: `Bearer ${token}` } : {} }, (res) => {
          let t = '';
          res.on('data', (c) => { t += c; });
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(t) }));
        }).on('error', reject);
      });
      assert.equal((await get()).status, 401);
      const ok = await get('file-token-0123456789abcdef');
      assert.equal(ok.status, 200);
      assert.equal(ok.body.store.events, 1);

      const client = createGrpcClient(addr.replace('127.0.0.1', 'localhost'), { credentials: grpc.credentials.createSsl(cert), token: 'file-token-0123456789abcdef' });
      const h = await new Promise<any>((resolve, reject) => client.Health({}, (err: Error | null, r: unknown) => (err ? reject(err) : resolve(r))));
      assert.equal(h.storedEvents, 1);
      const plain = createGrpcClient(addr.replace('127.0.0.1', 'localhost'), { credentials: grpc.credentials.createSsl(cert) });
      const err = await new Promise<grpc.ServiceError>((resolve) => plain.Health({}, authMetadata('wrong-token-wrong-token'), (e: grpc.ServiceError) => resolve(e)));
      assert.equal(err.code, grpc.status.UNAUTHENTICATED);
      client.close();
      plain.close();
    } finally {
      await ext.shutdown();
    }
  });
});
