import { TOPOLOGY_SERVICE, type Batch, type ComponentContext, type Consumer, type Host, type Processor, type TopologyService } from '@tapio/core';
import { CorrelationEngine } from './engine/engine';
import { engineSettings, type CorrelationConfig } from './config';

/**
 * The correlation processor: feeds every batch to the engine and appends the incidents and
 * predictions it produces (kind `correlation`) to the batch it forwards. The engine is
 * synchronous and event-time driven, so back-pressure is simply the downstream promise.
 */
export class CorrelationProcessor implements Processor {
  readonly capabilities = { mutatesData: false };
  readonly engine: CorrelationEngine;
  private stopped = false;
  private readonly countIncidents: (n: number) => void;
  private readonly countEvicted: (n: number) => void;
  private lastEvicted = 0;

  constructor(private readonly ctx: ComponentContext, private readonly config: CorrelationConfig, private readonly next: Consumer) {
    this.engine = new CorrelationEngine(engineSettings(config));
    this.countIncidents = ctx.telemetry.counter('tapio_correlation_incident_updates_total', 'Incident updates emitted');
    this.countEvicted = ctx.telemetry.counter('tapio_correlation_evicted_total', 'Spans, features, entities or discrete events evicted by the memory bounds');
    ctx.telemetry.gauge('tapio_correlation_window_spans', 'Spans held in the correlation window', () => this.engine.heldSpans);
    ctx.telemetry.gauge('tapio_correlation_features', 'Feature baselines held', () => this.engine.heldFeatures);
  }

  async start(host: Host): Promise<void> {
    host.onService<TopologyService>(TOPOLOGY_SERVICE, (topo) => { this.engine.entities.topology = topo; });
  }

  async consume(batch: Batch): Promise<void> {
    const lateBefore = this.engine.counters.late;
    const produced = this.engine.ingest(batch.events);
    this.account(lateBefore);
    if (produced.length) this.countIncidents(produced.length);
    const events = this.config.pass_through ? (produced.length ? batch.events.concat(produced) : batch.events) : produced;
    if (!events.length) return;
    await this.next.consume(events === batch.events ? batch : { events });
  }

  private account(lateBefore: number): void {
    const c = this.engine.counters;
    const late = c.late - lateBefore;
    if (late > 0) this.ctx.telemetry.dropped(late, 'late');
    const evicted = c.evictedSpans + c.evictedFeatures + c.evictedDiscrete + c.evictedEntities;
    if (evicted > this.lastEvicted) { this.countEvicted(evicted - this.lastEvicted); this.lastEvicted = evicted; }
  }

  async shutdown(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    // Final states of open incidents flow downstream before the exporters stop.
    const produced = this.engine.flush();
    if (produced.length) { this.countIncidents(produced.length); await this.next.consume({ events: produced }); }
  }
}

export function createCorrelationProcessor(ctx: ComponentContext, config: CorrelationConfig, next: Consumer): CorrelationProcessor {
  return new CorrelationProcessor(ctx, config, next);
}
