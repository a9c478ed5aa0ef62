import type { FileHandle } from 'node:fs/promises';
import { basename } from 'node:path';
import type { Codec } from './encoding';
import type { FileContext } from './operators';

/** Where a reader hands its entries; implemented once by the receiver (no per-entry closures). */
export interface EntrySink {
  /** One complete entry: its text and the byte range it came from. */
  entry(r: FileReader, text: string, start: number, end: number, observed: number): void;
  /** Counts and warns about an over-long line (split or truncated). */
  longLine(r: FileReader, behavior: 'split' | 'truncate'): void;
  /** True when the pending batch should be sent before reading more. */
  readonly full: boolean;
}

export interface ReaderSettings {
  codec: Codec;
  maxLogSize: number;
  behavior: 'split' | 'truncate';
  lineStart?: RegExp;
  lineEnd?: RegExp;
  chunkSize: number;
}

/** Blank lines between multiline entries belong to neither. */
function trimNewlines(s: string): string {
  let end = s.length;
  while (end > 0 && s.charCodeAt(end - 1) === 10) end--;
  return end === s.length ? s : s.slice(0, end);
}

/** What a checkpoint holds per file (JSON in the storage client). */
export interface ReaderCheckpoint {
  fileId: string;
  fp: string;
  offset: number;
  path: string;
  skipping?: boolean;
}

/**
 * One tracked file: its identity (fingerprint, stable id), the committed offset (everything
 * before it has been delivered), and the bytes read past it that are not a full entry yet.
 */
export class FileReader {
  handle: FileHandle | undefined;
  dev = 0;
  ino = 0;
  /** Size at the last read; a different size triggers a fingerprint re-check. */
  lastSize = 0;
  /** Poll generation in which this file was last seen. */
  seenGen = 0;
  claimedGen = 0;
  /** Delivered: everything before this byte offset reached the pipeline. */
  offset: number;
  /** Committed while reading; becomes `offset` once the batch is accepted. */
  pendingOffset: number;
  /** In truncate mode: discarding the rest of an over-long line until its newline. */
  skipping: boolean;
  lastGrowthMs = Date.now();
  readonly ctx: FileContext;
  /** File offset where a container-partial entry began (held in ctx.partial). */
  heldStart = -1;
  /** A multiline entry being assembled. */
  mlText: string | undefined;
  mlStart = 0;
  mlEnd = 0;
  private buf: Buffer;
  /** File offset of buf[0]. */
  private bufStart: number;
  private bufLen = 0;
  private scanFrom = 0;
  /** The current line has already been cut at max_log_size (count it once). */
  private cutting = false;
  /** Complete lines may be waiting in the buffer (scan stopped because the batch was full). */
  private unscanned = false;

  constructor(
    readonly fileId: string,
    public fp: Buffer,
    public path: string,
    offset: number,
    private readonly s: ReaderSettings,
    skipping = false,
  ) {
    this.offset = offset;
    this.pendingOffset = offset;
    this.bufStart = offset;
    this.skipping = skipping;
    this.buf = Buffer.allocUnsafe(Math.min(s.chunkSize, Math.max(4096, s.maxLogSize + 8)));
    this.ctx = { path };
    this.name = basename(this.path);
  }

  /** File name (last path segment), cached because every entry carries it. */
  name: string;

  /** The same file under a new name (renamed by rotation, or adopted from a checkpoint). */
  setPath(p: string): void {
    this.path = p;
    this.name = basename(p);
    this.ctx.path = p;
    this.ctx.pathResource = undefined;
  }

  /** Bytes consumed from the file so far (read position). */
  get readEnd(): number { return this.bufStart + this.bufLen; }

  /** Drops everything read past the delivered offset (after a failed send, or to re-read). */
  rewind(): void {
    this.bufStart = this.offset;
    this.pendingOffset = this.offset;
    this.bufLen = 0;
    this.scanFrom = 0;
    this.unscanned = false;
    this.mlText = undefined;
    this.ctx.partial = undefined;
    this.heldStart = -1;
  }

