import { randomBytes } from 'node:crypto';
import { watch, type FSWatcher, type Stats } from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { createGunzip } from 'node:zlib';
import fg from 'fast-glob';
import {
  isPermanent, isStorageExtension, parseByteSize, parseDuration, positionId,
  type AttributeValue, type ComponentContext, type Consumer, type Host, type Receiver, type UnifiedEvent,
} from '@tapio/core';
import { Checkpoints } from './checkpoints';
import type { FilelogConfig } from './config';
import { codecFor } from './encoding';
import { DROP, HOLD, OperatorChain, type OperatorEnv } from './operators';
import { FileReader, type EntrySink, type ReaderSettings } from './reader';
import { FilelogTelemetry, type FilelogStats } from './stats';

/** A file not seen for this many polls is forgotten (with its checkpoint). */
const RETAIN_POLLS = 3;
/** Watch events (a busy directory sends one per write) trigger a poll at most this often. */
const MIN_POLL_GAP_MS = 50;
const MAX_WATCHED_DIRS = 256;
const CHUNK_SIZE = 256 * 1024;

interface Found {
  path: string;
  st: Stats;
  handle?: fsp.FileHandle;
  fp?: Buffer;
  reader?: FileReader;
  /** Same inode as this reader, but the content was truncated (copytruncate or in-place truncate). */
  truncatedOf?: FileReader;
}

function errCode(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null ? (err as NodeJS.ErrnoException).code : undefined;
}

function startsWith(a: Buffer, prefix: Buffer): boolean {
  return prefix.length > 0 && prefix.length <= a.length && a.compare(prefix, 0, prefix.length, 0, prefix.length) === 0;
}

/**
 * The filelog receiver: finds files by glob (polling, sped up by fs.watch), identifies each by
 * its fingerprint (first bytes) and inode, follows rotation by rename and by copytruncate, reads
 * lines from byte offsets, runs the operator chain and sends `log` events. After the pipeline
 * accepts a batch, the file's offset is checkpointed in the storage extension.
 */
export class FilelogReceiver implements Receiver, EntrySink, OperatorEnv {
  private readonly readers = new Map<string, FileReader>();
  private readonly byInode = new Map<string, FileReader>();
  private readonly pathSeen = new Map<string, number>();
  private readonly chain: OperatorChain;
  private readonly settings: ReaderSettings;
  private readonly pollMs: number;
  private readonly forceFlushMs: number;
  private readonly fpSize: number;
  private readonly gzip: boolean;
  private readonly t: FilelogTelemetry;
  private checkpoints: Checkpoints | undefined;
  private batch: UnifiedEvent[] = [];
  private batchReader: FileReader | undefined;
  private gen = 0;
  private firstPoll = true;
  private stopping = false;
  private started = false;
  private stoppedPromise: Promise<void> | undefined;
  private loopDone: Promise<void> | undefined;
  private wakeUp: (() => void) | undefined;
  private sleepTimer: NodeJS.Timeout | undefined;
  private lastPollStart = 0;
  private readonly watchers = new Map<string, FSWatcher>();

