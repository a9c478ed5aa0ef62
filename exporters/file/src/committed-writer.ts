import * as zlib from 'node:zlib';
import { promisify } from 'node:util';
import { DeliveryLedger, isStorageExtension, type Batch, type ComponentContext, type Host } from '@tapio/core';
import { toBytes, type LineEncoder } from './format';
import type { CommittedFile, RotatingFile } from './rotating-file';

const gzip = promisify(zlib.gzip);

/**
 * The file exporter with `storage`: exactly-once output for sources with positional event ids
 * (filelog). Every batch is written and committed (file length + per-stream marks, one storage
 * transaction) before it is acknowledged, one at a time. Replays of committed events are
 * skipped; at start, bytes written after the last commit are cut away, since their source sends
 * them again. Covers process crashes (kill -9, OOM); the data file is not fsynced per batch, so
 * a power loss can still lose the page cache's tail.
 */
export class CommittedFileWriter {
  private ledger: DeliveryLedger | undefined;
  private chain: Promise<void> = Promise.resolve();
  private readonly written: (n: number) => void;
  private readonly skipped: (n: number) => void;

  constructor(private readonly ctx: ComponentContext, private readonly file: RotatingFile, private readonly encode: LineEncoder,
    private readonly compress: boolean, private readonly storage: string) {
    this.written = ctx.telemetry.counter('tapio_exporter_file_written_bytes', 'Bytes the file exporter wrote');
    this.skipped = ctx.telemetry.counter('tapio_exporter_file_replays_skipped_events', 'Events skipped because the ledger shows them already written (a source replay after a crash)');
  }

  async start(host: Host): Promise<void> {
    const ext = host.getExtension<unknown>(this.storage);
    if (!isStorageExtension(ext)) throw new Error(`file exporter: storage "${this.storage}" is not a configured storage extension`);
    this.ledger = await DeliveryLedger.open(await ext.getClient('exporter', this.ctx.id, 'ledger'));
    const warn = (message: string): void => this.ctx.logger.warn(`file exporter: ${message}`);
    const cut = await this.file.recover(this.ledger.sinkState as CommittedFile | undefined, warn);
    if (cut > 0) this.ctx.logger.info({ bytes: cut, file: this.file.file }, 'cut bytes written after the last commit; their source sends them again');
    await this.file.open();
    await this.ledger.commit(this.file.state());
  }

  send(batch: Batch): Promise<void> {
    const run = (): Promise<void> => this.write(batch);
    this.chain = this.chain.then(run, run);
    return this.chain;
  }

  async close(): Promise<void> {
    await this.chain.catch(() => undefined);
    await this.file.close();
    await this.ledger?.close();
  }

  private async write(batch: Batch): Promise<void> {
    const ledger = this.ledger;
    if (!ledger) throw new Error('file exporter is not started');
    const events = ledger.admit(batch.events);
    if (events.length < batch.events.length) {
      const n = batch.events.length - events.length;
      this.skipped(n);
      // Happens after a source restarts from a checkpoint older than our last commit: rare, worth a line.
      this.ctx.logger.info({ events: n }, 'replays skipped: events already written (ledger)');
    }
    if (events.length === 0) return;
    const raw = toBytes(this.encode(events));
    const out = this.compress ? await gzip(raw) : raw;
    // A rotation is committed before the new file gets data, so a recovery knows which file is ours.
    if (this.file.wouldRotate(out.length)) {
      await this.file.rotate();
      await ledger.commit(this.file.state());
    }
    const before = this.file.state();
    try {
      await this.file.write(out);
      ledger.record(events);
      await ledger.commit(this.file.state());
    } catch (err) {
      ledger.discard();
      // Leave no half-written or uncommitted batch behind: the retry writes it again.
      await this.file.truncateTo(before.size).catch((e: Error) => this.ctx.logger.error({ err: e.message }, 'could not cut back a failed write'));
      this.ctx.logger.warn({ err: (err as Error).message, file: this.file.file }, 'writing to the file failed; will retry');
      throw err;
    }
    this.written(out.length);
  }
}
