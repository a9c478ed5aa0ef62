import type { Attributes as OtelAttributes, Counter, Meter, ObservableGauge } from '@opentelemetry/api';

/**
 * The standard per-component counters. The runtime counts accepted/refused/incoming/outgoing/
 * sent/failed itself around every component; components add drops (with a reason) and
 * queue gauges. Attribute objects are created once per component, never per event.
 */
export class ComponentTelemetry {
  private readonly attrs: OtelAttributes;
  private readonly dropCounter: Counter;
  private readonly dropAttrsByReason = new Map<string, OtelAttributes>();

  constructor(readonly meter: Meter, readonly kind: string, readonly id: string, pipeline?: string) {
    this.attrs = pipeline ? { [kind]: id, pipeline } : { [kind]: id };
    this.dropCounter = meter.createCounter(`tapio_${kind}_dropped_events`, { description: `Events dropped by a ${kind}, by reason` });
  }

  get attributes(): OtelAttributes { return this.attrs; }

  /** Count events this component dropped on purpose or could not deliver. Never drop silently. */
  dropped(count: number, reason: string): void {
    if (count <= 0) return;
    let a = this.dropAttrsByReason.get(reason);
    if (!a) { a = { ...this.attrs, reason }; this.dropAttrsByReason.set(reason, a); }
    this.dropCounter.add(count, a);
  }

  counter(name: string, description: string): (n: number) => void {
    const c = this.meter.createCounter(name, { description });
    const a = this.attrs;
    return (n: number) => c.add(n, a);
  }

  /** A gauge read at scrape time (queue size, cache entries …). */
  gauge(name: string, description: string, read: () => number): ObservableGauge {
    const g = this.meter.createObservableGauge(name, { description });
    const a = this.attrs;
    g.addCallback((r) => r.observe(read(), a));
    return g;
  }
}
