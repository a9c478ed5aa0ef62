import { createSendingExporter, defineExporter, parseDuration } from '@tapio/core';
import { configSchema, createDefaultConfig, type FileExporterConfig, type RotationConfig } from './config';
import { FileWriter } from './exporter';
import { jsonLines, otlpJsonLines, type LineEncoder } from './format';
import { RotatingFile } from './rotating-file';

export { FileWriter, RotatingFile, configSchema, createDefaultConfig, jsonLines, otlpJsonLines };
export type { FileExporterConfig, LineEncoder, RotationConfig };

export default defineExporter<FileExporterConfig>({
  type: 'file',
  stability: { traces: 'beta', metrics: 'beta', logs: 'beta', events: 'beta' },
  configSchema,
  createDefaultConfig,
  create(ctx, config) {
    const encode = config.format === 'otlp_json' ? otlpJsonLines() : jsonLines;
    const writer = new FileWriter(ctx, new RotatingFile(config.path, config.rotation), encode, config.compression === 'gzip', parseDuration(config.flush_interval));
    return createSendingExporter(ctx, {
      send: (batch) => writer.send(batch),
      start: () => writer.start(),
      shutdown: () => writer.close(),
      retry: config.retry_on_failure,
      queue: config.sending_queue,
    });
  },
});
