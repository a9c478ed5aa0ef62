/**
 * Child process for the kill -9 test: a real Collector running
 *   filelog (checkpoints in file_storage) → exporter "appendfile" (appends JSON lines to a file).
 * argv: <work dir> <storage: real|double>
 *   real   — the project's file_storage extension (extensions/storage, SQLite), loaded at run time;
 *   double — TEST DOUBLE: a file-backed StorageClient from ../helpers (JSON file, write + rename).
 * Prints "ready" once the pipeline runs; SIGTERM shuts it down gracefully.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Collector, createLogger, defineExporter, defineExtension, type AnyFactory, type Batch } from '@tapio/core';
import { resolveYaml } from '@tapio/core/testing';
import filelog from '../../src/index';
import { TestStorageClient, TestStorageExtension } from '../helpers';

const [workDir, storageMode] = process.argv.slice(2) as [string, 'real' | 'double'];
export const REPO_ROOT = path.resolve(__dirname, '../../../../..');

/**
 * Appends one JSON line per event ({id, body}). Idempotent by event id, as a sink must be for
 * end-to-end exactly-once over an at-least-once source: an event id it already holds (a replay of
 * the last batch after a crash between delivery and checkpoint) is written with `replay: true`,
 * so the test can both count replays and check the de-duplicated output.
 */
const appendFile = defineExporter<{ path: string }>({
  type: 'appendfile',
  stability: 'development',
  configSchema: { type: 'object', additionalProperties: false, required: ['path'], properties: { path: { type: 'string' } } },
  create(_ctx, config) {
    const seen = new Set<string>();
    if (fs.existsSync(config.path)) {
      let text = fs.readFileSync(config.path, 'utf8');
      // A write cut short by the kill leaves a partial last line: drop it, it was never acknowledged.
      const end = text.lastIndexOf('\n') + 1;
      if (end < text.length) { fs.truncateSync(config.path, end); text = text.slice(0, end); }
      for (const line of text.split('\n')) if (line) seen.add((JSON.parse(line) as { id: string }).id);
    }
    return {
      async start() {},
      async shutdown() {},
      async consume(batch: Batch) {
        let out = '';
        for (const e of batch.events) {
          const replay = seen.has(e.id);
          seen.add(e.id);
          out += JSON.stringify(replay ? { id: e.id, body: e.log?.body, replay } : { id: e.id, body: e.log?.body }) + '\n';
        }
        fs.appendFileSync(config.path, out);
      },
    };
  },
});

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

async function main(): Promise<void> {
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
  appendfile: { path: ${JSON.stringify(path.join(workDir, 'out.jsonl'))} }
service:
  extensions: [file_storage]
  telemetry: { metrics: { address: "localhost:0" } }
  pipelines: { logs: { receivers: [filelog], exporters: [appendfile] } }
`, [filelog, appendFile, storageFactory()]);
  if (!config) throw new Error(issues.map((i) => `${i.path}: ${i.message}`).join('; '));
  const collector = new Collector({ logger: createLogger('warn') });
  await collector.start(config);
  process.on('SIGTERM', () => { collector.shutdown().then(() => process.exit(0), () => process.exit(1)); });
  process.stdout.write('ready\n');
}

main().catch((err: Error) => { process.stderr.write(`${err.stack}\n`); process.exit(1); });
