import * as assert from 'node:assert/strict';
import { cgroupInfo, decodeRecord, FrameReader, ipString, loaderArgs, REC, RECORD_SIZES, underAny, type DecodeContext, type LoaderMessage } from '../src/index';
import { createDefaultConfig } from '../src/config';

// Builds records with the byte layout of ebpf-programs/include/tapio_records.h.
function header(type: number, pid: number, comm: string, cgroupId = 0, tsBootNs = 5_000_000_000): Buffer {
  const b = Buffer.alloc(RECORD_SIZES[type]);
  b.writeBigUInt64LE(BigInt(tsBootNs), 0);
  b.writeBigUInt64LE(BigInt(cgroupId), 8);
  b.writeUInt32LE(type, 16);
  b.writeUInt32LE(pid, 20);
  b.writeUInt32LE(pid, 24);
  b.writeUInt32LE(4, 28);
  b.write(comm, 32, 'utf8');
  return b;
}

const containerId = 'a'.repeat(60) + '1234';
const ctx: DecodeContext = {
  source: 'ebpf', clockOffsetNs: 1_700_000_000_000_000_000, pageSize: 4096,
  cgroup: (id) => (id === 77 ? cgroupInfo(`/kubepods/burstable/pod0b9f7e44-1c55-4c8e-9d3c-2f6d8d1c0a11/${containerId}`) : undefined),
};

describe('ebpf record decoding', () => {
  it('decodes an exit by signal into a kernel process_exit event with the signal', () => {
    const b = header(REC.EXIT, 4321, 'worker', 77);
    b.writeUInt32LE(1, 48);        // ppid
    b.writeUInt32LE(9, 52);        // wait status: killed by SIGKILL
    b.writeBigUInt64LE(2_500_000n, 56);
    const e = decodeRecord(b, 0, b.length, ctx, 0)!;
    assert.equal(e.kind, 'kernel');
    assert.equal(e.kernel?.event, 'process_exit');
    assert.equal(e.kernel?.signal, 9);
    assert.equal(e.kernel?.signalName, 'SIGKILL');
    assert.equal(e.kernel?.exitCode, 0);
    assert.equal(e.kernel?.durationMs, 2.5);
    assert.equal(e.severity, 'warn');
    assert.equal(e.resource['process.pid'], 4321);
    assert.equal(e.resource['container.id'], containerId);
    assert.equal(e.resource['k8s.pod.uid'], '0b9f7e44-1c55-4c8e-9d3c-2f6d8d1c0a11');
    assert.equal(e.time, 5_000_000_000 + ctx.clockOffsetNs, 'boot time + offset = wall clock');
  });

  it('decodes a normal exit status', () => {
    const b = header(REC.EXIT, 10, 'sh');
    b.writeUInt32LE(3 << 8, 52);
    const e = decodeRecord(b, 0, b.length, ctx, 0)!;
    assert.equal(e.kernel?.exitCode, 3);
    assert.equal(e.kernel?.signal, 0);
    assert.equal(e.entity?.kind, 'process');
  });

  it('decodes a refused IPv4 connection with the 4-tuple', () => {
    const b = header(REC.TCP, 99, 'curl');
    b.writeUInt32LE(1, 48);        // refused
    b.writeUInt16LE(2, 52);        // AF_INET
    b.writeUInt16LE(40000, 54);
    b.writeUInt16LE(5432, 56);
    b[58] = 2;                     // SYN_SENT
    b[59] = 1;
    Buffer.from([10, 0, 0, 1]).copy(b, 64);
    Buffer.from([10, 0, 0, 7]).copy(b, 80);
    const e = decodeRecord(b, 0, b.length, ctx, 0)!;
    assert.equal(e.kind, 'network');
    assert.deepEqual(
      { event: e.network?.event, dst: `${e.network?.dstAddr}:${e.network?.dstPort}`, src: `${e.network?.srcAddr}:${e.network?.srcPort}`, pid: e.network?.pid, state: e.network?.state },
      { event: 'connection_refused', dst: '10.0.0.7:5432', src: '10.0.0.1:40000', pid: 99, state: 'SYN_SENT' },
    );
    assert.equal(e.attributes['network.peer.port'], 5432);
  });

  it('formats IPv6 and IPv4-mapped addresses', () => {
    const v6 = Buffer.alloc(16);
    v6.writeUInt16BE(0x2001, 0); v6.writeUInt16BE(0xdb8, 2); v6.writeUInt16BE(1, 14);
    assert.equal(ipString(v6, 0, 10), '2001:db8::1');
    const mapped = Buffer.from([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 127, 0, 0, 1]);
    assert.equal(ipString(mapped, 0, 10), '::ffff:127.0.0.1');
  });

  it('decodes a failed mmap as ENOMEM and a failed connect with its destination', () => {
    const m = header(REC.SYSCALL, 5, 'java');
    m.writeBigInt64LE(-12n, 48);
    m.writeBigUInt64LE(1n << 30n, 56);
    m.writeUInt32LE(1, 64);
    const e = decodeRecord(m, 0, m.length, ctx, 0)!;
    assert.deepEqual([e.kernel?.event, e.kernel?.syscall, e.kernel?.errnoName, e.kernel?.lengthBytes, e.severity], ['syscall_error', 'mmap', 'ENOMEM', 2 ** 30, 'error']);
    const c = header(REC.SYSCALL, 5, 'java');
    c.writeBigInt64LE(-111n, 48);
    c.writeUInt32LE(3, 64);
    c.writeUInt16LE(2, 68);
    c.writeUInt16LE(6379, 70);
    Buffer.from([192, 168, 1, 2]).copy(c, 72);
    const ce = decodeRecord(c, 0, c.length, ctx, 0)!;
    assert.deepEqual([ce.kernel?.errnoName, ce.kernel?.dstAddr, ce.kernel?.dstPort], ['ECONNREFUSED', '192.168.1.2', 6379]);
  });

  it('rejects short or unknown records instead of misreading them', () => {
    const b = header(REC.OOM, 1, 'x');
    assert.equal(decodeRecord(b, 0, 60, ctx, 0), undefined);
    b.writeUInt32LE(42, 16);
    assert.equal(decodeRecord(b, 0, b.length, ctx, 0), undefined);
  });
});

