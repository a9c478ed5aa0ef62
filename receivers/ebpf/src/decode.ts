import { constants, hostname } from 'node:os';
import { newEventId, type Attributes, type EntityRef, type Severity, type UnifiedEvent } from '@tapio/core';
import type { CgroupInfo } from './cgroup';

/*
 * Decoding of the fixed-layout records in ebpf-programs/include/tapio_records.h (offsets are
 * repeated here; keep them in step with that file and TAPIO_ABI_VERSION).
 */
export const ABI_VERSION = 1;
export const REC = { OOM: 1, EXEC: 2, EXIT: 3, TCP: 4, SYSCALL: 5 } as const;
const HDR = { ts: 0, cgroupId: 8, type: 16, pid: 20, tid: 24, hier: 28, comm: 32, size: 48 } as const;
const SIZES: Record<number, number> = { 1: 128, 2: 312, 3: 72, 4: 96, 5: 216 };
const TCP_KIND: Record<number, string> = { 1: 'connection_refused', 2: 'connection_reset', 3: 'retransmit' };
const TCP_STATES = ['', 'ESTABLISHED', 'SYN_SENT', 'SYN_RECV', 'FIN_WAIT1', 'FIN_WAIT2', 'TIME_WAIT', 'CLOSE', 'CLOSE_WAIT', 'LAST_ACK', 'LISTEN', 'CLOSING', 'NEW_SYN_RECV', 'BOUND_INACTIVE'];
const SYSCALL_NAMES = ['', 'mmap', 'brk', 'connect', 'open'];
const OOM_CONSTRAINTS = ['none', 'cpuset', 'memory_policy', 'memcg'];
const AF_INET = 2;
const AF_INET6 = 10;
const ENOMEM = 12;

const signalNames: string[] = [];
for (const [name, n] of Object.entries(constants.signals)) signalNames[n] ??= name;
const errnoNames: string[] = [];
for (const [name, n] of Object.entries(constants.errno)) errnoNames[n] ??= name;

export function errnoNumber(name: string | number): number | undefined {
  if (typeof name === 'number') return name;
  return (constants.errno as Record<string, number>)[name];
}
export const signalName = (n: number): string | undefined => signalNames[n];

/** The loader's view of a cgroup: its path inside its hierarchy (empty when it vanished). */
export type CgroupLookup = (id: number, hier: number) => CgroupInfo | undefined;

export interface DecodeContext {
  source: string;
  /** Wall clock minus boot clock, ns (from the loader). */
  clockOffsetNs: number;
  pageSize: number;
  cgroup: CgroupLookup;
}

const host = hostname();

function u64(b: Buffer, o: number): number {
  return b.readUInt32LE(o) + b.readUInt32LE(o + 4) * 4294967296;
}

/** A signed 64-bit field whose value fits a double (errnos, badness): no BigInt allocation. */
function s64(b: Buffer, o: number): number {
  return b.readInt32LE(o + 4) * 4294967296 + b.readUInt32LE(o);
}

function cstr(b: Buffer, o: number, max: number): string {
  let end = o;
  const limit = o + max;
  while (end < limit && b[end] !== 0) end++;
  return b.toString('utf8', o, end);
}

export function ipString(b: Buffer, o: number, family: number): string {
  if (family === AF_INET) return `${b[o]}.${b[o + 1]}.${b[o + 2]}.${b[o + 3]}`;
  if (family !== AF_INET6) return '';
  // IPv4-mapped (::ffff:a.b.c.d): dual-stack sockets talking IPv4
  let mapped = b[o + 10] === 0xff && b[o + 11] === 0xff;
  for (let i = 0; i < 10 && mapped; i++) mapped = b[o + i] === 0;
  if (mapped) return `::ffff:${b[o + 12]}.${b[o + 13]}.${b[o + 14]}.${b[o + 15]}`;
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(b.readUInt16BE(o + i));
  // compress the longest run of zero groups (RFC 5952)
  let best = -1, bestLen = 1;
  for (let i = 0; i < 8; i++) {
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) { best = i; bestLen = j - i; }
    if (j > i) i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (best < 0) return hex.join(':');
  return `${hex.slice(0, best).join(':')}::${hex.slice(best + bestLen).join(':')}`;
}

interface Header {
  time: number;
  pid: number;
  tid: number;
  comm: string;
  cgroupId: number;
  cgroup?: CgroupInfo;
}

