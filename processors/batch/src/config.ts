import type { JsonSchema } from '@tapio/core';

/** Option names and defaults as in the OpenTelemetry Collector's batch processor. */
export interface BatchConfig {
  /** Send as soon as this many events are buffered; 0: no buffering, send every batch at once (only split). */
  send_batch_size: number;
  /** Send whatever is buffered this long after the first event arrived; 0s: send immediately. */
  timeout: string;
  /** Upper bound of a sent batch; larger ones are split. 0: no limit. */
  send_batch_max_size: number;
  /** Client-metadata keys (request headers, case-insensitive) whose values keep batches apart. */
  metadata_keys?: string[];
  /** Most distinct value combinations of metadata_keys over the process lifetime; 0: no limit. */
  metadata_cardinality_limit: number;
  /** Tapio extension: answer callers only once their events were accepted downstream (see shard.ts). */
  wait_for_result: boolean;
}

export const configSchema: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    send_batch_size: {
      type: 'integer', minimum: 0, default: 8192,
      description: '0: no size trigger and no buffering — every incoming batch is sent at once, split by send_batch_max_size (as the Collector)',
    },
    timeout: { type: 'string', format: 'duration', default: '200ms' },
    send_batch_max_size: { type: 'integer', minimum: 0, default: 0, description: '0: no limit; otherwise at least send_batch_size' },
    metadata_keys: {
      type: 'array', items: { type: 'string', minLength: 1 },
      description: 'one pending batch per distinct combination of these client-metadata values (receiver include_metadata: true); keys are case-insensitive',
    },
    wait_for_result: {
      type: 'boolean', default: false,
      description: 'Tapio extension. false (as the Collector): callers are answered once their events are buffered; a later downstream refusal is counted in tapio_processor_batch_dropped_events. true: answered only when downstream accepted them (refusals reach the client; nothing acknowledged before it is in the exporter queue), so each call waits for its batch to leave',
    },
    metadata_cardinality_limit: {
      type: 'integer', minimum: 0, default: 1000,
      description: 'with metadata_keys: most distinct value combinations; data with a new combination past it is refused permanently. 0: no limit',
    },
  },
};

export function createDefaultConfig(): BatchConfig {
  return { send_batch_size: 8192, timeout: '200ms', send_batch_max_size: 0, metadata_cardinality_limit: 1000, wait_for_result: false };
}

/** Checks what JSON Schema cannot express. */
export function checkConfig(c: BatchConfig): void {
  if (c.send_batch_max_size > 0 && c.send_batch_max_size < c.send_batch_size) {
    throw new Error(`send_batch_max_size (${c.send_batch_max_size}) must be 0 or at least send_batch_size (${c.send_batch_size})`);
  }
  const seen = new Set<string>();
  for (const k of c.metadata_keys ?? []) {
    const lower = k.toLowerCase();
    if (seen.has(lower)) throw new Error(`duplicate entry in metadata_keys: "${lower}" (keys are case-insensitive)`);
    seen.add(lower);
  }
}