  constructor(private readonly ctx: ComponentContext, private readonly cfg: FilelogConfig, private readonly next: Consumer) {
    this.chain = new OperatorChain(cfg.operators ?? [], this);
    const maxLogSize = parseByteSize(cfg.max_log_size);
    this.settings = {
      codec: codecFor(cfg.encoding),
      maxLogSize,
      behavior: cfg.max_log_size_behavior,
      lineStart: cfg.multiline?.line_start_pattern ? new RegExp(cfg.multiline.line_start_pattern.replace(/\(\?P</g, '(?<')) : undefined,
      lineEnd: cfg.multiline?.line_end_pattern ? new RegExp(cfg.multiline.line_end_pattern.replace(/\(\?P</g, '(?<')) : undefined,
      chunkSize: CHUNK_SIZE,
    };
    if (this.settings.lineStart && this.settings.lineEnd) throw new Error('multiline: give line_start_pattern or line_end_pattern, not both');
    this.pollMs = parseDuration(cfg.poll_interval);
    this.forceFlushMs = parseDuration(cfg.force_flush_period);
    this.fpSize = Math.max(16, parseByteSize(cfg.fingerprint_size));
    this.gzip = cfg.compression === 'gzip';
    this.t = new FilelogTelemetry(ctx, () => this.openFiles());
  }

  get stats(): FilelogStats { return this.t.stats; }

  openFiles(): number {
    let n = 0;
    for (const r of this.readers.values()) if (r.handle) n++;
    return n;
  }

  async start(host: Host): Promise<void> {
    if (this.started || this.stopping) return;
    this.started = true;
    if (this.cfg.storage) {
      const ext = host.getExtension<unknown>(this.cfg.storage);
      if (!isStorageExtension(ext)) throw new Error(`filelog: storage "${this.cfg.storage}" is not a configured storage extension`);
      this.checkpoints = new Checkpoints(await ext.getClient('receiver', this.ctx.id), (m) => this.t.warnOnce('storage', '', m));
      for (const r of await this.checkpoints.load(this.settings)) this.readers.set(r.fileId, r);
      // A checkpoint means "we have been here before": start_at applies to new files only.
      if (this.readers.size > 0) this.firstPoll = false;
    }
    if (this.cfg.include.length === 0) this.ctx.logger.warn('filelog: include is empty; no files will be read');
    this.loopDone = this.loop();
  }

  shutdown(): Promise<void> {
    this.stoppedPromise ??= this.stop();
    return this.stoppedPromise;
  }

  private async stop(): Promise<void> {
    this.stopping = true;
    this.wakeUp?.();
    for (const w of this.watchers.values()) w.close();
    this.watchers.clear();
    await this.loopDone;
    // Entries already read go out before we stop; their offsets are then checkpointed.
    await this.flush();
    for (const r of this.readers.values()) await r.close();
    await this.checkpoints?.close().catch(() => undefined);
  }

  // ---------------------------------------------------------------- polling

  private async loop(): Promise<void> {
    while (!this.stopping) {
      this.lastPollStart = Date.now();
      try {
        await this.pollOnce();
      } catch (err) {
        this.ctx.logger.error({ err: (err as Error).message }, 'filelog: poll failed; trying again at the next poll');
      }
      if (this.stopping) break;
      const wait = Math.max(Math.min(MIN_POLL_GAP_MS, this.pollMs), this.pollMs - (Date.now() - this.lastPollStart));
      await new Promise<void>((resolve) => {
        this.wakeUp = resolve;
        this.sleepTimer = setTimeout(resolve, wait);
      });
      clearTimeout(this.sleepTimer);
      this.wakeUp = undefined;
    }
  }

  /** An fs.watch event: poll soon rather than at the next interval. */
  private readonly onWatch = (): void => {
    const wake = this.wakeUp;
    if (!wake) return;
    const since = Date.now() - this.lastPollStart;
    if (since >= Math.min(MIN_POLL_GAP_MS, this.pollMs)) wake();
  };

  private watchDir(dir: string): void {
    if (this.watchers.has(dir) || this.watchers.size >= MAX_WATCHED_DIRS || this.stopping) return;
    try {
      const w = watch(dir, { persistent: false }, this.onWatch);
      w.on('error', () => { w.close(); this.watchers.delete(dir); });
      this.watchers.set(dir, w);
    } catch {
      // Missing or unwatchable directory: polling still finds everything.
    }
  }

  /** One poll: find files, match them to known files, read what is new, close what is gone. */
  async pollOnce(): Promise<void> {
    const gen = ++this.gen;
    let paths: string[] = [];
    if (this.cfg.include.length) {
      try {
        paths = await fg(this.cfg.include, { ignore: this.cfg.exclude, absolute: true, onlyFiles: false, dot: true, suppressErrors: true, followSymbolicLinks: true, unique: true });
      } catch (err) {
        this.t.warnOnce('glob', '', `filelog: cannot evaluate include patterns: ${(err as Error).message}`);
      }
      for (const t of fg.generateTasks(this.cfg.include)) this.watchDir(path.resolve(t.base));
    }
    const half = Math.max(1, Math.floor(this.cfg.max_concurrent_files / 2));
    const keepOpen = paths.length <= half;
    for (let i = 0; i < paths.length && !this.stopping; i += half) {
      await this.pollBatch(paths.slice(i, i + half), gen, keepOpen);
    }
    if (this.stopping) return;
    await this.closeLost(gen);
    for (const [p, g] of this.pathSeen) if (gen - g > RETAIN_POLLS) this.pathSeen.delete(p);
    this.firstPoll = false;
  }

  private async pollBatch(paths: string[], gen: number, keepOpen: boolean): Promise<void> {
    const found: Found[] = [];
    for (const p of paths) {
      let st: Stats;
      try { st = await fsp.stat(p); } catch (err) {
        if (errCode(err) !== 'ENOENT') this.t.fileError(p, 'stat', `cannot stat: ${(err as Error).message}`);
        continue;
      }
      if (!st.isFile()) {
        if (this.pathSeen.has(p)) this.t.fileError(p, 'not_a_file', 'is no longer a regular file (replaced by a directory?); skipping it');
        continue;
      }
      this.pathSeen.set(p, gen);
      if (st.size === 0) continue;
      found.push({ path: p, st });
    }

    // 1. Files we hold open, by inode: the cheapest and surest identity while the handle lives.
    for (const f of found) {
      const r = this.byInode.get(`${f.st.dev}:${f.st.ino}`);
      if (!r || !r.handle || r.claimedGen === gen || r.ino !== f.st.ino) continue;
      if (await this.truncated(r, f.st)) { f.truncatedOf = r; continue; }
      f.reader = r;
      f.handle = r.handle;
      this.claim(r, f.path, gen);
    }
    // 2. Everything else by fingerprint; files whose inode was truncated go last, so that a
    //    rotated copy (copytruncate) claims the old reader first.
    const rest = found.filter((f) => !f.reader && !f.truncatedOf).concat(found.filter((f) => f.truncatedOf));
    for (const f of rest) {
      if (this.stopping) break;
      try {
        f.handle = await fsp.open(f.path, 'r');
      } catch (err) {
        const code = errCode(err);
        if (code === 'EACCES' || code === 'EPERM') this.t.fileError(f.path, 'permission', 'permission denied; skipping it until it becomes readable');
        else if (code === 'EISDIR') this.t.fileError(f.path, 'not_a_file', 'is a directory; skipping it');
        else if (code !== 'ENOENT') this.t.fileError(f.path, 'open', `cannot open: ${(err as Error).message}`);
        continue;
      }
      this.t.add('filesOpened');
      f.fp = await this.readFingerprint(f.handle, f.st.size);
      if (f.fp.length === 0) { await f.handle.close().catch(() => undefined); f.handle = undefined; continue; }
      const r = f.truncatedOf && f.truncatedOf.claimedGen !== gen ? undefined : await this.matchFingerprint(f.fp, f.st.ino, gen);
      if (r) {
        if (r.handle && r.handle !== f.handle) await r.close();
        this.adopt(r, f, gen);
        continue;
      }
      if (!f.truncatedOf && this.isDuplicate(f.fp, gen)) {
        // Same first bytes as a file already read in this poll: a copy, not new data.
        await f.handle.close().catch(() => undefined);
        f.handle = undefined;
        continue;
      }
      if (f.truncatedOf && f.truncatedOf.claimedGen !== gen) {
        // Truncated, and no rotated copy seen (yet): read the file again from 0. The old reader
        // stays known without its handle, so a copy that shows up in a later poll (copytruncate
        // racing our glob) continues where it stopped instead of being read twice.
        const old = f.truncatedOf;
        this.t.add('truncations');
        this.t.warnOnce(`truncated:${f.path}`, f.path, 'filelog: file was truncated under the reader (copytruncate rotation or in place); reading it again from the start');
        await this.closeReader(old);
        if (this.byInode.get(`${old.dev}:${old.ino}`) === old) this.byInode.delete(`${old.dev}:${old.ino}`);
        old.ino = 0;
      }
      f.reader = await this.newReader(f, gen);
    }

    for (const f of found) {
      const r = f.reader;
      if (!r || this.stopping) continue;
      if (this.gzip) await this.readGzip(r, f.st.size);
      else await this.readFile(r);
      r.lastSize = f.st.size;
      if (!keepOpen) await this.closeReader(r);
    }
  }

  private claim(r: FileReader, p: string, gen: number): void {
    r.claimedGen = gen;
    r.seenGen = gen;
    if (r.path !== p) r.setPath(p);
  }

  /** A known reader takes over a newly opened file (restart, rotated copy, batch mode). */
  private adopt(r: FileReader, f: Found, gen: number): void {
    r.handle = f.handle;
    if (r.ino) this.byInode.delete(`${r.dev}:${r.ino}`);
    r.dev = f.st.dev;
    r.ino = f.st.ino;
    this.byInode.set(`${r.dev}:${r.ino}`, r);
    if (f.fp!.length > r.fp.length) r.fp = f.fp!;
    // A checkpoint beyond the end of the file means it is not the same content after all.
    if (!this.gzip && f.st.size < r.offset) { r.offset = 0; r.pendingOffset = 0; }
    r.rewind();
    f.reader = r;
    this.claim(r, f.path, gen);
  }

  private async newReader(f: Found, gen: number): Promise<FileReader> {
    const offset = this.firstPoll && this.cfg.start_at === 'end' && !this.gzip ? f.st.size : 0;
    const r = new FileReader(randomBytes(6).toString('hex'), f.fp!, f.path, offset, this.settings);
    this.readers.set(r.fileId, r);
    this.adopt(r, f, gen);
    // Saved before the first entry goes out, so event ids (file id + offset) stay the same if
    // the collector dies before the first checkpoint.
    await this.saveCheckpoint(r);
    return r;
  }

  private async readFingerprint(h: fsp.FileHandle, size: number): Promise<Buffer> {
    const buf = Buffer.alloc(Math.min(this.fpSize, size));
    if (buf.length === 0) return buf;
    const { bytesRead } = await h.read(buf, 0, buf.length, 0);
    return buf.subarray(0, bytesRead);
  }

  /** Same inode: was the content truncated (size went down, or the first bytes changed)? */
  private async truncated(r: FileReader, st: Pick<Stats, 'size'>): Promise<boolean> {
    // gzip offsets count decompressed bytes, so only the compressed size can tell.
    if (this.gzip ? st.size < r.lastSize : st.size < r.readEnd) return true;
    if (st.size === r.lastSize && r.fp.length >= this.fpSize) return false;
    try {
      const now = await this.readFingerprint(r.handle!, st.size);
      if (!startsWith(now, r.fp)) return true;
      if (now.length > r.fp.length) r.fp = Buffer.from(now);
      return false;
    } catch {
      return false;
    }
  }

  /**
   * The known reader this content continues, by fingerprint. A reader still holding another
   * inode whose content is intact is not a candidate: its file still exists (renamed out of the
   * glob), so this is a different file that merely starts with the same bytes.
   */
  private async matchFingerprint(fp: Buffer, ino: number, gen: number): Promise<FileReader | undefined> {
    const candidates: FileReader[] = [];
    for (const r of this.readers.values()) {
      if (r.claimedGen !== gen && startsWith(fp, r.fp)) candidates.push(r);
    }
    candidates.sort((a, b) => b.fp.length - a.fp.length);
    for (const r of candidates) {
      if (r.handle && r.ino !== ino && !this.gzip) {
        // Intact = not truncated (copytruncate truncates it, and the app may already have
        // written past our offset again: the first bytes tell).
        const st = await r.handle.stat().catch(() => undefined);
        if (st && !(await this.truncated(r, st))) continue;
      }
      return r;
    }
    return undefined;
  }


  private isDuplicate(fp: Buffer, gen: number): boolean {
    for (const r of this.readers.values()) {
      if (r.claimedGen === gen && (startsWith(fp, r.fp) || startsWith(r.fp, fp))) return true;
    }
    return false;
  }

  /** Files not seen in this poll: read what is left (rotated away, deleted), then close. */
  private async closeLost(gen: number): Promise<void> {
    for (const r of [...this.readers.values()]) {
      if (r.seenGen === gen) continue;
      if (r.handle) {
        if (!this.gzip) await this.readFile(r);
        if (this.stopping) return;
        r.flushPending(this);
        await this.flush();
        await this.closeReader(r);
      }
      if (gen - r.seenGen >= RETAIN_POLLS) await this.forget(r);
    }
  }

  private async closeReader(r: FileReader): Promise<void> {
    if (!r.handle) return;
    if (this.batchReader === r) await this.flush();
    await r.close();
    this.t.add('filesClosed');
  }

  private async forget(r: FileReader): Promise<void> {
    await this.closeReader(r);
    this.readers.delete(r.fileId);
    if (this.byInode.get(`${r.dev}:${r.ino}`) === r) this.byInode.delete(`${r.dev}:${r.ino}`);
    if (this.batchReader === r) this.batchReader = undefined;
    await this.checkpoints?.delete(r);
  }

  // ---------------------------------------------------------------- reading

  private async readFile(r: FileReader): Promise<void> {
    if (this.batchReader !== r) {
      if (!(await this.flush())) return;
      this.batchReader = r;
    }
    try {
      while ((await r.readSome(this)) === 'full') {
        if (!(await this.flush()) || this.stopping) return;
      }
    } catch (err) {
      this.t.fileError(r.path, 'read', `read failed: ${(err as Error).message}`);
      await this.flush();
      await this.closeReader(r);
      return;
    }
    if (r.hasPending && Date.now() - r.lastGrowthMs >= this.forceFlushMs) r.flushPending(this);
    await this.flush();
  }

  /** gzip input: decompress from the start, skip what was delivered, read the rest. */
  private async readGzip(r: FileReader, size: number): Promise<void> {
    if (size === r.lastSize || !r.handle) return;
    if (this.batchReader !== r) {
      if (!(await this.flush())) return;
      this.batchReader = r;
    }
    const skip = r.readEnd;
    let pos = 0;
    const stream = r.handle.createReadStream({ start: 0, autoClose: false }).pipe(createGunzip());
    try {
      for await (const chunk of stream as AsyncIterable<Buffer>) {
        const end = pos + chunk.length;
        if (end > skip) r.push(skip > pos ? chunk.subarray(skip - pos) : chunk, this);
        pos = end;
        if (this.full && (!(await this.flush()) || this.stopping)) { stream.destroy(); return; }
      }
      // A complete gzip file does not grow: its last line needs no newline.
      r.flushPending(this);
    } catch (err) {
      const code = errCode(err);
      // A gzip file still being written ends early; read the rest when it grows.
      if (code !== 'Z_BUF_ERROR') this.t.fileError(r.path, 'gzip', `not valid gzip: ${(err as Error).message}`);
    }
    await this.flush();
  }

  // ---------------------------------------------------------------- EntrySink

  get full(): boolean { return this.batch.length >= this.cfg.max_batch_size; }

  entry(r: FileReader, text: string, start: number, end: number, observed: number): void {
    const resource: Record<string, AttributeValue> = {};
    if (this.cfg.include_file_path) resource['log.file.path'] = r.path;
    if (this.cfg.include_file_name) resource['log.file.name'] = r.name;
    const e: UnifiedEvent = {
      // Positional (file id + offset): a replay after a crash has the id of its first delivery.
      id: positionId(r.fileId, start),
      time: observed,
      observedTime: observed,
      kind: 'log',
      source: this.ctx.id,
      severity: 'info',
      resource,
      attributes: {},
      log: { body: text },
    };
    if (text.indexOf('\uFFFD') >= 0 || text.indexOf('\u0000') >= 0) {
      this.t.add('invalidText');
      this.t.warnOnce(`text:${r.path}`, r.path, `filelog: file has bytes that are not valid ${this.settings.codec.name} or binary data; passing them on with replacement characters`);
    }
    const hadPartial = r.ctx.partial !== undefined;
    const v = this.chain.operators.length ? this.chain.run(e, r.ctx) : 0;
    r.pendingOffset = end;
    if (v === HOLD) { if (!hadPartial) r.heldStart = start; return; }
    if (hadPartial && r.ctx.partial === undefined) r.heldStart = -1;
    if (v === DROP) { this.ctx.telemetry.dropped(1, 'operator_on_error'); return; }
    this.batch.push(e);
  }

  longLine(r: FileReader, behavior: 'split' | 'truncate'): void {
    this.t.add('longLines');
    this.t.warnOnce(`long:${r.path}`, r.path, `filelog: line longer than max_log_size (${this.settings.maxLogSize} bytes); ${behavior === 'split' ? 'splitting it into several entries' : 'keeping the first max_log_size bytes, dropping the rest'}`);
  }

  // ---------------------------------------------------------------- OperatorEnv

  parseError(operatorId: string, message: string, quiet: boolean): void {
    this.t.add('parseErrors');
    if (!quiet) this.t.warnOnce(`op:${operatorId}`, '', `filelog: operator ${operatorId}: ${message} (entry passed on as is; further errors of this operator are only counted)`);
  }

  // ---------------------------------------------------------------- delivery and checkpoints

  /** Sends the pending batch; on success moves the file's delivered offset and checkpoints it. */
  private async flush(): Promise<boolean> {
    const r = this.batchReader;
    const events = this.batch;
    if (events.length > 0) {
      this.batch = [];
      try {
        await this.next.consume({ events });
        this.t.add('entries', events.length);
      } catch (err) {
        if (isPermanent(err)) {
          this.ctx.telemetry.dropped(events.length, 'permanent_error');
          this.ctx.logger.warn({ err: (err as Error).message, events: events.length }, 'filelog: pipeline refused entries for good; dropped');
        } else {
          this.t.add('sendFailures');
          if (!this.t.warnOnce('busy', '', `filelog: pipeline busy (${(err as Error).message}); entries are read again at the next poll (further refusals only counted)`)) {
            this.ctx.logger.debug({ err: (err as Error).message }, 'filelog: pipeline busy');
          }
          r?.rewind();
          return false;
        }
      }
    }
    if (r) {
      const offset = r.resumeOffset(r.pendingOffset);
      if (offset !== r.offset) { r.offset = offset; await this.saveCheckpoint(r); }
    }
    return true;
  }

  private async saveCheckpoint(r: FileReader): Promise<void> {
    await this.checkpoints?.save(r);
  }
}