function header(b: Buffer, o: number, ctx: DecodeContext): Header {
  const cgroupId = u64(b, o + HDR.cgroupId);
  return {
    time: u64(b, o + HDR.ts) + ctx.clockOffsetNs,
    pid: b.readUInt32LE(o + HDR.pid),
    tid: b.readUInt32LE(o + HDR.tid),
    comm: cstr(b, o + HDR.comm, 16),
    cgroupId,
    cgroup: cgroupId ? ctx.cgroup(cgroupId, b.readUInt32LE(o + HDR.hier)) : undefined,
  };
}

function resourceOf(h: Header): Attributes {
  const r: Attributes = { 'host.name': host };
  if (h.pid) {
    r['process.pid'] = h.pid;
    r['process.executable.name'] = h.comm;
  }
  if (h.cgroup?.containerId) r['container.id'] = h.cgroup.containerId;
  if (h.cgroup?.podUid) r['k8s.pod.uid'] = h.cgroup.podUid;
  return r;
}

function entityOf(h: Header): EntityRef | undefined {
  if (h.cgroup?.containerId) return { kind: 'container', name: h.cgroup.containerId.slice(0, 12), uid: h.cgroup.containerId };
  if (h.pid) return { kind: 'process', name: h.comm, uid: String(h.pid) };
  return undefined;
}

function event(ctx: DecodeContext, h: Header, kind: 'kernel' | 'network', severity: Severity, observed: number): UnifiedEvent {
  return {
    id: newEventId(), time: h.time, observedTime: observed, kind, source: ctx.source, severity,
    resource: resourceOf(h), attributes: {}, entity: entityOf(h),
  };
}

function kernelBase(h: Header, name: string): NonNullable<UnifiedEvent['kernel']> {
  return { event: name, pid: h.pid, tid: h.tid, comm: h.comm, cgroupId: h.cgroupId, cgroupPath: h.cgroup?.path, containerId: h.cgroup?.containerId };
}

/** Decodes one record (at `o`, `len` bytes) into an event; undefined for unknown or short records. */
export function decodeRecord(b: Buffer, o: number, len: number, ctx: DecodeContext, observed: number): UnifiedEvent | undefined {
  if (len < HDR.size) return undefined;
  const type = b.readUInt32LE(o + HDR.type);
  if (len < (SIZES[type] ?? Infinity)) return undefined;
  const h = header(b, o, ctx);
  switch (type) {
    case REC.OOM: return decodeOom(b, o, h, ctx, observed);
    case REC.EXEC: return decodeExec(b, o, h, ctx, observed);
    case REC.EXIT: return decodeExit(b, o, h, ctx, observed);
    case REC.TCP: return decodeTcp(b, o, h, ctx, observed);
    case REC.SYSCALL: return decodeSyscall(b, o, h, ctx, observed);
    default: return undefined;
  }
}

function decodeOom(b: Buffer, o: number, h: Header, ctx: DecodeContext, observed: number): UnifiedEvent {
  const e = event(ctx, h, 'kernel', 'error', observed);
  const page = ctx.pageSize;
  const oomCgroupId = u64(b, o + 88);
  const limitPages = u64(b, o + 48);
  const k = kernelBase(h, 'oom_kill');
  // a memcg limit of "max" is PAGE_COUNTER_MAX (~2^63 / page): report it as no limit
  k.memoryLimit = limitPages && limitPages < 2 ** 50 ? limitPages * page : undefined;
  k.memoryUsage = u64(b, o + 56) * page || undefined;
  k.totalPages = u64(b, o + 64) || undefined;
  k.badness = s64(b, o + 72) || undefined;
  k.victimTotalVmBytes = u64(b, o + 80) * page;
  k.oomCgroupId = oomCgroupId || undefined;
  k.oomCgroupPath = oomCgroupId ? ctx.cgroup(oomCgroupId, b.readUInt32LE(o + HDR.hier))?.path : undefined;
  k.constraint = OOM_CONSTRAINTS[b.readUInt32LE(o + 100)];
  k.killerPid = b.readUInt32LE(o + 96);
  k.killerComm = cstr(b, o + 104, 16);
  e.kernel = k;
  e.attributes['tapio.kernel.event'] = 'oom_kill';
  return e;
}

