import { cloneEvents } from '../event/builder';
import { withEvents } from './router';
import type { Batch } from '../event/types';
import type { Consumer } from '../component/types';

export interface FanOutTarget {
  consumer: Consumer;
  mutatesData: boolean;
}

/**
 * Sends one batch to several consumers at once. Consumers that mutate data get their own
 * deep copy, so what one pipeline or exporter changes is never seen by another; read-only
 * consumers share the original. Rejects if any target rejects (the caller may retry; targets
 * that succeeded then see the data again — at-least-once, as in the OpenTelemetry Collector).
 */
export class FanOutConsumer implements Consumer {
  readonly mutatesData = false;
  private readonly targets: FanOutTarget[];

  constructor(targets: FanOutTarget[]) {
    this.targets = targets;
  }

  consume(batch: Batch): Promise<void> {
    const t = this.targets;
    if (t.length === 1) return t[0]!.consumer.consume(batch);
    const promises: Promise<void>[] = new Array(t.length);
    for (let i = 0; i < t.length; i++) {
      const target = t[i]!;
      promises[i] = target.consumer.consume(target.mutatesData ? withEvents(batch, cloneEvents(batch.events)) : batch);
    }
    return Promise.all(promises).then(() => undefined);
  }
}
