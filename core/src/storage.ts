/**
 * The storage contract (implemented by extensions/storage, config type `file_storage`).
 * Components ask the host for the extension named in their config and open a client of their
 * own; keys are private to that client. Used by persistent queues and filelog checkpoints.
 */
export interface StorageClient {
  get(key: string): Promise<Buffer | undefined>;
  set(key: string, value: Buffer | Uint8Array): Promise<void>;
  delete(key: string): Promise<void>;
  /** Several operations applied atomically (all or none), durably per the fsync policy. */
  batch(ops: StorageOp[]): Promise<void>;
  /** Keys with this prefix, in lexicographic order (for queues and scans). */
  keys(prefix?: string): Promise<string[]>;
  close(): Promise<void>;
}

export type StorageOp =
  | { type: 'set'; key: string; value: Buffer | Uint8Array }
  | { type: 'delete'; key: string };

export interface StorageExtension {
  /** A client for one component (`kind`, `id`) and an optional sub-name (e.g. a queue per signal). */
  getClient(kind: string, componentId: string, name?: string): Promise<StorageClient>;
}

export function isStorageExtension(x: unknown): x is StorageExtension {
  return typeof x === 'object' && x !== null && typeof (x as StorageExtension).getClient === 'function';
}