function decodeExec(b: Buffer, o: number, h: Header, ctx: DecodeContext, observed: number): UnifiedEvent {
  const e = event(ctx, h, 'kernel', 'info', observed);
  const k = kernelBase(h, 'process_exec');
  k.ppid = b.readUInt32LE(o + 48);
  k.uid = b.readUInt32LE(o + 52);
  k.filename = cstr(b, o + 56, 128);
  // argv, NUL-separated; the program zeroes the area first, so trailing NULs are padding
  let end = o + 312;
  while (end > o + 184 && b[end - 1] === 0) end--;
  k.args = end > o + 184 ? b.toString('utf8', o + 184, end).split('\0') : [];
  e.kernel = k;
  e.resource['process.executable.path'] = k.filename as string;
  e.attributes['tapio.kernel.event'] = 'process_exec';
  return e;
}

function decodeExit(b: Buffer, o: number, h: Header, ctx: DecodeContext, observed: number): UnifiedEvent {
  const status = b.readUInt32LE(o + 52);
  const signal = status & 0x7f;
  const exitCode = (status >> 8) & 0xff;
  const e = event(ctx, h, 'kernel', signal !== 0 || exitCode !== 0 ? 'warn' : 'info', observed);
  const k = kernelBase(h, 'process_exit');
  k.ppid = b.readUInt32LE(o + 48);
  k.exitCode = exitCode;
  k.signal = signal;
  k.signalName = signal ? signalNames[signal] : undefined;
  k.coreDumped = (status & 0x80) !== 0;
  k.durationMs = u64(b, o + 56) / 1e6;
  k.uid = b.readUInt32LE(o + 64);
  e.kernel = k;
  e.attributes['tapio.kernel.event'] = 'process_exit';
  e.attributes['process.exit.code'] = signal ? 128 + signal : exitCode;
  return e;
}

function decodeTcp(b: Buffer, o: number, h: Header, ctx: DecodeContext, observed: number): UnifiedEvent {
  const kind = TCP_KIND[b.readUInt32LE(o + 48)] ?? 'tcp_unknown';
  const family = b.readUInt16LE(o + 52);
  const e = event(ctx, h, 'network', kind === 'retransmit' ? 'info' : 'warn', observed);
  const srcAddr = ipString(b, o + 64, family);
  const dstAddr = ipString(b, o + 80, family);
  const srcPort = b.readUInt16LE(o + 54);
  const dstPort = b.readUInt16LE(o + 56);
  e.network = {
    event: kind, srcAddr, srcPort, dstAddr, dstPort,
    pid: h.pid || undefined, tid: h.tid || undefined, comm: h.pid ? h.comm : undefined,
    family: family === AF_INET6 ? 'ipv6' : 'ipv4', state: TCP_STATES[b[o + 58]] ?? String(b[o + 58]),
    ownerKnown: b[o + 59] === 1, cgroupId: h.cgroupId || undefined, cgroupPath: h.cgroup?.path, containerId: h.cgroup?.containerId,
  };
  const a = e.attributes;
  a['tapio.network.event'] = kind;
  a['network.transport'] = 'tcp';
  a['network.type'] = family === AF_INET6 ? 'ipv6' : 'ipv4';
  a['network.local.address'] = srcAddr;
  a['network.local.port'] = srcPort;
  a['network.peer.address'] = dstAddr;
  a['network.peer.port'] = dstPort;
  return e;
}

function decodeSyscall(b: Buffer, o: number, h: Header, ctx: DecodeContext, observed: number): UnifiedEvent {
  const ret = s64(b, o + 48);
  const syscall = SYSCALL_NAMES[b.readUInt32LE(o + 64)] ?? 'unknown';
  // brk reports failure by not moving the break; the kernel's reason is ENOMEM
  const errno = syscall === 'brk' ? ENOMEM : -ret;
  const e = event(ctx, h, 'kernel', errno === ENOMEM ? 'error' : 'warn', observed);
  const k = kernelBase(h, 'syscall_error');
  k.syscall = syscall;
  k.errno = errno;
  k.errnoName = errnoNames[errno];
  const arg = u64(b, o + 56);
  if (syscall === 'mmap') k.lengthBytes = arg;
  if (syscall === 'brk') k.requestedBreak = arg;
  if (syscall === 'open') {
    k.path = cstr(b, o + 88, 128);
    k.flags = arg;
  }
  if (syscall === 'connect') {
    const family = b.readUInt16LE(o + 68);
    if (family === AF_INET || family === AF_INET6) {
      k.dstAddr = ipString(b, o + 72, family);
      k.dstPort = b.readUInt16LE(o + 70);
    }
  }
  e.kernel = k;
  e.attributes['tapio.kernel.event'] = 'syscall_error';
  return e;
}

/** Record types, for tests and the bench. */
export const RECORD_SIZES = SIZES;
