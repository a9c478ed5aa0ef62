import * as assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import * as net from 'node:net';
import { constants } from 'node:os';
import * as path from 'node:path';
import { TOPOLOGY_SERVICE, type ProcessorFactory, type UnifiedEvent } from '@tapio/core';
import { SinkConsumer, testContext, testHost, validConfig } from '@tapio/core/testing';
import factory, { EbpfReceiver, findNativeDir, LOADER_BINARY, type EbpfReceiverConfig } from '../src/index';
import { createMemoryCgroup } from '@tapio/core/testing';

/*
 * These run the real programs on the running kernel: they need Linux, root (CI runs as root),
 * kernel BTF and the built loader (make -C ebpf-programs). They skip with the reason otherwise.
 */
function whyNot(): string | undefined {
  if (process.platform !== 'linux') return `eBPF tests need Linux (this is ${process.platform})`;
  if (process.getuid?.() !== 0) return 'eBPF tests need root (CAP_BPF/CAP_PERFMON); CI runs them as root';
  if (!existsSync('/sys/kernel/btf/vmlinux')) return 'no kernel BTF at /sys/kernel/btf/vmlinux';
  if (!existsSync(path.join(findNativeDir(), LOADER_BINARY))) return 'eBPF loader not built: run make -C ebpf-programs';
  return undefined;
}

/** Resolves with the first event (already received or arriving within timeoutMs) that matches. */
function waitForEvent(sink: SinkConsumer, match: (e: UnifiedEvent) => boolean, what: string, timeoutMs = 15_000): Promise<UnifiedEvent> {
  return new Promise((resolve, reject) => {
    const deadline = Date.now() + timeoutMs;
    const poll = (): void => {
      const found = sink.events.find(match);
      if (found) return resolve(found);
      if (Date.now() > deadline) return reject(new Error(`no ${what} within ${timeoutMs} ms (${sink.events.length} events seen)`));
      setTimeout(poll, 25);
    };
    poll();
  });
}

