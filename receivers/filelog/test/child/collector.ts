/**
 * Child process for the kill -9 test: a real Collector running
 *   filelog (checkpoints in file_storage) → the project's `file` exporter with `storage` (its delivery
 *   ledger in the same file_storage), loaded from exporters/file/dist at run time.
 * argv: <work dir> <storage: real|double>
 *   real   — the project's file_storage extension (extensions/storage, SQLite), loaded at run time;
 *   double — TEST DOUBLE: a file-backed StorageClient from ../helpers (JSON file, write + rename).
 * Prints "ready" once the pipeline runs; SIGTERM shuts it down gracefully.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Collector, createLogger, defineExtension, type AnyFactory } from '@tapio/core';
import { resolveYaml } from '@tapio/core/testing';
import filelog from '../../src/index';
import { TestStorageClient, TestStorageExtension } from '../helpers';

const [workDir, storageMode] = process.argv.slice(2) as [string, 'real' | 'double'];
export const REPO_ROOT = path.resolve(__dirname, '../../../../..');

/** TEST DOUBLE, used only when extensions/storage is not built: same contract, JSON file on disk. */
const storageDouble = defineExtension<{ directory: string }>({
  type: 'file_storage',
  stability: 'development',
  configSchema: { type: 'object', additionalProperties: false, properties: { directory: { type: 'string' } } },
  create(_ctx, config) {
    fs.mkdirSync(config.directory, { recursive: true });
    return new TestStorageExtension(new TestStorageClient(path.join(config.directory, 'filelog-double.json')));
  },
});

function storageFactory(): AnyFactory {
  if (storageMode === 'double') return storageDouble;
  const mod = require(path.join(REPO_ROOT, 'extensions/storage/dist/src/index.js')) as { default: AnyFactory };
  return mod.default;
}

function fileExporterFactory(): AnyFactory {
  return (require(path.join(REPO_ROOT, 'exporters/file/dist/src/index.js')) as { default: AnyFactory }).default;
}

async function main(): Promise<void> {
  // file_storage does not create its directory unless told to (as the Collector); the double neither
  fs.mkdirSync(path.join(workDir, 'storage'), { recursive: true });
  const { config, issues } = resolveYaml(`
extensions:
  file_storage: { directory: ${JSON.stringify(path.join(workDir, 'storage'))} }
receivers:
  filelog:
    include: [${JSON.stringify(path.join(workDir, 'logs', '*.log'))}]
    start_at: beginning
    storage: file_storage
    poll_interval: 20ms
    max_batch_size: 500
exporters:
  file: { path: ${JSON.stringify(path.join(workDir, 'out.jsonl'))}, storage: file_storage }
service:
  extensions: [file_storage]
  telemetry: { metrics: { address: "localhost:0" } }
  pipelines: { logs: { receivers: [filelog], exporters: [file] } }
`, [filelog, fileExporterFactory(), storageFactory()]);
  if (!config) throw new Error(issues.map((i) => `${i.path}: ${i.message}`).join('; '));
  const collector = new Collector({ logger: createLogger('info') });
  await collector.start(config);
  process.on('SIGTERM', () => { collector.shutdown().then(() => process.exit(0), () => process.exit(1)); });
  process.stdout.write('ready\n');
}

main().catch((err: Error) => { process.stderr.write(`${err.stack}\n`); process.exit(1); });
