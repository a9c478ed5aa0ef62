import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Consumer } from '@tapio/core';
import { SinkConsumer, testContext, testHost, validConfig, TestStorageExtension } from '@tapio/core/testing';
import factory, { FilelogReceiver, type FilelogConfig } from '../src/index';

export { TestStorageClient, TestStorageExtension } from '@tapio/core/testing';

export function tempDir(prefix = 'filelog-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export interface Running {
  receiver: FilelogReceiver;
  sink: SinkConsumer;
  stop(): Promise<void>;
}

/** Starts a receiver with fast polling on a config override; the caller stops it. */
export async function run(overrides: Partial<FilelogConfig> & Record<string, unknown>, opts: { storage?: TestStorageExtension; sink?: SinkConsumer; next?: Consumer } = {}): Promise<Running> {
  const sink = opts.sink ?? new SinkConsumer();
  const cfg = validConfig<FilelogConfig>(factory, { poll_interval: '20ms', start_at: 'beginning', force_flush_period: '100ms', ...overrides, ...(opts.storage ? { storage: 'file_storage' } : {}) });
  const receiver = new FilelogReceiver(testContext('filelog', 'receiver'), cfg, opts.next ?? sink);
  await receiver.start(testHost(opts.storage ? { file_storage: opts.storage } : {}));
  return { receiver, sink, stop: () => receiver.shutdown() };
}

export function bodies(sink: SinkConsumer): string[] {
  return sink.events.map((e) => String(e.log?.body));
}

/** Resolves once `check` is true, polling every 10 ms; rejects with `what` after the timeout. */
export async function until(check: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const t0 = Date.now();
  while (!check()) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
