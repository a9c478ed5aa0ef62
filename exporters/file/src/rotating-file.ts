import * as fs from 'node:fs';
import * as path from 'node:path';
import type { RotationConfig } from './config';

const MIB = 1024 * 1024;

export interface CommittedFile { path: string; ino: number; size: number }

/**
 * An append-only file that rotates by size (lumberjack-style names: `events-2026-11-22T14-05-00.123.jsonl`)
 * and prunes rotated files by count and age. Writes are whole buffers, one at a time (the
 * caller serializes them), so lines never interleave.
 */
export class RotatingFile {
  private fh: fs.promises.FileHandle | undefined;
  private size = 0;
  private ino = 0;

  constructor(readonly file: string, private readonly rotation: RotationConfig | undefined, private readonly now: () => Date = () => new Date()) {}

  /** @param truncate start the file empty (the Collector's default without `append`) instead of appending to it. */
  async open(truncate = false): Promise<void> {
    await fs.promises.mkdir(path.dirname(path.resolve(this.file)), { recursive: true });
    this.fh = await fs.promises.open(this.file, truncate ? 'w' : 'a', 0o640);
    const st = await this.fh.stat();
    this.size = st.size;
    this.ino = st.ino;
  }

  async write(buf: Buffer): Promise<void> {
    if (!this.fh) throw new Error(`file ${this.file} is not open`);
    if (this.wouldRotate(buf.length)) await this.rotate();
    await this.fh.appendFile(buf);
    this.size += buf.length;
  }

  /** Whether writing this many bytes rotates the file first. */
  wouldRotate(bytes: number): boolean {
    return this.rotation !== undefined && this.size > 0 && this.size + bytes > this.rotation.max_megabytes * MIB;
  }

  /** Which file is open and how long it is: what a delivery ledger commits. */
  state(): CommittedFile {
    if (!this.fh) throw new Error(`file ${this.file} is not open`);
    return { path: path.resolve(this.file), ino: this.ino, size: this.size };
  }

  /** Cuts the open file back to `size` bytes (after a failed or partial write). */
  async truncateTo(size: number): Promise<void> {
    if (!this.fh) throw new Error(`file ${this.file} is not open`);
    await this.fh.truncate(size);
    this.size = size;
  }

  /**
   * Before open: cuts away what was written after the last commit (a crash between write and
   * commit; that part was never acknowledged and comes again). A file that is not the committed
   * one (another inode) is left alone. Returns the number of bytes cut.
   */
  async recover(committed: CommittedFile | undefined, warn: (message: string) => void): Promise<number> {
    if (!committed || committed.path !== path.resolve(this.file)) return 0;
    const st = await fs.promises.stat(this.file).catch(() => undefined);
    if (!st) return 0;
    if (st.ino !== committed.ino) {
      warn(`${this.file} is not the file last committed (inode ${st.ino}, expected ${committed.ino}); appending to it as is`);
      return 0;
    }
    if (st.size < committed.size) warn(`${this.file} is shorter than last committed (${st.size} < ${committed.size} bytes); someone truncated it`);
    if (st.size <= committed.size) return 0;
    await fs.promises.truncate(this.file, committed.size);
    return st.size - committed.size;
  }

  async sync(): Promise<void> { await this.fh?.sync(); }

  async close(): Promise<void> {
    const fh = this.fh;
    this.fh = undefined;
    if (!fh) return;
    try { await fh.sync(); } finally { await fh.close(); }
  }

  /** Closes the current file, renames it with a timestamp, opens a fresh one, prunes old ones. */
  async rotate(): Promise<void> {
    await this.close();
    await fs.promises.rename(this.file, await this.freeBackupName());
    await this.open();
    await this.prune();
  }

  /** Rotated files of this path, oldest first. */
  async backups(): Promise<string[]> {
    const { dir, stem, ext } = this.parts();
    let names: string[];
    try { names = await fs.promises.readdir(dir); } catch { return []; }
    const re = new RegExp(`^${escape(stem)}-\\d{4}-\\d{2}-\\d{2}T\\d{2}-\\d{2}-\\d{2}\\.\\d{3}(-\\d+)?${escape(ext)}$`);
    return names.filter((n) => re.test(n)).sort().map((n) => path.join(dir, n));
  }

  private async prune(): Promise<void> {
    if (!this.rotation) return;
    const files = await this.backups();
    const remove = new Set<string>();
    if (this.rotation.max_backups > 0) for (const f of files.slice(0, Math.max(0, files.length - this.rotation.max_backups))) remove.add(f);
    if (this.rotation.max_days > 0) {
      const cutoff = this.now().getTime() - this.rotation.max_days * 86_400_000;
      for (const f of files) {
        const st = await fs.promises.stat(f).catch(() => undefined);
        if (st && st.mtimeMs < cutoff) remove.add(f);
      }
    }
    for (const f of remove) await fs.promises.rm(f, { force: true });
  }

  private async freeBackupName(): Promise<string> {
    const { dir, stem, ext } = this.parts();
    const base = path.join(dir, `${stem}-${timestamp(this.now(), this.rotation?.localtime ?? false)}`);
    for (let i = 0; ; i++) {
      const candidate = `${base}${i ? `-${i}` : ''}${ext}`;
      if (!fs.existsSync(candidate)) return candidate;
    }
  }

  private parts(): { dir: string; stem: string; ext: string } {
    const dir = path.dirname(path.resolve(this.file));
    const name = path.basename(this.file);
    // `events.jsonl.gz` keeps `.jsonl.gz` as its extension.
    const dot = name.indexOf('.', 1);
    return dot > 0 ? { dir, stem: name.slice(0, dot), ext: name.slice(dot) } : { dir, stem: name, ext: '' };
  }
}

function timestamp(d: Date, local: boolean): string {
  const p = (n: number, w = 2): string => String(n).padStart(w, '0');
  const [y, mo, da, h, mi, s, ms] = local
    ? [d.getFullYear(), d.getMonth() + 1, d.getDate(), d.getHours(), d.getMinutes(), d.getSeconds(), d.getMilliseconds()]
    : [d.getUTCFullYear(), d.getUTCMonth() + 1, d.getUTCDate(), d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds(), d.getUTCMilliseconds()];
  return `${y}-${p(mo)}-${p(da)}T${p(h)}-${p(mi)}-${p(s)}.${p(ms, 3)}`;
}

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
