import { TOPOLOGY_SERVICE, type Batch, type ComponentContext, type Consumer, type Host, type Processor, type TopologyService } from '@tapio/core';
import type { ImpactConfig } from './config';
import { ImpactModel } from './model';

export class ImpactProcessor implements Processor {
  readonly capabilities = { mutatesData: true };
  readonly model: ImpactModel;
  private host?: Host;
  private topologyFound = false;
  private readonly countScored: (n: number) => void;
  private readonly countFailed: (n: number) => void;

  constructor(private readonly ctx: ComponentContext, cfg: ImpactConfig, private readonly next: Consumer) {
    this.model = new ImpactModel(cfg);
    const t = ctx.telemetry;
    this.countScored = t.counter('tapio_impact_scored_events', 'Events given an impact score');
    this.countFailed = t.counter('tapio_impact_failed_events', 'Events whose scoring threw; passed on unscored');
    t.gauge('tapio_impact_tracked_services', 'Services with request windows in memory', () => this.model.trackedServices);
    t.gauge('tapio_impact_call_graph_edges', 'Caller → callee edges learned from spans', () => this.model.graph.edges);
  }

  async start(host: Host): Promise<void> { this.host = host; this.lookUpTopology(); }
  async shutdown(): Promise<void> {}

  /** The kubernetes receiver registers the topology when it starts, after processors: look until found. */
  private lookUpTopology(): void {
    if (this.topologyFound || !this.host) return;
    const t = this.host.getService<TopologyService>(TOPOLOGY_SERVICE);
    if (t) { this.topologyFound = true; this.model.setTopology(t); }
  }

  consume(batch: Batch): Promise<void> {
    this.lookUpTopology();
    const events = batch.events;
    const model = this.model;
    // Feed the whole batch first, so an event is scored with the requests that came with it.
    for (let i = 0; i < events.length; i++) {
      try { model.observe(events[i]!); } catch { /* counted below when scoring fails too */ }
    }
    let scored = 0;
    for (let i = 0; i < events.length; i++) {
      const e = events[i]!;
      try {
        if (!model.shouldScore(e)) continue;
        e.impact = model.score(e);
        scored++;
      } catch (err) {
        this.countFailed(1);
        this.ctx.logger.debug({ err: (err as Error).message, id: e?.id }, 'impact scoring failed; event passed on unscored');
      }
    }
    if (scored) this.countScored(scored);
    return this.next.consume(batch);
  }
}
