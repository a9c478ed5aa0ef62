import Database from 'better-sqlite3';
import type { StorageClient, StorageOp } from '@tapio/core';

export type SynchronousLevel = 'off' | 'normal' | 'full' | 'extra';

export interface StoreOptions {
  synchronous: SynchronousLevel;
  /** Bytes; 0: unlimited. */
  maxSizeBytes: number;
  busyTimeoutMs: number;
  vacuumOnOpen: boolean;
}

/** Thrown when a write would grow the database beyond `max_size`. */
export class StorageFullError extends Error {
  readonly code = 'TAPIO_STORAGE_FULL';
  constructor(file: string, maxSizeBytes: number, options?: { cause?: unknown }) {
    super(`file_storage is full: ${file} reached its max_size of ${maxSizeBytes} bytes; free space by delivering queued data or raise max_size`, options);
    this.name = 'StorageFullError';
  }
}

export class StorageClosedError extends Error {
  readonly code = 'TAPIO_STORAGE_CLOSED';
  constructor(what: string) {
    super(`${what} is closed`);
    this.name = 'StorageClosedError';
  }
}

/**
 * One SQLite database (WAL mode) holding every client's keys in a single table, namespaced by
 * client. better-sqlite3 is synchronous: each call is one short transaction on this thread,
 * which for queue-sized values is faster than hopping to a worker and keeps ordering trivial.
 */
export class SqliteStore {
  private readonly db: Database.Database;
  private readonly stmts: {
    get: Database.Statement<[string, string], { value: Buffer }>;
    set: Database.Statement<[string, string, Buffer | Uint8Array]>;
    del: Database.Statement<[string, string]>;
    keysAll: Database.Statement<[string], { key: string }>;
    keysRange: Database.Statement<[string, string, string], { key: string }>;
  };
  private readonly applyOps: (ns: string, ops: StorageOp[]) => void;
  private closed = false;

  constructor(readonly file: string, private readonly o: StoreOptions) {
    this.db = new Database(file, { timeout: o.busyTimeoutMs });
    // auto_vacuum must be chosen before the first table exists; it is a no-op on an existing file.
    this.db.pragma('auto_vacuum = INCREMENTAL');
    this.db.pragma('journal_mode = WAL');
    this.db.pragma(`synchronous = ${o.synchronous.toUpperCase()}`);
    this.db.exec('CREATE TABLE IF NOT EXISTS kv (ns TEXT NOT NULL, key TEXT NOT NULL, value BLOB NOT NULL, PRIMARY KEY (ns, key)) WITHOUT ROWID');
    if (o.vacuumOnOpen) { this.db.exec('VACUUM'); this.db.pragma('wal_checkpoint(TRUNCATE)'); }
    if (o.maxSizeBytes > 0) {
      const pageSize = this.db.pragma('page_size', { simple: true }) as number;
      // SQLite refuses to allocate pages past this count (SQLITE_FULL); free pages are reused first.
      this.db.pragma(`max_page_count = ${Math.max(1, Math.floor(o.maxSizeBytes / pageSize))}`);
    }
    this.stmts = {
      get: this.db.prepare('SELECT value FROM kv WHERE ns = ? AND key = ?'),
      set: this.db.prepare('INSERT INTO kv (ns, key, value) VALUES (?, ?, ?) ON CONFLICT (ns, key) DO UPDATE SET value = excluded.value'),
      del: this.db.prepare('DELETE FROM kv WHERE ns = ? AND key = ?'),
      keysAll: this.db.prepare('SELECT key FROM kv WHERE ns = ? ORDER BY key'),
      keysRange: this.db.prepare('SELECT key FROM kv WHERE ns = ? AND key >= ? AND key < ? ORDER BY key'),
    };
    this.applyOps = this.db.transaction((ns: string, ops: StorageOp[]) => {
      for (const op of ops) {
        if (op.type === 'set') this.stmts.set.run(ns, op.key, toBuffer(op.value));
        else this.stmts.del.run(ns, op.key);
      }
    });
  }

  get(ns: string, key: string): Buffer | undefined {
    this.check();
    return this.stmts.get.get(ns, key)?.value;
  }

