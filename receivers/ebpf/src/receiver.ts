import { parseByteSize, parseDuration, TOPOLOGY_SERVICE, type ComponentContext, type TopologyService, type Consumer, type Host, type Receiver, type UnifiedEvent } from '@tapio/core';
import { cgroupInfo, underAny, type CgroupInfo } from './cgroup';
import { PROGRAMS, type EbpfReceiverConfig } from './config';
import { ABI_VERSION, decodeRecord, errnoNumber, type DecodeContext } from './decode';
import { findNativeDir, LoaderProcess, precheck, type LoaderMessage, type ProgramStats } from './loader';

type Counter = ReturnType<ComponentContext['meter']['createCounter']>;
type OtelAttributes = Record<string, string>;

const STAT_KEYS = ['emitted', 'lost', 'rate_limited', 'sampled_out'] as const;
type StatKey = (typeof STAT_KEYS)[number];
/** Why records the kernel side did not deliver are counted as dropped (see ctx.telemetry.dropped). */
const DROP_REASON: Partial<Record<StatKey, string>> = { lost: 'ebpf_ring_buffer_full', rate_limited: 'ebpf_rate_limited', sampled_out: 'ebpf_sampled_out' };

/** Builds the loader's command line from the config. */
export function loaderArgs(config: EbpfReceiverConfig): string[] {
  const programs = config.programs ?? [...PROGRAMS];
  const args = ['--programs', programs.join(',')];
  if (!config.programs) args.push('--best-effort');
  args.push('--ringbuf-bytes', String(parseByteSize(config.ring_buffer_size)));
  args.push('--stats-interval-ms', String(Math.max(50, Math.round(parseDuration(config.stats_interval)))));
  for (const pid of config.filters.pids) args.push('--pid', String(pid));
  for (const comm of config.filters.comms) args.push('--comm', comm);
  for (const [prog, n] of Object.entries(config.rate_limits)) args.push('--rate-limit', `${prog}=${n}`);
  for (const [prog, n] of Object.entries(config.sampling)) args.push('--sample', `${prog}=${n}`);
  if (config.syscall_errors.syscalls.length > 0) args.push('--syscalls', config.syscall_errors.syscalls.join(','));
  for (const e of config.syscall_errors.ignore_errnos) {
    const n = errnoNumber(e);
    if (n === undefined) throw new Error(`syscall_errors.ignore_errnos: unknown errno "${e}"`);
    args.push('--ignore-errno', String(n));
  }
  return args;
}

/**
 * Receives kernel and network events from the eBPF loader and sends them down the pipeline,
 * one batch per pipe read. While a batch is being consumed the pipe is not read: the loader
 * blocks, the ring buffers fill, and the kernel counts what it could not store (lost records),
 * so back-pressure never grows memory.
 */
export class EbpfReceiver implements Receiver {
  private loader?: LoaderProcess;
  private readonly cgroups = new Map<number, CgroupInfo>();
  private batch: UnifiedEvent[] = [];
  private inFlight: Promise<void> = Promise.resolve();
  private started = false;
  private stopped = false;
  private readonly decodeCtx: DecodeContext;
  /** Counters per program since this receiver started (across loader restarts). */
  readonly stats: Record<string, ProgramStats> = {};
  /** The running loader's own cumulative counters, as last reported (reset on restart). */
  private lastSeen: Record<string, ProgramStats> = {};
  /** Programs attached, once started. */
  programs: string[] = [];
  /** Why the kernel side is not running (optional: true), if it is not. */
  unavailable?: string;
  private readonly counters: Record<StatKey, Counter>;
  private readonly programAttrs = new Map<string, OtelAttributes>();
  /** Events the receiver-side filters removed since the last flush, by drop reason. */
  private readonly filteredOut = { cgroup_filter: 0, namespace_filter: 0 };
  private warnedNoTopology = false;
  private host?: Host;
  private restarts = 0;
  private restartTimer?: NodeJS.Timeout;

