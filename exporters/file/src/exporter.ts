import * as zlib from 'node:zlib';
import { promisify } from 'node:util';
import type { Batch, ComponentContext } from '@tapio/core';
import { toBytes, type LineEncoder } from './format';
import type { RotatingFile } from './rotating-file';

const gzip = promisify(zlib.gzip);
/** Write at once when this much is buffered, whatever the flush interval. */
const FLUSH_BYTES = 4 * 1024 * 1024;

/**
 * Buffers encoded lines and writes them in whole chunks, one write at a time (a promise chain),
 * so lines never interleave. With gzip every flush is one complete gzip member: a crash leaves
 * a file whose every complete member decodes.
 */
export class FileWriter {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private pendingEvents = 0;
  private chain: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;
  private readonly written: (n: number) => void;

  constructor(private readonly ctx: ComponentContext, private readonly file: RotatingFile, private readonly encode: LineEncoder,
    private readonly compress: boolean, private readonly flushIntervalMs: number, private readonly truncateAtStart = false) {
    this.written = ctx.telemetry.counter('tapio_exporter_file_written_bytes', 'Bytes the file exporter wrote');
  }

  async start(): Promise<void> {
    await this.file.open(this.truncateAtStart);
    if (this.flushIntervalMs > 0) {
      this.timer = setInterval(() => { this.flush().catch(() => undefined); }, this.flushIntervalMs);
      this.timer.unref();
    }
  }

  /**
   * Encodes the batch; writes now when unbuffered or when the buffer is large. A batch that is
   * answered with an error is not kept: the exporter's retry sends it again, and keeping it too
   * wrote it twice. A batch answered with success stays buffered until it is written — so while
   * writes fail, less than FLUSH_BYTES of answered data waits, and every batch past that is
   * refused with the write's error (the sending queue keeps it and retries).
   */
  async send(batch: Batch): Promise<void> {
    const buf = toBytes(this.encode(batch.events));
    this.pending.push(buf);
    this.pendingBytes += buf.length;
    this.pendingEvents += batch.events.length;
    if (this.flushIntervalMs > 0 && this.pendingBytes < FLUSH_BYTES) return;
    try {
      await this.flush();
    } catch (err) {
      // still buffered (the failed write put it back): take it out, the caller is told to retry;
      // not there any more: a later flush wrote it after all
      const at = this.pending.indexOf(buf);
      if (at < 0) return;
      this.pending.splice(at, 1);
      this.pendingBytes -= buf.length;
      this.pendingEvents -= batch.events.length;
      throw err;
    }
  }

  /** Writes everything buffered so far. A failed write keeps the data for the next flush. */
  flush(): Promise<void> {
    const run = async (): Promise<void> => {
      if (!this.pending.length) return;
      const chunks = this.pending;
      const events = this.pendingEvents;
      this.pending = [];
      this.pendingBytes = 0;
      this.pendingEvents = 0;
      try {
        const raw = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
        const out = this.compress ? await gzip(raw) : raw;
        await this.file.write(out);
        this.written(out.length);
      } catch (err) {
        this.pending = chunks.concat(this.pending);
        this.pendingEvents += events;
        for (const c of chunks) this.pendingBytes += c.length;
        this.ctx.logger.warn({ err: (err as Error).message, file: this.file.file }, 'writing to the file failed; will retry');
        throw err;
      }
    };
    this.chain = this.chain.then(run, run);
    return this.chain;
  }

  /** Final flush, fsync and close; what cannot be written is counted as dropped. */
  async close(): Promise<void> {
    clearInterval(this.timer);
    try {
      await this.flush();
    } catch {
      this.ctx.telemetry.dropped(this.pendingEvents, 'write_failed');
      this.ctx.logger.error({ events: this.pendingEvents, file: this.file.file }, 'could not write buffered events at shutdown');
    }
    await this.file.close();
  }
}
