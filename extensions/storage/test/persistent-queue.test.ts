import * as assert from 'node:assert/strict';
import { fork, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { SqliteStore, databaseFile } from '../src/index';

/** A downstream the test switches up and down; records every event id it accepted. */
class Sink {
  up = false;
  readonly received: string[] = [];
  server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => { body += d.toString(); });
    req.on('end', () => {
      if (!this.up) { res.writeHead(503).end(); return; }
      for (const id of JSON.parse(body) as string[]) this.received.push(id);
      res.writeHead(200).end();
    });
  });
  async listen(): Promise<string> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', () => r()));
    return `http://127.0.0.1:${(this.server.address() as { port: number }).port}/`;
  }
}

interface Child { proc: ChildProcess; acked: string[]; refused: number; pending: number }

async function startChild(dir: string, url: string): Promise<Child> {
  const proc = fork(path.join(__dirname, 'fixtures', 'queue-collector.js'), [dir, url], { stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
  let stderr = '';
  proc.stderr!.on('data', (d: Buffer) => { stderr += d.toString(); });
  const child: Child = { proc, acked: [], refused: 0, pending: 0 };
  proc.on('message', (m: { acked?: string[]; refused?: number }) => {
    if (m.acked) { child.acked.push(...m.acked); child.pending--; }
    if (m.refused) { child.refused += m.refused; child.pending--; }
  });
  await new Promise<void>((resolve, reject) => {
    proc.once('message', () => resolve());
    proc.once('exit', (code) => reject(new Error(`child exited (${code}): ${stderr}`)));
  });
  return child;
}

function push(c: Child, n: number): void {
  c.pending++;
  c.proc.send({ push: n });
}

async function until(cond: () => boolean, what: string, timeoutMs = 30_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function kill9(c: Child): Promise<void> {
  const exited = new Promise((r) => c.proc.once('exit', r));
  c.proc.kill('SIGKILL');
  await exited;
}

describe('persistent sending queue in a collector process killed with SIGKILL', function () {
  this.timeout(90_000);
  let dir: string;
  const sink = new Sink();
  const children: Child[] = [];
  before(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tapio-pq-')); });
  after(() => {
    for (const c of children) if (c.proc.exitCode === null) c.proc.kill('SIGKILL');
    sink.server.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('delivers every acknowledged event after kill -9 during an outage and during delivery (at-least-once)', async () => {
    const url = await sink.listen();

    // 1. Downstream is down: the collector acknowledges (persists) and keeps retrying.
    const first = await startChild(dir, url);
    children.push(first);
    for (let i = 0; i < 40; i++) push(first, 25);
    await until(() => first.pending === 0, 'the first pushes to be acknowledged');
    // More pushes in flight while the process dies: only what was acknowledged counts.
    for (let i = 0; i < 20; i++) push(first, 25);
    await until(() => first.acked.length >= 1200, 'some of the in-flight pushes to be acknowledged');
    await kill9(first);
    assert.equal(sink.received.length, 0, 'nothing got through while the downstream was down');
    assert.equal(first.refused, 0, 'nothing was refused: the queue had room');

    // 2. Restart with the downstream up; kill again while it is delivering.
    sink.up = true;
    const second = await startChild(dir, url);
    children.push(second);
    for (let i = 0; i < 20; i++) push(second, 25);
    await until(() => sink.received.length > 200, 'delivery to start');
    await kill9(second);

    // 3. A third run finishes the job.
    const third = await startChild(dir, url);
    children.push(third);
    const acked = new Set([...first.acked, ...second.acked]);
    await until(() => { const got = new Set(sink.received); for (const id of acked) if (!got.has(id)) return false; return true; }, 'every acknowledged event to arrive');
    await until(() => countQueued(dir) === 0, 'the queue in storage to empty');
    const duplicates = sink.received.length - new Set(sink.received).size;
    console.log(`      acknowledged ${acked.size} events, received ${sink.received.length}, duplicates (redelivered at least once) ${duplicates}`);
    assert.ok(duplicates <= sink.received.length / 2, 'redelivery stays bounded to what was in flight');
    await kill9(third);
  });
});

/** Queue records left in the child's database (read while the child runs: SQLite allows it). */
function countQueued(dir: string): number {
  const store = new SqliteStore(databaseFile(dir, 'file_storage/q'), { synchronous: 'normal', maxSizeBytes: 0, busyTimeoutMs: 2000, vacuumOnOpen: false });
  try { return store.keys('exporter/httpsink/sending_queue', 'q/').length; } finally { store.close(); }
}