  constructor(private readonly ctx: ComponentContext, private readonly config: EbpfReceiverConfig, private readonly next: Consumer) {
    this.decodeCtx = {
      source: ctx.id, clockOffsetNs: 0, pageSize: 4096,
      cgroup: (id, hier) => this.cgroups.get(cgroupKey(id, hier)),
    };
    const m = ctx.meter;
    this.counters = {
      emitted: m.createCounter('tapio_ebpf_records', { description: 'Records the eBPF programs wrote to their ring buffers' }),
      lost: m.createCounter('tapio_ebpf_lost_records', { description: 'Records lost because a ring buffer was full' }),
      rate_limited: m.createCounter('tapio_ebpf_rate_limited_records', { description: 'Records suppressed by the in-kernel rate limit' }),
      sampled_out: m.createCounter('tapio_ebpf_sampled_out_records', { description: 'Records skipped by in-kernel sampling' }),
    };
  }

  async start(host: Host): Promise<void> {
    if (this.started || this.stopped) return;
    this.started = true;
    this.host = host;
    try {
      await this.launch();
    } catch (err) {
      const e = err as Error;
      if (!this.config.optional) throw new Error(`ebpf: ${e.message}`);
      this.unavailable = e.message;
      this.ctx.logger.warn({ reason: e.message }, 'ebpf: kernel events unavailable; running on without them (optional: true)');
      // The collector marks a component "ok" once start() resolves; report the degraded state after that.
      setImmediate(() => host.reportStatus(this.ctx.id, 'recoverable_error', new Error(`kernel events unavailable: ${e.message}`)));
    }
  }

  /** Starts the loader and waits until its programs are attached. */
  private async launch(): Promise<void> {
    const nativeDir = findNativeDir(this.config.native_dir);
    const problem = precheck(nativeDir);
    if (problem) throw new Error(problem);
    const loader = new LoaderProcess({
      nativeDir, args: loaderArgs(this.config),
      sink: { record: (p, b, o, l) => this.onRecord(b, o, l), message: (m) => this.onMessage(m), chunkDone: () => this.flush() },
      onWarn: (message) => this.ctx.logger.warn({ receiver: this.ctx.id }, `ebpf: ${message}`),
      onUnexpectedExit: (err) => this.onLoaderDied(loader, err),
    });
    this.loader = loader;
    this.lastSeen = {}; // a new loader counts from zero
    try {
      const ready = await loader.start();
      if (this.stopped) { await loader.stop(); return; } // shut down while (re)starting
      if (ready.abi !== ABI_VERSION) {
        throw new Error(`the eBPF loader speaks record layout v${ready.abi}, this receiver v${ABI_VERSION}: rebuild it with "make -C ebpf-programs"`);
      }
      this.decodeCtx.clockOffsetNs = Number(BigInt(ready.clock_offset_ns));
      this.decodeCtx.pageSize = ready.page_size || 4096;
      this.programs = ready.programs;
      this.ctx.logger.info({ programs: ready.programs, ringBufferBytes: ready.ringbuf_bytes }, 'ebpf: programs attached');
    } catch (err) {
      await loader.stop().catch(() => undefined);
      if (this.loader === loader) this.loader = undefined;
      throw err;
    }
  }

  /** The loader died while running: report it and start it again with backoff. */
  private onLoaderDied(loader: LoaderProcess, err: Error): void {
    if (this.stopped || this.loader !== loader) return;
    this.loader = undefined;
    this.scheduleRestart(err);
  }

  /** Restarts the loader after 1 s, doubling to 30 s while it keeps failing. */
  private scheduleRestart(err: Error): void {
    this.restarts++;
    const delay = Math.min(30_000, 1000 * 2 ** Math.min(5, this.restarts - 1));
    this.ctx.logger.error({ err: err.message, retryInMs: delay }, 'ebpf: the kernel event loader stopped; restarting it');
    this.host?.reportStatus(this.ctx.id, 'recoverable_error', err);
    this.restartTimer = setTimeout(() => {
      this.restartTimer = undefined;
      if (this.stopped) return;
      this.launch().then(
        () => { this.restarts = 0; this.host?.reportStatus(this.ctx.id, 'ok'); },
        (e: Error) => { if (!this.stopped) this.scheduleRestart(e); },
      );
    }, delay);
    this.restartTimer.unref();
  }

  private onRecord(b: Buffer, o: number, len: number): void {
    const e = decodeRecord(b, o, len, this.decodeCtx, Date.now() * 1e6);
    if (!e) { this.ctx.telemetry.dropped(1, 'ebpf_undecodable'); return; }
    const f = this.config.filters;
    if (f.cgroups.length > 0) {
      const p = (e.kernel?.cgroupPath ?? e.network?.cgroupPath) as string | undefined;
      if (p === undefined || !underAny(p, f.cgroups)) { this.filteredOut.cgroup_filter++; return; }
    }
    if (f.namespaces.length > 0 && !this.inNamespaces(e)) { this.filteredOut.namespace_filter++; return; }
    this.batch.push(e);
  }