  checkpoint(): ReaderCheckpoint {
    const c: ReaderCheckpoint = { fileId: this.fileId, fp: this.fp.toString('base64'), offset: this.offset, path: this.path };
    if (this.skipping) c.skipping = true;
    return c;
  }

  /**
   * Reads what the handle has past the read position. Returns 'eof' at the end of the file,
   * 'full' when the sink wants its batch sent first.
   */
  async readSome(sink: EntrySink): Promise<'eof' | 'full'> {
    const h = this.handle;
    if (!h) return 'eof';
    for (;;) {
      // Lines left in the buffer when the last batch filled up go first.
      if (this.unscanned) {
        this.scan(sink);
        if (sink.full) return 'full';
      }
      this.ensureRoom();
      const { bytesRead } = await h.read(this.buf, this.bufLen, this.buf.length - this.bufLen, this.bufStart + this.bufLen);
      if (bytesRead === 0) return 'eof';
      this.bufLen += bytesRead;
      this.lastGrowthMs = Date.now();
      this.unscanned = true;
    }
  }

  /** Feeds bytes from another source (a gunzip stream) at the read position. */
  push(chunk: Buffer, sink: EntrySink): void {
    let at = 0;
    while (at < chunk.length) {
      this.ensureRoom();
      const n = Math.min(chunk.length - at, this.buf.length - this.bufLen);
      chunk.copy(this.buf, this.bufLen, at, at + n);
      this.bufLen += n;
      at += n;
      // No back-pressure inside a gzip chunk: a batch may exceed max_batch_size by one chunk.
      do this.scan(sink); while (this.unscanned);
    }
    this.lastGrowthMs = Date.now();
  }

  private ensureRoom(): void {
    if (this.buf.length - this.bufLen >= 4096) return;
    // The buffer holds one long unfinished line: grow it (scan() cuts lines at max_log_size).
    const bigger = Buffer.allocUnsafe(this.buf.length * 2);
    this.buf.copy(bigger, 0, 0, this.bufLen);
    this.buf = bigger;
  }

  /** Splits complete lines out of the buffer and hands them on; keeps the unfinished rest. */
  private scan(sink: EntrySink): void {
    const { codec, maxLogSize } = this.s;
    const w = codec.newlineWidth;
    const buf = this.buf;
    const observed = Date.now() * 1e6;
    let lineStart = 0;
    let from = this.scanFrom;
    for (;;) {
      const nl = codec.findNewline(buf, from, this.bufLen);
      if (nl < 0) break;
      const next = nl + w;
      if (this.skipping) {
        this.skipping = false;
        this.pendingOffset = this.bufStart + next;
      } else {
        let end = nl;
        if (codec.endsWithCr(buf, lineStart, end)) end -= w;
        if (end - lineStart > maxLogSize) this.cutLongLine(sink, lineStart, end, observed);
        else this.line(sink, codec.decode(buf, lineStart, end), this.bufStart + lineStart, this.bufStart + next, observed);
      }
      this.cutting = false;
      lineStart = next;
      from = next;
      if (sink.full) break;
    }
    this.unscanned = sink.full;
    // An unfinished line as long as max_log_size: split it (or keep the first part) now, so a
    // 50 MB line never sits in memory.
    while (!this.unscanned && this.bufLen - lineStart >= maxLogSize) {
      if (this.skipping) { lineStart = this.bufLen - ((this.bufLen - lineStart) % w); this.pendingOffset = this.bufStart + lineStart; break; }
      const cut = codec.safeCut(buf, lineStart, lineStart + maxLogSize);
      if (!this.cutting) sink.longLine(this, this.s.behavior);
      this.cutting = true;
      this.line(sink, codec.decode(buf, lineStart, cut), this.bufStart + lineStart, this.bufStart + cut, observed);
      lineStart = cut;
      if (this.s.behavior === 'truncate') this.skipping = true;
    }
    if (lineStart > 0) {
      buf.copyWithin(0, lineStart, this.bufLen);
      this.bufStart += lineStart;
      this.bufLen -= lineStart;
    }
    this.scanFrom = this.unscanned ? 0 : this.bufLen - (this.bufLen % w);
  }

