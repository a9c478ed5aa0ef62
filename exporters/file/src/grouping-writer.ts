import * as path from 'node:path';
import type { Batch, ComponentContext, UnifiedEvent } from '@tapio/core';
import { FileWriter } from './exporter';
import type { LineEncoder } from './format';
import { RotatingFile } from './rotating-file';

export interface GroupingSettings {
  /** `path` with exactly one `*`. */
  pattern: string;
  attribute: string;
  maxOpenFiles: number;
  compress: boolean;
  flushIntervalMs: number;
  /** Start each file empty the first time this process opens it. */
  truncate: boolean;
}

/**
 * `group_by`: one file per value of a resource attribute, the value standing in for the `*` of
 * the path (as the Collector's file exporter). At most `maxOpenFiles` stay open; the least
 * recently written is flushed and closed to make room. Unlike the Collector, a file reopened
 * after such an eviction is appended to, never truncated again, so eviction loses nothing.
 * Events without the attribute (or with a non-string value) are dropped and counted.
 */
export class GroupingWriter {
  private readonly prefix: string;
  private readonly suffix: string;
  /** Open writers, least recently used first (Map keeps insertion order). */
  private readonly open = new Map<string, { writer: FileWriter; ready: Promise<void> }>();
  /** Closes in progress: a path is reopened only after its previous writer finished. */
  private readonly closing = new Map<string, Promise<void>>();
  private readonly opened = new Set<string>();
  private readonly evicted: (n: number) => void;

  constructor(private readonly ctx: ComponentContext, private readonly encode: LineEncoder, private readonly s: GroupingSettings) {
    const star = s.pattern.indexOf('*');
    this.prefix = s.pattern.slice(0, star);
    this.suffix = s.pattern.slice(star + 1);
    this.evicted = ctx.telemetry.counter('tapio_exporter_file_group_by_evicted_files', 'Files closed because group_by.max_open_files was reached');
  }

  async start(): Promise<void> {}

  async send(batch: Batch): Promise<void> {
    const groups = new Map<string, UnifiedEvent[]>();
    let missing = 0;
    for (const e of batch.events) {
      const v = e.resource[this.s.attribute];
      if (typeof v !== 'string') { missing++; continue; }
      let g = groups.get(v);
      if (!g) { g = []; groups.set(v, g); }
      g.push(e);
    }
    if (missing) {
      this.ctx.telemetry.dropped(missing, 'group_by_attribute_missing');
      this.ctx.logger.debug({ events: missing, attribute: this.s.attribute }, 'events without the group_by resource attribute dropped');
    }
    await Promise.all([...groups].map(async ([segment, events]) => (await this.writerFor(this.fullPath(segment))).send({ events })));
  }

  async close(): Promise<void> {
    const entries = [...this.open.values()];
    this.open.clear();
    await Promise.all([...entries.map((e) => closeWhenReady(e)), ...this.closing.values()]);
  }

  /**
   * Prefix + segment + suffix. A segment that would lead out of the prefix's directory (`../x`,
   * `/etc`) has its separators and dot-names replaced by `_`.
   */
  fullPath(segment: string): string {
    const base = path.resolve(path.dirname(this.prefix + 'x'));
    const inside = (p: string): boolean => p.startsWith(base + path.sep);
    const joined = path.resolve(this.prefix + segment + this.suffix);
    if (inside(joined)) return joined;
    const safe = path.resolve(this.prefix + segment.replace(/[/\\]/g, '_').replace(/^\.\.?$/, '_') + this.suffix);
    if (!inside(safe)) throw new Error(`group_by: "${segment}" leads outside ${base}`);
    return safe;
  }

  private async writerFor(file: string): Promise<FileWriter> {
    let entry = this.open.get(file);
    if (entry) {
      // Most recently used goes last.
      this.open.delete(file);
      this.open.set(file, entry);
    } else {
      while (this.open.size >= this.s.maxOpenFiles) this.evictOldest();
      const truncate = this.s.truncate && !this.opened.has(file);
      this.opened.add(file);
      const writer = new FileWriter(this.ctx, new RotatingFile(file, undefined), this.encode, this.s.compress, this.s.flushIntervalMs, truncate);
      const previousClose = this.closing.get(file) ?? Promise.resolve();
      const created = { writer, ready: previousClose.then(() => writer.start()) };
      // A file that could not be opened is tried afresh next time.
      created.ready.catch(() => { if (this.open.get(file) === created) this.open.delete(file); });
      entry = created;
      this.open.set(file, entry);
    }
    await entry.ready;
    return entry.writer;
  }

  private evictOldest(): void {
    const [file, entry] = this.open.entries().next().value as [string, { writer: FileWriter; ready: Promise<void> }];
    this.open.delete(file);
    this.evicted(1);
    const done: Promise<void> = closeWhenReady(entry).finally(() => { if (this.closing.get(file) === done) this.closing.delete(file); });
    this.closing.set(file, done);
  }
}

function closeWhenReady(e: { writer: FileWriter; ready: Promise<void> }): Promise<void> {
  return e.ready.then(() => e.writer.close(), () => e.writer.close());
}