  /** Whether the event's pod (by pod uid, else container id) is in one of filters.namespaces. */
  private inNamespaces(e: UnifiedEvent): boolean {
    const topology = this.host?.getService<TopologyService>(TOPOLOGY_SERVICE);
    if (!topology) {
      if (!this.warnedNoTopology) {
        this.warnedNoTopology = true;
        this.ctx.logger.warn('ebpf: filters.namespaces needs the Kubernetes topology (the kubernetes receiver); events are dropped until it is there');
      }
      return false;
    }
    const podUid = e.resource['k8s.pod.uid'];
    const containerId = e.resource['container.id'];
    const pod = typeof podUid === 'string' ? topology.podByUid(podUid) : typeof containerId === 'string' ? topology.podByContainerId(containerId) : undefined;
    return pod !== undefined && this.config.filters.namespaces.includes(pod.namespace);
  }

  private onMessage(m: LoaderMessage): void {
    if (m.t === 'cgroup') {
      const id = Number(m.id);
      // a vanished cgroup resolves to "": keep the id so the event still carries it
      this.cgroups.set(cgroupKey(id, m.hier), cgroupInfo(m.path));
      if (this.cgroups.size > 100_000) this.cgroups.clear(); // bound memory under cgroup churn; re-announced on reuse
    } else if (m.t === 'stats') {
      this.decodeCtx.clockOffsetNs = Number(BigInt(m.clock_offset_ns));
      for (const [prog, s] of Object.entries(m.programs)) this.account(prog, s);
    }
  }

  /** Turns the loader's cumulative counters into counter increments and drop counts. */
  private account(program: string, s: ProgramStats): void {
    const prev = this.lastSeen[program] ?? { emitted: 0, lost: 0, rate_limited: 0, sampled_out: 0 };
    const total = (this.stats[program] ??= { emitted: 0, lost: 0, rate_limited: 0, sampled_out: 0 });
    let attrs = this.programAttrs.get(program);
    if (!attrs) { attrs = { receiver: this.ctx.id, program }; this.programAttrs.set(program, attrs); }
    for (const k of STAT_KEYS) {
      const delta = s[k] - prev[k];
      if (delta <= 0) continue;
      total[k] += delta;
      this.counters[k].add(delta, attrs);
      const reason = DROP_REASON[k];
      if (reason) this.ctx.telemetry.dropped(delta, reason);
    }
    this.lastSeen[program] = { ...s };
  }

  /** End of a pipe read: send what it held as one batch and stop reading until it is taken. */
  private flush(): void {
    for (const reason of ['cgroup_filter', 'namespace_filter'] as const) {
      if (this.filteredOut[reason] > 0) { this.ctx.telemetry.dropped(this.filteredOut[reason], reason); this.filteredOut[reason] = 0; }
    }
    if (this.batch.length === 0) return;
    const events = this.batch;
    this.batch = [];
    this.loader?.pause();
    this.inFlight = this.next.consume({ events }).then(
      () => this.loader?.resume(),
      (err: Error) => {
        this.ctx.telemetry.dropped(events.length, 'consumer_refused');
        this.ctx.logger.warn({ err: err.message, events: events.length }, 'ebpf: pipeline refused a batch');
        this.loader?.resume();
      },
    );
  }

  /** The running loader's pid (tests, diagnostics). */
  get loaderPid(): number | undefined { return this.loader?.pid; }

  /** Totals over all programs (tests, bench). */
  totals(): ProgramStats {
    const t: ProgramStats = { emitted: 0, lost: 0, rate_limited: 0, sampled_out: 0 };
    for (const s of Object.values(this.stats)) for (const k of STAT_KEYS) t[k] += s[k];
    return t;
  }

  async shutdown(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    // the loader drains its ring buffers and reports final counts before it exits
    await this.loader?.stop();
    await this.inFlight;
    this.flush();
    await this.inFlight;
  }
}

function cgroupKey(id: number, hier: number): number {
  return hier * 2 ** 40 + id;
}
