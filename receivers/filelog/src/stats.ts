import type { ComponentContext } from '@tapio/core';

/** Plain counters for tests and the README; the same numbers go to self-telemetry. */
export interface FilelogStats {
  entries: number;
  filesOpened: number;
  filesClosed: number;
  longLines: number;
  parseErrors: number;
  fileErrors: number;
  invalidText: number;
  truncations: number;
  sendFailures: number;
}

type Counted = Exclude<keyof FilelogStats, 'filesClosed' | 'sendFailures'>;

const DESCRIPTIONS: Record<Counted, [string, string]> = {
  entries: ['tapio_receiver_filelog_entries', 'Log entries read from files'],
  filesOpened: ['tapio_receiver_filelog_files_opened', 'Files opened'],
  longLines: ['tapio_receiver_filelog_long_lines', 'Lines longer than max_log_size (split or truncated)'],
  parseErrors: ['tapio_receiver_filelog_parse_errors', 'Entries an operator could not parse (sent on as plain bodies unless on_error drops them)'],
  fileErrors: ['tapio_receiver_filelog_file_errors', 'Files that could not be read (permission denied, not a regular file, I/O errors), once per file'],
  invalidText: ['tapio_receiver_filelog_invalid_text', 'Entries with bytes invalid in the encoding or binary (NUL) bytes'],
  truncations: ['tapio_receiver_filelog_truncations', 'Files truncated under the reader (copytruncate or in place)'],
};

/** The receiver's counters and its warn-once-per-file logging. */
export class FilelogTelemetry {
  readonly stats: FilelogStats = { entries: 0, filesOpened: 0, filesClosed: 0, longLines: 0, parseErrors: 0, fileErrors: 0, invalidText: 0, truncations: 0, sendFailures: 0 };
  private readonly counters = new Map<keyof FilelogStats, (n: number) => void>();
  private readonly warned = new Set<string>();

  constructor(private readonly ctx: ComponentContext, openFiles: () => number) {
    for (const [k, [name, description]] of Object.entries(DESCRIPTIONS)) this.counters.set(k as Counted, ctx.telemetry.counter(name, description));
    ctx.telemetry.gauge('tapio_receiver_filelog_open_files', 'Files currently open', openFiles);
  }

  add(key: keyof FilelogStats, n = 1): void {
    this.stats[key] += n;
    this.counters.get(key)?.(n);
  }

  /** Logs a warning the first time a key is seen; returns true then. */
  warnOnce(key: string, file: string, message: string): boolean {
    if (this.warned.has(key)) return false;
    if (this.warned.size > 10_000) this.warned.clear();
    this.warned.add(key);
    this.ctx.logger.warn(file ? { file } : {}, message);
    return true;
  }

  /** A file that cannot be read: warned about and counted once per file and kind of problem. */
  fileError(path: string, kind: string, message: string): void {
    if (this.warnOnce(`${kind}:${path}`, path, `filelog: ${path}: ${message}`)) this.add('fileErrors');
  }
}
