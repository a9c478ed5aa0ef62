import type { Batch, UnifiedEvent } from '../event/types';
import { encodeBatch } from '../event/codec';
import type { SizerType } from './settings';

/**
 * How `sending_queue.sizer` and `sending_queue.batch.sizer` measure a batch.
 * - requests: 1 per batch handed to consume().
 * - items: its events.
 * - bytes: the length of its tapio.v1 protobuf encoding, i.e. exactly what a persistent queue
 *   stores. (The Collector counts the OTLP protobuf size; both are "the serialized request".)
 *   An in-memory queue has to encode each batch once to learn it, which is why, as in the
 *   Collector, `bytes` is the least performant sizer. The encoding of a batch is the
 *   concatenation of its events' records, so sizes of merged batches simply add up.
 */
export function sizeOf(sizer: SizerType, batch: Batch, encodedBytes?: number): number {
  switch (sizer) {
    case 'requests': return 1;
    case 'items': return batch.events.length;
    case 'bytes': return encodedBytes ?? encodeBatch(batch).length;
  }
}

/** Byte sizes of single events (their records in a batch encoding); only needed to split by bytes. */
export function eventByteSizes(events: readonly UnifiedEvent[]): number[] {
  const out = new Array<number>(events.length);
  for (let i = 0; i < events.length; i++) out[i] = encodeBatch({ events: [events[i]!] }).length;
  return out;
}