async function waitUntil(cond: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

function exited(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  return new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
}

describe('ebpf receiver on the running kernel', function () {
  this.timeout(60_000);
  const sink = new SinkConsumer();
  let receiver: EbpfReceiver | undefined;

  before(async function () {
    const reason = whyNot();
    if (reason) { console.log(`      skipped: ${reason}`); this.skip(); }
    const config = validConfig<EbpfReceiverConfig>(factory, { programs: ['oom', 'tcp', 'process'], stats_interval: '200ms' });
    receiver = (await factory.create(testContext('ebpf', 'receiver'), config, sink)) as EbpfReceiver;
    await receiver.start(testHost());
  });

  after(async () => {
    await receiver?.shutdown();
  });

  it('attaches the programs it was asked for', () => {
    assert.deepEqual([...(receiver?.programs ?? [])].sort(), ['oom', 'process', 'tcp']);
  });

  it('reports a process killed by a signal with that signal', async () => {
    const child = spawn('sleep', ['30'], { stdio: 'ignore' });
    await waitForEvent(sink, (e) => e.kernel?.event === 'process_exec' && e.kernel.pid === child.pid, 'exec event of sleep');
    child.kill('SIGUSR2');
    assert.equal((await exited(child)).signal, 'SIGUSR2');
    const e = await waitForEvent(sink, (ev) => ev.kernel?.event === 'process_exit' && ev.kernel.pid === child.pid, `exit event of pid ${child.pid}`);
    assert.equal(e.kind, 'kernel');
    assert.equal(e.kernel?.signal, constants.signals.SIGUSR2);
    assert.equal(e.kernel?.signalName, 'SIGUSR2');
    assert.equal(e.kernel?.comm, 'sleep');
    assert.equal(e.resource['process.pid'], child.pid);
    assert.equal(e.severity, 'warn');
    // the event time is the kernel's, converted to wall clock: within this test's span
    assert.ok(Math.abs(e.time / 1e6 - Date.now()) < 60_000, `event time ${new Date(e.time / 1e6).toISOString()} is not now`);
  });

  it('reports a connection to a closed local port as refused, with the port and the pid', async () => {
    // a port just closed can be taken by another process on a busy machine: try again then
    let port = 0;
    let child: ChildProcess | undefined;
    for (let attempt = 0; attempt < 3; attempt++) {
      port = await closedPort();
      child = spawn(process.execPath, ['-e', `require('net').connect(${port}, '127.0.0.1').on('connect', () => process.exit(1)).on('error', (e) => process.exit(e.code === 'ECONNREFUSED' ? 0 : 2))`], { stdio: 'ignore' });
      if ((await exited(child)).code === 0) break;
      child = undefined;
    }
    assert.ok(child, 'the client saw ECONNREFUSED');
    const e = await waitForEvent(sink, (ev) => ev.network?.event === 'connection_refused' && ev.network.dstPort === port, `connection_refused to port ${port}`);
    assert.equal(e.kind, 'network');
    assert.equal(e.network?.pid, child.pid);
    assert.equal(e.network?.dstAddr, '127.0.0.1');
    assert.equal(e.network?.comm, 'node');
    assert.equal(e.attributes['network.peer.port'], port);
  });

  describe('OOM kill in a memory-limited cgroup', () => {
    let oom: UnifiedEvent | undefined;
    let cgroupPath = '';
    let victimPid = 0;

    before(async function () {
      const cg = createMemoryCgroup(`tapio-oom-test-${process.pid}`, 32 * 1024 * 1024);
      cgroupPath = cg.path;
      try {
        // the shell joins the cgroup, then becomes `tail /dev/zero`, which buffers an endless line
        const child = spawn('sh', ['-c', `echo $$ > ${cg.procsFile} && exec tail /dev/zero`], { stdio: 'ignore' });
        victimPid = child.pid!;
        const result = await exited(child);
        assert.equal(result.signal, 'SIGKILL', 'the OOM killer killed the process');
        oom = await waitForEvent(sink, (e) => e.kernel?.event === 'oom_kill' && e.kernel.pid === victimPid, `oom_kill of pid ${victimPid}`);
      } finally {
        cg.remove();
      }
    });

    it('emits an oom_kill event with the victim pid and its cgroup', () => {
      assert.equal(oom?.kind, 'kernel');
      assert.equal(oom?.severity, 'error');
      assert.equal(oom?.kernel?.pid, victimPid);
      assert.equal(oom?.kernel?.comm, 'tail');
      assert.equal(oom?.kernel?.cgroupPath, cgroupPath);
      assert.equal(oom?.resource['process.pid'], victimPid);
      assert.ok((oom?.kernel?.victimTotalVmBytes as number) > 0, 'the victim had memory mapped');
      assert.equal(oom?.kernel?.memoryLimit, 32 * 1024 * 1024, 'the memcg limit, in bytes');
    });

    it('is tagged as an OOM kill by the semantic processor', async function () {
      let semantic: ProcessorFactory | undefined;
      try {
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        semantic = (require('@tapio/processor-semantic') as { default: ProcessorFactory }).default;
      } catch (err) {
        console.log(`      skipped: @tapio/processor-semantic is not built (${(err as Error).message.split('\n')[0]})`);
        this.skip();
      }
      const out = new SinkConsumer();
      const p = await semantic!.create(testContext('semantic', 'processor'), validConfig(semantic!), out);
      await p.start(testHost());
      await p.consume({ events: [structuredClone(oom!)] });
      await p.shutdown();
      assert.equal(out.events[0]?.semantic?.intent, 'oom_kill');
      assert.equal(out.events[0]?.semantic?.category, 'resource');
    });
  });

  it('counts records and loses none at this rate', async () => {
    // The loader reports its counters every stats_interval; wait for a report that covers the tests above.
    const deadline = Date.now() + 10_000;
    while (receiver!.totals().emitted < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    const t = receiver!.totals();
    assert.ok(t.emitted >= 3, `the kernel side reported ${t.emitted} records`);
    assert.equal(t.lost, 0);
  });
});

describe('ebpf receiver: containers and Kubernetes namespaces', function () {
  this.timeout(30_000);

  it('derives container id and pod uid from a kubelet-style cgroup and keeps only pods of filters.namespaces', async function () {
    const reason = whyNot();
    if (reason) { console.log(`      skipped: ${reason}`); this.skip(); }
    const podUid = '0b9f7e44-1c55-4c8e-9d3c-2f6d8d1c0a11';
    const containerId = (process.pid.toString(16) + 'c0ffee').padEnd(64, '0');
    const cg = createMemoryCgroup(`tapio-kubepods-${process.pid}/burstable/pod${podUid}/${containerId}`, 0);
    const sink = new SinkConsumer();
    const host = testHost();
    host.registerService(TOPOLOGY_SERVICE, {
      podByUid: (uid: string) => (uid === podUid ? { uid, name: 'payment-7d8f9', namespace: 'prod', labels: {}, containers: [], owners: [], services: [] } : undefined),
      podByContainerId: () => undefined,
    });
    const config = validConfig<EbpfReceiverConfig>(factory, { programs: ['process'], filters: { namespaces: ['prod'] } });
    const receiver = (await factory.create(testContext('ebpf/ns', 'receiver'), config, sink)) as EbpfReceiver;
    await receiver.start(host);
    try {
      const inPod = spawn('sh', ['-c', `echo $$ > ${cg.procsFile} && exec sleep 0.2`], { stdio: 'ignore' });
      const outside = spawn('sleep', ['0.1'], { stdio: 'ignore' });
      await Promise.all([exited(inPod), exited(outside)]);
      const e = await waitForEvent(sink, (ev) => ev.kernel?.event === 'process_exit' && ev.kernel.pid === inPod.pid, 'exit event of the process in the pod');
      assert.equal(e.resource['container.id'], containerId);
      assert.equal(e.resource['k8s.pod.uid'], podUid);
      assert.equal(e.entity?.kind, 'container');
      assert.equal(e.kernel?.cgroupPath, cg.path);
      assert.ok(!sink.events.some((ev) => ev.kernel?.pid === outside.pid), 'a process outside the namespace is filtered out');
    } finally {
      await receiver.shutdown();
      cg.remove();
    }
  });
});

describe('ebpf receiver: loader crash', function () {
  this.timeout(30_000);

  it('restarts a loader that died and delivers events again', async function () {
    const reason = whyNot();
    if (reason) { console.log(`      skipped: ${reason}`); this.skip(); }
    const sink = new SinkConsumer();
    const host = testHost();
    const config = validConfig<EbpfReceiverConfig>(factory, { programs: ['process'], filters: { comms: ['true'] } });
    const receiver = (await factory.create(testContext('ebpf/crash', 'receiver'), config, sink)) as EbpfReceiver;
    await receiver.start(host);
    try {
      const first = receiver.loaderPid!;
      process.kill(first, 'SIGKILL');
      const statuses = (host as unknown as { statuses: Map<string, { status: string }> }).statuses;
      await waitUntil(() => statuses.get('ebpf/crash')?.status === 'recoverable_error', 'status recoverable_error');
      await waitUntil(() => statuses.get('ebpf/crash')?.status === 'ok' && receiver.loaderPid !== undefined, 'restart', 10_000);
      assert.notEqual(receiver.loaderPid, first);
      const child = spawn('true', [], { stdio: 'ignore' });
      await exited(child);
      await waitForEvent(sink, (e) => e.kernel?.event === 'process_exit' && e.kernel.pid === child.pid, 'exit event after the restart');
    } finally {
      await receiver.shutdown();
    }
  });
});

describe('ebpf receiver: back-pressure and lost records', function () {
  this.timeout(60_000);

  it('counts every record it could not deliver as lost, in stats and self-telemetry', async function () {
    const reason = whyNot();
    if (reason) { console.log(`      skipped: ${reason}`); this.skip(); }
    const FAILURES = 20_000;
    // the shell waits for a line, then fails FAILURES open()s as fast as it can
    const gen = spawn('sh', ['-c', `read go; i=0; while [ $i -lt ${FAILURES} ]; do true < /nonexistent-tapio-lost; i=$((i+1)); done`], { stdio: ['pipe', 'ignore', 'ignore'] });
    let release!: () => void;
    const released = new Promise<void>((r) => { release = r; });
    let delivered = 0;
    const slowConsumer = { consume: async (batch: { events: UnifiedEvent[] }) => { await released; delivered += batch.events.filter((e) => e.kernel?.pid === gen.pid).length; } };
    const ctx = testContext('ebpf/lost', 'receiver');
    const drops: Record<string, number> = {};
    const realDropped = ctx.telemetry.dropped.bind(ctx.telemetry);
    ctx.telemetry.dropped = (n: number, why: string) => { drops[why] = (drops[why] ?? 0) + n; realDropped(n, why); };
    const config = validConfig<EbpfReceiverConfig>(factory, {
      programs: ['syscall_errors'], filters: { pids: [gen.pid] }, ring_buffer_size: '4KiB',
      rate_limits: { syscall_errors: 0 }, syscall_errors: { syscalls: ['open'], ignore_errnos: [] }, stats_interval: '100ms',
    });
    const receiver = new EbpfReceiver(ctx, config, slowConsumer);
    await receiver.start(testHost());
    try {
      gen.stdin!.end('go\n');
      assert.equal((await exited(gen)).code, 0);
    } finally {
      release(); // the pipeline takes batches again
      await receiver.shutdown(); // drains and reports the final counters
    }
    const t = receiver.totals();
    assert.ok(t.lost > 0, `a stalled pipeline with a one-page ring buffer loses records (emitted ${t.emitted}, lost ${t.lost})`);
    assert.equal(t.emitted + t.lost, FAILURES, 'every failed open was either recorded or counted as lost');
    assert.equal(delivered, t.emitted, 'every recorded one was delivered');
    assert.equal(drops.ebpf_ring_buffer_full, t.lost, 'losses are counted as dropped in self-telemetry');
  });
});

describe('ebpf receiver: failed syscalls', function () {
  this.timeout(30_000);

  it('reports a failed open with the path, errno and pid (filtered to one comm, nothing ignored)', async function () {
    const reason = whyNot();
    if (reason) { console.log(`      skipped: ${reason}`); this.skip(); }
    const sink = new SinkConsumer();
    const config = validConfig<EbpfReceiverConfig>(factory, {
      programs: ['syscall_errors'], filters: { comms: ['cat'] }, syscall_errors: { syscalls: ['open'], ignore_errnos: [] },
    });
    const receiver = (await factory.create(testContext('ebpf/sys', 'receiver'), config, sink)) as EbpfReceiver;
    await receiver.start(testHost());
    try {
      const missing = `/nonexistent-tapio-${process.pid}`;
      const child = spawn('cat', [missing], { stdio: 'ignore' });
      assert.equal((await exited(child)).code, 1);
      const e = await waitForEvent(sink, (ev) => ev.kernel?.event === 'syscall_error' && ev.kernel.path === missing, `failed open of ${missing}`);
      assert.equal(e.kernel?.syscall, 'open');
      assert.equal(e.kernel?.errnoName, 'ENOENT');
      assert.equal(e.kernel?.pid, child.pid);
      assert.ok(sink.events.every((ev) => ev.kernel?.comm === 'cat'), 'the comm filter kept only cat');
    } finally {
      await receiver.shutdown();
    }
  });
});

describe('ebpf receiver: failed memory allocation', function () {
  this.timeout(30_000);

  it('reports mmap/brk failing with ENOMEM under an address-space limit', async function () {
    const reason = whyNot();
    if (reason) { console.log(`      skipped: ${reason}`); this.skip(); }
    const sink = new SinkConsumer();
    const config = validConfig<EbpfReceiverConfig>(factory, { programs: ['syscall_errors'], filters: { comms: ['tail'] }, syscall_errors: { syscalls: ['mmap', 'brk'] } });
    const receiver = (await factory.create(testContext('ebpf/enomem', 'receiver'), config, sink)) as EbpfReceiver;
    await receiver.start(testHost());
    try {
      // tail buffers an endless line until malloc fails under a 30 MB RLIMIT_AS
      const child = spawn('sh', ['-c', 'ulimit -v 30000; exec tail /dev/zero'], { stdio: 'ignore' });
      assert.equal((await exited(child)).code, 1, 'tail gave up: memory exhausted');
      const e = await waitForEvent(sink, (ev) => ev.kernel?.event === 'syscall_error' && ev.kernel.pid === child.pid, `a failed mmap/brk of pid ${child.pid}`);
      assert.ok(['mmap', 'brk'].includes(e.kernel?.syscall as string), String(e.kernel?.syscall));
      assert.equal(e.kernel?.errnoName, 'ENOMEM');
      assert.equal(e.severity, 'error');
    } finally {
      await receiver.shutdown();
    }
  });
});

describe('ebpf receiver without privileges', function () {
  this.timeout(30_000);

  it('fails to start with a message naming the missing privilege and the fix', function () {
    const reason = whyNot();
    if (reason) { console.log(`      skipped: ${reason}`); this.skip(); }
    if (!existsSync('/usr/bin/setpriv') && !existsSync('/bin/setpriv')) { console.log('      skipped: setpriv (util-linux) is not installed'); this.skip(); }
    // start the receiver as nobody, with no capabilities, in a fresh node process
    const script = `
      const { testContext, testHost, validConfig, SinkConsumer } = require('@tapio/core/testing');
      const f = require(${JSON.stringify(path.resolve(__dirname, '../src/index.js'))}).default;
      const r = f.create(testContext('ebpf', 'receiver'), validConfig(f, {}), new SinkConsumer());
      r.start(testHost()).then(() => { console.log('STARTED'); return r.shutdown(); }, (e) => { console.log('ERROR ' + e.message); process.exitCode = 3; });`;
    const res = spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', '--inh-caps=-all', '--bounding-set=-all', process.execPath, '-e', script], {
      cwd: path.resolve(__dirname, '../../../..'), encoding: 'utf8', timeout: 20_000,
    });
    assert.equal(res.status, 3, `stdout: ${res.stdout} stderr: ${res.stderr}`);
    assert.match(res.stdout, /ERROR ebpf: insufficient privileges: loading eBPF programs needs root or CAP_BPF\+CAP_PERFMON \(running as uid 65534/);
    assert.match(res.stdout, /fix: run the collector as root, or grant the loader capabilities: setcap/);
  });
});

async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

describe('ebpf receiver without tracefs', function () {
  this.timeout(30_000);

  it('names tracefs and the fix when syscall_errors is asked for; runs the other programs by default', function () {
    const reason = whyNot();
    if (reason) { console.log(`      skipped: ${reason}`); this.skip(); }
    if (spawnSync('unshare', ['--version']).status !== 0) { console.log('      skipped: unshare (util-linux) is not installed'); this.skip(); }
    // a private mount namespace without tracefs, and no CAP_SYS_ADMIN to mount it back
    const script = `
      const { testContext, testHost, validConfig, SinkConsumer } = require('@tapio/core/testing');
      const f = require(${JSON.stringify(path.resolve(__dirname, '../src/index.js'))}).default;
      const attempt = async (overrides) => {
        const r = f.create(testContext('ebpf', 'receiver'), validConfig(f, overrides), new SinkConsumer());
        try { await r.start(testHost()); return { programs: r.programs }; } catch (e) { return { error: e.message }; } finally { await r.shutdown(); }
      };
      (async () => console.log(JSON.stringify([await attempt({ programs: ['syscall_errors'] }), await attempt({})])))();`;
    const res = spawnSync('unshare', ['-m', 'sh', '-c',
      'umount /sys/kernel/tracing 2>/dev/null; umount /sys/kernel/debug 2>/dev/null; exec setpriv --bounding-set=-sys_admin --inh-caps=-sys_admin "$0" -e "$1"', process.execPath, script], {
      cwd: path.resolve(__dirname, '../../../..'), encoding: 'utf8', timeout: 20_000,
    });
    const [strict, bestEffort] = JSON.parse(res.stdout.trim().split('\n').pop() ?? '[]') as { error?: string; programs?: string[] }[];
    assert.match(strict?.error ?? '', /tracefs is not mounted at \/sys\/kernel\/tracing and mounting it failed \(Operation not permitted\); fix: mount it as root: mount -t tracefs nodev \/sys\/kernel\/tracing/, res.stdout + res.stderr);
    assert.deepEqual([...(bestEffort?.programs ?? [])].sort(), ['oom', 'process', 'tcp'], res.stdout + res.stderr);
  });
});

describe('tapio ebpf check (CLI)', function () {
  this.timeout(30_000);

  it('says which programs load on this host and exits 0 when all do', function () {
    const reason = whyNot();
    if (reason) { console.log(`      skipped: ${reason}`); this.skip(); }
    const repo = path.resolve(__dirname, '../../../..');
    const res = spawnSync(process.execPath, [path.join(repo, 'core/dist/src/cli/bin.js'), 'ebpf', 'check', '--plugin', path.resolve(__dirname, '../..')], { cwd: repo, encoding: 'utf8', timeout: 20_000 });
    for (const p of ['oom', 'tcp', 'process']) assert.match(res.stdout, new RegExp(`program ${p} +loads and attaches`));
    if (/NOT loaded/.test(res.stdout)) assert.equal(res.status, 1, res.stdout);
    else { assert.equal(res.status, 0, res.stdout + res.stderr); assert.match(res.stdout, /ok: the ebpf receiver can run here/); }
  });
});
