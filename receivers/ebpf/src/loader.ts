import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants as fsConstants, existsSync } from 'node:fs';
import * as path from 'node:path';

/*
 * The Node side of tapio-ebpf-loader (ebpf-programs/loader): spawns it, splits its stdout
 * into frames (u32 length | u32 type | body), hands records and JSON messages on, and turns
 * its failures into errors that say what is missing and how to fix it.
 */

export const FRAME_RECORD = 1;
export const FRAME_JSON = 2;
export const LOADER_BINARY = 'tapio-ebpf-loader';

export interface ReadyMessage { t: 'ready'; abi: number; programs: string[]; clock_offset_ns: string; ringbuf_bytes: number; page_size: number }
export interface ProgramStats { emitted: number; lost: number; rate_limited: number; sampled_out: number }
export interface StatsMessage { t: 'stats'; clock_offset_ns: string; programs: Record<string, ProgramStats> }
export type LoaderMessage =
  | ReadyMessage
  | StatsMessage
  | { t: 'cgroup'; id: string; hier: number; path: string }
  | { t: 'warn'; message: string }
  | { t: 'error'; message?: string; missing?: string; fix?: string };

export interface FrameSink {
  /** A record of `len` bytes at `offset` in `buf` (valid only during the call). */
  record(program: number, buf: Buffer, offset: number, len: number): void;
  message(msg: LoaderMessage): void;
  /** Called after each chunk's frames were delivered. */
  chunkDone(): void;
}

/** Splits a byte stream into frames; copies only a frame split across chunks. */
export class FrameReader {
  private pending: Buffer | undefined;

  constructor(private readonly sink: FrameSink) {}

  push(chunk: Buffer): void {
    let buf = chunk;
    if (this.pending) { buf = Buffer.concat([this.pending, chunk]); this.pending = undefined; }
    let o = 0;
    while (buf.length - o >= 8) {
      const len = buf.readUInt32LE(o);
      if (len < 4 || len > 1 << 24) throw new Error(`corrupt frame from the eBPF loader (length ${len})`);
      if (buf.length - o - 4 < len) break;
      const type = buf.readUInt32LE(o + 4);
      if (type === FRAME_RECORD && len >= 8) this.sink.record(buf.readUInt32LE(o + 8), buf, o + 12, len - 8);
      else if (type === FRAME_JSON) this.sink.message(JSON.parse(buf.toString('utf8', o + 8, o + 4 + len)) as LoaderMessage);
      o += 4 + len;
    }
    if (o < buf.length) this.pending = buf.subarray(o);
    this.sink.chunkDone();
  }
}

/** Where the loader and objects live: config, else TAPIO_EBPF_NATIVE_DIR, else the package's native/, else the repo build. */
export function findNativeDir(configured?: string): string {
  if (configured) return configured;
  if (process.env.TAPIO_EBPF_NATIVE_DIR) return process.env.TAPIO_EBPF_NATIVE_DIR;
  const packaged = path.resolve(__dirname, '../../native');
  const repoBuild = path.resolve(__dirname, '../../../../ebpf-programs/build');
  if (!existsSync(path.join(packaged, LOADER_BINARY)) && existsSync(path.join(repoBuild, LOADER_BINARY))) return repoBuild;
  return packaged;
}

/** Why the receiver cannot run here before even trying, or undefined. */
export function precheck(nativeDir: string): string | undefined {
  if (process.platform !== 'linux') {
    return `the ebpf receiver needs Linux (this is ${process.platform}): remove it from the pipeline or set optional: true`;
  }
  const bin = path.join(nativeDir, LOADER_BINARY);
  try {
    accessSync(bin, fsConstants.X_OK);
  } catch {
    return `the eBPF loader is not built or not executable: ${bin} is missing; build it with "make -C ebpf-programs" ` +
      '(needs clang, llvm, libbpf-dev, bpftool, libelf-dev, zlib1g-dev, pkg-config: see .ci/setup.d/ebpf.sh) or set native_dir';
  }
  if (!existsSync('/sys/kernel/btf/vmlinux')) {
    return 'kernel BTF missing: /sys/kernel/btf/vmlinux does not exist; CO-RE programs need a kernel built with ' +
      'CONFIG_DEBUG_INFO_BTF=y (distribution kernels >= 5.8 have it): upgrade the kernel or set optional: true';
  }
  return undefined;
}

export interface LoaderOptions {
  nativeDir: string;
  args: string[];
  sink: FrameSink;
  onWarn(message: string): void;
  /** The loader exited while running (not during stop()). */
  onUnexpectedExit(err: Error): void;
}

/** A running tapio-ebpf-loader. */
export class LoaderProcess {
  private child?: ChildProcess;
  private stderrTail: string[] = [];
  private stopping = false;
  private exited?: Promise<void>;
  private error?: string;

  constructor(private readonly opts: LoaderOptions) {}

  get pid(): number | undefined { return this.child?.pid; }

  /** Resolves with the ready message once every program is attached; rejects with a clear error. */
  start(): Promise<ReadyMessage> {
    const bin = path.join(this.opts.nativeDir, LOADER_BINARY);
    const child = spawn(bin, ['--dir', this.opts.nativeDir, ...this.opts.args], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (s: string) => {
      for (const line of s.split('\n')) if (line.trim()) this.stderrTail.push(line.trim());
      if (this.stderrTail.length > 20) this.stderrTail.splice(0, this.stderrTail.length - 20);
    });
    return new Promise<ReadyMessage>((resolve, reject) => {
      let ready = false;
      const reader = new FrameReader({
        record: (p, b, o, l) => this.opts.sink.record(p, b, o, l),
        chunkDone: () => this.opts.sink.chunkDone(),
        message: (m) => {
          if (m.t === 'ready') { ready = true; resolve(m); }
          else if (m.t === 'error') this.error = m.missing ? `${m.missing}; fix: ${m.fix}` : m.message;
          else if (m.t === 'warn') this.opts.onWarn(m.message);
          this.opts.sink.message(m);
        },
      });
      child.stdout!.on('data', (chunk: Buffer) => {
        try { reader.push(chunk); } catch (err) { this.opts.onUnexpectedExit(err as Error); child.kill('SIGTERM'); }
      });
      child.on('error', (err) => { if (!ready) reject(new Error(`cannot run the eBPF loader ${bin}: ${err.message}`)); });
      this.exited = new Promise((done) => child.on('close', (code, signal) => {
        const why = this.error ?? this.stderrTail.slice(-5).join(' | ') ?? '';
        const err = new Error(`eBPF loader exited (${signal ?? `code ${code}`})${why ? `: ${why}` : ''}`);
        if (!ready) reject(this.error ? new Error(this.error) : err);
        else if (!this.stopping) this.opts.onUnexpectedExit(err);
        done();
      }));
    });
  }

  pause(): void { this.child?.stdout?.pause(); }
  resume(): void { this.child?.stdout?.resume(); }

  /** SIGTERM, let it drain and report final stats; SIGKILL after `graceMs`. */
  async stop(graceMs = 3000): Promise<void> {
    if (!this.child || this.stopping) return this.exited;
    this.stopping = true;
    this.child.stdout?.resume();
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child?.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
  }
}
