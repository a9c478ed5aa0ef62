import Database from 'better-sqlite3';

/**
 * The claim of one collector on a storage database, as bbolt's file lock in the Collector: two
 * collectors sharing a directory (a rolling update on one hostPath volume) would both replay the
 * same persistent queue and checkpoints. Held as an open EXCLUSIVE transaction on `<db>.lock`,
 * a small SQLite file: SQLite's fcntl locks are released by the kernel when the process dies
 * (kill -9 leaves no stale lock), conflict between connections of one process too, and the
 * database itself stays readable by inspection tools.
 */
export class StorageLock {
  private constructor(private readonly db: Database.Database) {}

  /** Takes the lock, waiting up to `timeoutMs` for another holder; throws naming both files when it stays taken. */
  static acquire(databaseFile: string, timeoutMs: number): StorageLock {
    const lockFile = `${databaseFile}.lock`;
    const db = new Database(lockFile, { timeout: timeoutMs });
    try {
      db.pragma('locking_mode = EXCLUSIVE');
      db.exec('BEGIN EXCLUSIVE');
    } catch (err) {
      db.close();
      if ((err as { code?: string }).code === 'SQLITE_BUSY') {
        throw new Error(`file_storage: ${databaseFile} is in use by another collector (${lockFile} stayed locked for the whole timeout of ${timeoutMs} ms); collectors cannot share a storage directory`);
      }
      throw err;
    }
    return new StorageLock(db);
  }

  release(): void {
    if (this.db.open) this.db.close();
  }
}
