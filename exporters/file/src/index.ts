import { createSendingExporter, defineExporter, parseDuration, queueSettings } from '@tapio/core';
import { configSchema, createDefaultConfig, type FileExporterConfig, type RotationConfig } from './config';
import { CommittedFileWriter } from './committed-writer';
import { FileWriter } from './exporter';
import { jsonLines, otlpJsonLines, type LineEncoder } from './format';
import { RotatingFile } from './rotating-file';

export { CommittedFileWriter, FileWriter, RotatingFile, configSchema, createDefaultConfig, jsonLines, otlpJsonLines };
export type { FileExporterConfig, LineEncoder, RotationConfig };

export default defineExporter<FileExporterConfig>({
  type: 'file',
  stability: { traces: 'beta', metrics: 'beta', logs: 'beta', events: 'beta' },
  configSchema,
  createDefaultConfig,
  validate(config) {
    const q = config.sending_queue;
    // The ledger needs each stream in order; several queue consumers would reorder batches.
    if (config.storage && q?.enabled && queueSettings(q).numConsumers > 1) {
      return [{ path: ['sending_queue', 'num_consumers'], message: 'must be 1 when storage is set (exactly-once output needs batches in order)' }];
    }
    return [];
  },
  create(ctx, config) {
    const encode = config.format === 'otlp_json' ? otlpJsonLines() : jsonLines;
    const file = new RotatingFile(config.path, config.rotation);
    const compress = config.compression === 'gzip';
    const writer = config.storage
      ? new CommittedFileWriter(ctx, file, encode, compress, config.storage)
      : new FileWriter(ctx, file, encode, compress, parseDuration(config.flush_interval));
    return createSendingExporter(ctx, {
      send: (batch) => writer.send(batch),
      start: (host) => writer.start(host),
      shutdown: () => writer.close(),
      retry: config.retry_on_failure,
      queue: config.sending_queue,
    });
  },
});