  set(ns: string, key: string, value: Buffer | Uint8Array): void {
    this.check();
    this.write(() => this.stmts.set.run(ns, key, toBuffer(value)));
  }

  delete(ns: string, key: string): void {
    this.check();
    this.write(() => this.stmts.del.run(ns, key));
  }

  batch(ns: string, ops: StorageOp[]): void {
    this.check();
    this.write(() => this.applyOps(ns, ops));
  }

  keys(ns: string, prefix = ''): string[] {
    this.check();
    const rows = prefix ? this.stmts.keysRange.all(ns, prefix, upperBound(prefix)) : this.stmts.keysAll.all(ns);
    return rows.map((r) => r.key);
  }

  /** Returns free pages to the OS and truncates the WAL. */
  compact(): void {
    if (this.closed) return;
    this.db.pragma('incremental_vacuum');
    this.db.pragma('wal_checkpoint(TRUNCATE)');
  }

  /** Full VACUUM (rewrites the database without free pages), then truncates the WAL. */
  vacuum(): void {
    if (this.closed) return;
    this.db.exec('VACUUM');
    this.db.pragma('wal_checkpoint(TRUNCATE)');
  }

  /** Bytes allocated by the database file and bytes of it holding data (allocated minus free pages). */
  usage(): { allocatedBytes: number; dataBytes: number } {
    if (this.closed) return { allocatedBytes: 0, dataBytes: 0 };
    const pageSize = this.db.pragma('page_size', { simple: true }) as number;
    const pages = this.db.pragma('page_count', { simple: true }) as number;
    const free = this.db.pragma('freelist_count', { simple: true }) as number;
    return { allocatedBytes: pages * pageSize, dataBytes: (pages - free) * pageSize };
  }

  /** Bytes the database file uses (pages in use, including free pages not yet returned). */
  sizeBytes(): number {
    if (this.closed) return 0;
    return (this.db.pragma('page_count', { simple: true }) as number) * (this.db.pragma('page_size', { simple: true }) as number);
  }

  integrityCheck(): string {
    return this.db.pragma('integrity_check', { simple: true }) as string;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.db.close();
  }

  private check(): void {
    if (this.closed) throw new StorageClosedError(`file_storage database ${this.file}`);
  }

  private write(fn: () => unknown): void {
    try {
      fn();
    } catch (err) {
      if ((err as { code?: string }).code === 'SQLITE_FULL') throw new StorageFullError(this.file, this.o.maxSizeBytes, { cause: err });
      throw err;
    }
  }
}

/** A client bound to one namespace; its methods wrap the synchronous store in promises. */
export class NamespacedClient implements StorageClient {
  private closed = false;

  constructor(private readonly store: SqliteStore, readonly namespace: string) {}

  get(key: string): Promise<Buffer | undefined> { return this.run(() => this.store.get(this.namespace, key)); }
  set(key: string, value: Buffer | Uint8Array): Promise<void> { return this.run(() => this.store.set(this.namespace, key, value)); }
  delete(key: string): Promise<void> { return this.run(() => this.store.delete(this.namespace, key)); }
  batch(ops: StorageOp[]): Promise<void> { return this.run(() => this.store.batch(this.namespace, ops)); }
  keys(prefix?: string): Promise<string[]> { return this.run(() => this.store.keys(this.namespace, prefix)); }

  close(): Promise<void> {
    this.closed = true;
    return Promise.resolve();
  }

  private run<T>(fn: () => T): Promise<T> {
    if (this.closed) return Promise.reject(new StorageClosedError(`storage client "${this.namespace}"`));
    try { return Promise.resolve(fn()); } catch (err) { return Promise.reject(err); }
  }
}

function toBuffer(v: Buffer | Uint8Array): Buffer {
  return Buffer.isBuffer(v) ? v : Buffer.from(v.buffer, v.byteOffset, v.byteLength);
}

/** The smallest string greater than every string that starts with `prefix`. */
function upperBound(prefix: string): string {
  const last = prefix.charCodeAt(prefix.length - 1);
  return prefix.slice(0, -1) + String.fromCharCode(last + 1);
}
