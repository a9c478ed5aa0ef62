import { PermanentError, type Batch, type ComponentContext, type Consumer, type Processor } from '@tapio/core';
import { Shard, type BatcherSettings, type Metadata, type ShardCounters } from './shard';

export interface BatchProcessorSettings extends BatcherSettings {
  /** Lower-cased client-metadata keys; empty: one shard for everything. */
  metadataKeys: string[];
  /** 0: no limit. */
  metadataCardinalityLimit: number;
}

/**
 * The batch processor. Without `metadata_keys` one shard holds the pending batch. With them,
 * as the Collector, every distinct combination of those keys' values gets its own shard (own
 * pending batch, own timer) for the rest of the process lifetime, and what a shard sends carries
 * just those keys as metadata, so an exporter downstream can act per tenant.
 */
export class BatchProcessor implements Processor {
  readonly capabilities = { mutatesData: false };
  private readonly counters: ShardCounters;
  private readonly single: Shard | undefined;
  private readonly shards = new Map<string, Shard>();
  private readonly refusedForCardinality: (n: number) => void;

  constructor(ctx: ComponentContext, private readonly s: BatchProcessorSettings, private readonly next: Consumer) {
    this.counters = {
      sizeTriggered: ctx.telemetry.counter('tapio_processor_batch_size_trigger_send', 'Batches sent because send_batch_size was reached'),
      timeoutTriggered: ctx.telemetry.counter('tapio_processor_batch_timeout_trigger_send', 'Batches sent because the timeout expired'),
      sentEvents: ctx.telemetry.counter('tapio_processor_batch_sent_events', 'Events the batch processor handed on'),
      dropped: droppedCounter(ctx),
    };
    this.refusedForCardinality = ctx.telemetry.counter(
      'tapio_processor_batch_metadata_cardinality_refused',
      'Batches refused because their metadata_keys values would exceed metadata_cardinality_limit',
    );
    if (s.metadataKeys.length === 0) this.single = new Shard(this.counters, s, next);
    else ctx.telemetry.gauge('tapio_processor_batch_metadata_cardinality', 'Distinct metadata_keys value combinations (shards) in use', () => this.shards.size);
  }

  async start(): Promise<void> {}

  consume(batch: Batch): Promise<void> {
    if (this.single) return this.single.consume(batch);
    const picked = pickMetadata(batch.metadata, this.s.metadataKeys);
    const key = JSON.stringify(this.s.metadataKeys.map((k) => picked[k] ?? null));
    let shard = this.shards.get(key);
    if (!shard) {
      const limit = this.s.metadataCardinalityLimit;
      if (limit > 0 && this.shards.size >= limit) {
        this.refusedForCardinality(1);
        return Promise.reject(new PermanentError(`too many batcher metadata-value combinations: metadata_cardinality_limit (${limit}) reached`));
      }
      shard = new Shard(this.counters, this.s, this.next, picked);
      this.shards.set(key, shard);
    }
    return shard.consume(batch);
  }

  /** Flushes every shard and waits for what is in flight. Idempotent. */
  async shutdown(): Promise<void> {
    await Promise.all([this.single, ...this.shards.values()].map((s) => s?.shutdown()));
  }
}

/**
 * Counts (tapio_processor_batch_dropped_events) and logs events downstream refused after their
 * callers had been answered; the log says why, at most once per DROP_LOG_INTERVAL_MS.
 */
function droppedCounter(ctx: ComponentContext): (n: number, err: unknown) => void {
  const count = ctx.telemetry.counter('tapio_processor_batch_dropped_events', 'Events refused downstream after the batch processor had acknowledged them (wait_for_result: false)');
  let lastLog = 0;
  let unlogged = 0;
  return (n, err) => {
    count(n);
    unlogged += n;
    const now = Date.now();
    if (now - lastLog < DROP_LOG_INTERVAL_MS) return;
    lastLog = now;
    ctx.logger.error({ dropped: unlogged, err: err instanceof Error ? err.message : String(err) }, 'downstream refused a batch; its events were already acknowledged and are dropped (wait_for_result: true hands refusals to the sender instead)');
    unlogged = 0;
  };
}

const DROP_LOG_INTERVAL_MS = 10_000;

/**
 * The values of `keys` (lower case) in `metadata`, matching its names case-insensitively. A key
 * that is absent stays absent, so "unset" and "set to an empty string" are different shards (as
 * in the Collector).
 */
function pickMetadata(metadata: Metadata | undefined, keys: string[]): Record<string, readonly string[]> {
  const picked: Record<string, readonly string[]> = {};
  if (!metadata) return picked;
  for (const [name, values] of Object.entries(metadata)) {
    const lower = name.toLowerCase();
    if (keys.includes(lower) && picked[lower] === undefined) picked[lower] = values;
  }
  return picked;
}
