import { createSendingExporter, defineExporter, parseByteSize, parseDuration, PermanentError, type Host } from '@tapio/core';
import { ApiService, isTapioStoreSink, type TapioStoreSink } from '@tapio/extension-api';

export interface TapioExporterConfig {
  /** Id of the tapio_api extension whose store (and live streams) receive the events. */
  api: string;
  /** Instead of an extension: a store file of the exporter's own (no live streams). */
  store?: { path: string; retention: string; max_events: number; max_size: string; max_incidents: number };
}

export default defineExporter<TapioExporterConfig>({
  type: 'tapio',
  stability: { traces: 'alpha', metrics: 'alpha', logs: 'alpha', events: 'alpha' },
  configSchema: {
    type: 'object',
    additionalProperties: false,
    properties: {
      api: { type: 'string', default: 'tapio_api', description: 'id of the tapio_api extension to write into' },
      store: {
        type: 'object', additionalProperties: false, required: ['path'],
        description: 'write to a store file directly instead of through the extension',
        properties: {
          path: { type: 'string' },
          retention: { type: 'string', format: 'duration', default: '168h' },
          max_events: { type: 'integer', minimum: 1, default: 1_000_000 },
          max_size: { type: 'string', format: 'byte-size', default: '512MiB' },
          max_incidents: { type: 'integer', minimum: 1, default: 10_000 },
        },
      },
    },
  },
  createDefaultConfig: () => ({ api: 'tapio_api' }),
  create(ctx, config) {
    let sink: TapioStoreSink | undefined;
    let own: ApiService | undefined;
    return createSendingExporter(ctx, {
      async start(host: Host) {
        if (config.store) {
          const s = config.store;
          own = ApiService.open(
            { path: s.path, retentionMs: parseDuration(s.retention ?? '168h'), maxEvents: s.max_events ?? 1_000_000, maxBytes: parseByteSize(s.max_size ?? '512MiB'), maxIncidents: s.max_incidents ?? 10_000 },
            1000, { maxClients: 1, queueSize: 1 }, ctx,
          );
          sink = own;
          return;
        }
        const ext = host.getExtension(config.api);
        if (!ext) throw new Error(`exporters.${ctx.id}: extension '${config.api}' is not configured; add it under extensions: and service.extensions (or set store.path)`);
        if (!isTapioStoreSink(ext)) throw new Error(`exporters.${ctx.id}: extension '${config.api}' is not a tapio_api extension`);
        sink = ext;
      },
      async send(batch) {
        if (!sink) throw new PermanentError('tapio exporter is not started');
        // One SQLite transaction per batch; a failure here (disk full, corrupt file) will not heal by retrying.
        try { sink.ingest(batch.events); } catch (err) { throw new PermanentError(`could not store ${batch.events.length} events: ${(err as Error).message}`, { cause: err }); }
      },
      async shutdown() {
        own?.close();
        own = undefined;
      },
      retry: { enabled: false },
    });
  },
});
