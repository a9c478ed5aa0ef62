import type { UnifiedEvent } from '../event/types';
import { defineProcessor } from './define';
import type { ComponentContext, Consumer, JsonSchema, Processor, ProcessorFactory, Signal, Stability } from './types';

export interface SimpleProcessorOptions<C> {
  type: string;
  stability: Partial<Record<Signal, Stability>> | Stability;
  configSchema: JsonSchema;
  createDefaultConfig?(): C;
  /** Set when `process` changes events in place (the runtime then copies on fan-out). */
  mutatesData: boolean;
  /**
   * Called once per component with its config; returns the per-batch function. Return the
   * events to pass on (the same array, a filtered one, or a new one); an empty array stops the
   * batch. Kept per batch, not per event, so the hot path has no per-event closure.
   */
  setup(ctx: ComponentContext, config: C): (events: UnifiedEvent[]) => UnifiedEvent[];
}

/** A processor in one function, like the Collector's processorhelper. */
export function defineSimpleProcessor<C>(o: SimpleProcessorOptions<C>): ProcessorFactory<C> {
  return defineProcessor<C>({
    type: o.type,
    stability: o.stability,
    configSchema: o.configSchema,
    createDefaultConfig: o.createDefaultConfig,
    create(ctx: ComponentContext, config: C, next: Consumer): Processor {
      const fn = o.setup(ctx, config);
      return {
        capabilities: { mutatesData: o.mutatesData },
        async start() {},
        async shutdown() {},
        consume(batch) {
          const out = fn(batch.events);
          const dropped = batch.events.length - out.length;
          if (dropped > 0) ctx.telemetry.dropped(dropped, 'filtered');
          if (!out.length) return Promise.resolve();
          return next.consume(out === batch.events ? batch : { events: out });
        },
      };
    },
  });
}