describe('ebpf cgroup paths', () => {
  it('finds container ids of docker, containerd and cri-o, not of conmon', () => {
    const id = 'f'.repeat(64);
    assert.equal(cgroupInfo(`/docker/${id}`).containerId, id);
    assert.equal(cgroupInfo(`/system.slice/docker-${id}.scope`).containerId, id);
    assert.equal(cgroupInfo(`/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod0b9f7e44_1c55_4c8e_9d3c_2f6d8d1c0a11.slice/cri-containerd-${id}.scope`).containerId, id);
    assert.equal(cgroupInfo(`/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod0b9f7e44_1c55_4c8e_9d3c_2f6d8d1c0a11.slice/cri-containerd-${id}.scope`).podUid, '0b9f7e44-1c55-4c8e-9d3c-2f6d8d1c0a11');
    assert.equal(cgroupInfo(`/machine.slice/crio-conmon-${id}.scope`).containerId, undefined);
    assert.equal(cgroupInfo('/user.slice/user-1000.slice/session-2.scope').containerId, undefined);
  });

  it('matches cgroup filters by path prefix at path boundaries', () => {
    assert.ok(underAny('/kubepods/burstable/pod1', ['/kubepods']));
    assert.ok(!underAny('/kubepods-other', ['/kubepods']));
    assert.ok(underAny('/anything', ['/']));
  });
});

describe('ebpf loader frames and arguments', () => {
  it('reassembles frames split across pipe reads', () => {
    const json = Buffer.from(JSON.stringify({ t: 'warn', message: 'hello' }));
    const rec = Buffer.from([1, 2, 3, 4, 5, 6, 7, 8]);
    const f1 = Buffer.alloc(8); f1.writeUInt32LE(4 + json.length, 0); f1.writeUInt32LE(2, 4);
    const f2 = Buffer.alloc(12); f2.writeUInt32LE(8 + rec.length, 0); f2.writeUInt32LE(1, 4); f2.writeUInt32LE(3, 8);
    const stream = Buffer.concat([f1, json, f2, rec]);
    const records: [number, string][] = [];
    const messages: LoaderMessage[] = [];
    const reader = new FrameReader({ record: (p, b, o, l) => records.push([p, b.subarray(o, o + l).toString('hex')]), message: (m) => messages.push(m), chunkDone: () => undefined });
    for (let i = 0; i < stream.length; i += 5) reader.push(stream.subarray(i, Math.min(stream.length, i + 5)));
    assert.deepEqual(messages, [{ t: 'warn', message: 'hello' }]);
    assert.deepEqual(records, [[3, rec.toString('hex')]]);
  });

  it('turns the config into loader arguments (filters, limits, errno names)', () => {
    const cfg = createDefaultConfig();
    cfg.programs = ['tcp', 'oom'];
    cfg.filters.pids = [42];
    cfg.filters.comms = ['nginx'];
    cfg.sampling = { process: 10 };
    const args = loaderArgs(cfg);
    const joined = args.join(' ');
    assert.match(joined, /--programs tcp,oom/);
    assert.ok(!args.includes('--best-effort'), 'explicit programs must all load');
    assert.match(joined, /--pid 42/);
    assert.match(joined, /--comm nginx/);
    assert.match(joined, /--sample process=10/);
    assert.match(joined, /--rate-limit syscall_errors=100/);
    assert.match(joined, /--ignore-errno 2 /, 'ENOENT is ignored by default');
    assert.match(joined, /--ringbuf-bytes 1048576/);
    assert.ok(loaderArgs(createDefaultConfig()).includes('--best-effort'), 'default: every program that loads');
    cfg.syscall_errors.syscalls = [];
    assert.ok(!loaderArgs(cfg).includes('--syscalls'), 'no syscalls: none traced');
    cfg.syscall_errors.ignore_errnos = ['ENOTANERRNO'];
    assert.throws(() => loaderArgs(cfg), /unknown errno "ENOTANERRNO"/);
  });
});