  private cutLongLine(sink: EntrySink, start: number, end: number, observed: number): void {
    const { codec, maxLogSize } = this.s;
    if (!this.cutting) sink.longLine(this, this.s.behavior);
    let at = start;
    while (at < end) {
      const cut = end - at > maxLogSize ? codec.safeCut(this.buf, at, at + maxLogSize) : end;
      const last = cut >= end;
      // The last piece's range ends after the newline, so the offset passes the whole line.
      this.line(sink, codec.decode(this.buf, at, cut), this.bufStart + at, last ? this.bufStart + end + codec.newlineWidth : this.bufStart + cut, observed);
      if (this.s.behavior === 'truncate') { this.pendingOffset = this.bufStart + end + codec.newlineWidth; return; }
      at = cut;
    }
  }

  /** One line → an entry, or into the multiline entry being assembled. */
  private line(sink: EntrySink, text: string, start: number, end: number, observed: number): void {
    if (start === 0 && text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    const { lineStart, lineEnd } = this.s;
    if (!lineStart && !lineEnd) {
      if (text.length === 0) { this.pendingOffset = end; return; }
      sink.entry(this, text, start, end, observed);
      return;
    }
    if (lineStart) {
      if (lineStart.test(text)) {
        if (this.mlText !== undefined) sink.entry(this, trimNewlines(this.mlText), this.mlStart, this.mlEnd, observed);
        this.mlText = text; this.mlStart = start; this.mlEnd = end;
      } else if (this.mlText !== undefined) {
        this.mlText += '\n' + text; this.mlEnd = end;
        this.capMultiline(sink, observed);
      } else if (text.length > 0) {
        sink.entry(this, text, start, end, observed);
      } else {
        this.pendingOffset = end;
      }
      return;
    }
    if (this.mlText === undefined) { this.mlText = text; this.mlStart = start; } else this.mlText += '\n' + text;
    this.mlEnd = end;
    if (this.capMultiline(sink, observed)) return;
    if (lineEnd!.test(text)) {
      const t = this.mlText;
      this.mlText = undefined;
      if (t.length > 0) sink.entry(this, t, this.mlStart, end, observed);
      else this.pendingOffset = end;
    }
  }

  /**
   * A multiline entry longer than max_log_size (a pattern that never matches again would
   * otherwise hold the whole file in memory) is sent as it is.
   */
  private capMultiline(sink: EntrySink, observed: number): boolean {
    if (this.mlText === undefined || this.mlText.length <= this.s.maxLogSize) return false;
    sink.longLine(this, 'split');
    const t = this.mlText;
    this.mlText = undefined;
    sink.entry(this, t, this.mlStart, this.mlEnd, observed);
    return true;
  }

  /** Where a restart must resume: before any entry not yet complete. */
  resumeOffset(delivered: number): number {
    let o = delivered;
    if (this.mlText !== undefined && this.mlStart < o) o = this.mlStart;
    if (this.heldStart >= 0 && this.heldStart < o) o = this.heldStart;
    return o;
  }

  /** True when bytes or an entry are waiting for more input. */
  get hasPending(): boolean { return this.bufLen > 0 || this.mlText !== undefined; }

  /**
   * Emits what waits for more input (an unterminated last line, a multiline entry) — after
   * force_flush_period without growth, or when the file is gone for good.
   */
  flushPending(sink: EntrySink): void {
    const observed = Date.now() * 1e6;
    if (this.bufLen > 0 && !this.skipping) {
      let end = this.bufLen;
      if (this.s.codec.endsWithCr(this.buf, 0, end)) end -= this.s.codec.newlineWidth;
      const text = this.s.codec.decode(this.buf, 0, end);
      const start = this.bufStart;
      this.bufStart += this.bufLen;
      this.bufLen = 0;
      this.scanFrom = 0;
      this.line(sink, text, start, this.bufStart, observed);
    }
    if (this.mlText !== undefined) {
      const t = trimNewlines(this.mlText);
      this.mlText = undefined;
      sink.entry(this, t, this.mlStart, this.mlEnd, observed);
    }
  }

  async close(): Promise<void> {
    const h = this.handle;
    this.handle = undefined;
    if (h) await h.close().catch(() => undefined);
  }
}
