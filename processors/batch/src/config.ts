import type { JsonSchema } from '@tapio/core';

/** Option names and defaults as in the OpenTelemetry Collector's batch processor. */
export interface BatchConfig {
  /** Send as soon as this many events are buffered. */
  send_batch_size: number;
  /** Send whatever is buffered this long after the first event arrived; 0s: send immediately. */
  timeout: string;
  /** Upper bound of a sent batch; larger ones are split. 0: no limit. */
  send_batch_max_size: number;
}

export const configSchema: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    send_batch_size: { type: 'integer', minimum: 1, default: 8192 },
    timeout: { type: 'string', format: 'duration', default: '200ms' },
    send_batch_max_size: { type: 'integer', minimum: 0, default: 0, description: '0: no limit; otherwise at least send_batch_size' },
  },
};

export function createDefaultConfig(): BatchConfig {
  return { send_batch_size: 8192, timeout: '200ms', send_batch_max_size: 0 };
}

/** Checks what JSON Schema cannot express. */
export function checkConfig(c: BatchConfig): void {
  if (c.send_batch_max_size > 0 && c.send_batch_max_size < c.send_batch_size) {
    throw new Error(`send_batch_max_size (${c.send_batch_max_size}) must be 0 or at least send_batch_size (${c.send_batch_size})`);
  }
}
