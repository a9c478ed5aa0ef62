import { createSendingExporter, defineExporter, parseDuration, queueConfigIssues, queueSettings } from '@tapio/core';
import { configIssues, configSchema, createDefaultConfig, type FileExporterConfig, type GroupByConfig, type RotationConfig } from './config';
import { CommittedFileWriter } from './committed-writer';
import { FileWriter } from './exporter';
import { jsonLines, otlpJsonLines, otlpProtoFrames, type LineEncoder } from './format';
import { GroupingWriter } from './grouping-writer';
import { RotatingFile } from './rotating-file';
import { zstdMessages } from './zstd-messages';

export { CommittedFileWriter, FileWriter, GroupingWriter, RotatingFile, configSchema, createDefaultConfig, jsonLines, otlpJsonLines, otlpProtoFrames, zstdMessages };
export type { FileExporterConfig, GroupByConfig, LineEncoder, RotationConfig };

/** What a batch is written as; with zstd also the promise of its WASM being compiled (awaited at start). */
function encoderFor(format: FileExporterConfig['format'], compression: FileExporterConfig['compression']): { encode: LineEncoder; ready?: Promise<void> } {
  if (compression === 'zstd') return zstdMessages(format);
  return { encode: lineEncoder(format) };
}

/** The file exporter's own rules (see configIssues), with the queue's consumer count they depend on. */
function fileRuleIssues(config: FileExporterConfig): ReturnType<typeof configIssues> {
  return configIssues(config, config.sending_queue ? queueSettings(config.sending_queue).numConsumers : 1);
}

function lineEncoder(format: FileExporterConfig['format']): LineEncoder {
  switch (format) {
    case 'otlp_json': return otlpJsonLines();
    case 'proto': return otlpProtoFrames();
    case 'json': return jsonLines;
  }
}

export default defineExporter<FileExporterConfig>({
  type: 'file',
  stability: { traces: 'beta', metrics: 'beta', logs: 'beta', events: 'beta' },
  configSchema,
  createDefaultConfig,
  validate(config) {
    return [...fileRuleIssues(config), ...queueConfigIssues(config.sending_queue)];
  },
  create(ctx, config) {
    // checked again for configs that did not come through validation (createSendingExporter checks the queue's)
    const problems = fileRuleIssues(config);
    if (problems.length) throw new Error(`file exporter: ${problems.map((p) => `${p.path.join('.')}: ${p.message}`).join('; ')}`);
    const { encode, ready } = encoderFor(config.format, config.compression);
    const compress = config.compression === 'gzip'; // file-level; zstd is per message, in `encode`
    const flushIntervalMs = parseDuration(config.flush_interval);
    // As the Collector: a file starts empty unless `append`; rotation (lumberjack there) and the
    // exactly-once ledger always continue it.
    const truncate = config.append !== true && !config.rotation && !config.storage;
    const writer = config.group_by?.enabled
      ? new GroupingWriter(ctx, encode, {
        pattern: config.path, attribute: config.group_by.resource_attribute, maxOpenFiles: config.group_by.max_open_files,
        compress, flushIntervalMs, truncate,
      })
      : config.storage
        ? new CommittedFileWriter(ctx, new RotatingFile(config.path, config.rotation), encode, compress, config.storage)
        : new FileWriter(ctx, new RotatingFile(config.path, config.rotation), encode, compress, flushIntervalMs, truncate);
    return createSendingExporter(ctx, {
      send: (batch) => writer.send(batch),
      start: async (host) => { await ready; await writer.start(host); },
      shutdown: () => writer.close(),
      retry: config.retry_on_failure,
      queue: config.sending_queue,
    });
  },
});
