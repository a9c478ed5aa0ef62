import { rootContainer, type DependencyContainer } from '../container';
import type { Meter } from '@opentelemetry/api';
import type {
  Clock, ComponentContext, ComponentKind, Consumer, Exporter, Extension, Processor, Receiver,
} from '../component/types';
import { RAW_WIRE_BYTES, type Batch, type UnifiedEvent, type WithRawWireBytes } from '../event/types';
import type { ComponentConfig, ResolvedConfig } from '../config/resolve';
import { ErrorCodes, TapioError } from '../errors';
import { ComponentTelemetry } from '../telemetry/component';
import { componentLogger, type Logger } from '../telemetry/logger';
import { FanOutConsumer, type FanOutTarget } from './fanout';
import { GraphHost } from './host';
import { ReceiverRouter, type PipelineEntry } from './router';
import { TOKENS } from '../container';

export interface GraphDeps {
  logger: Logger;
  meter: Meter;
  clock: Clock;
  container?: DependencyContainer;
  sharedServices?: Map<string, unknown>;
}

interface Instance<T> { id: string; kind: ComponentKind; component: T }

/**
 * One running configuration: every component instance, wired. Receivers and exporters are
 * single instances shared by the pipelines that name them; processors are per pipeline.
 */
export class Graph {
  readonly host: GraphHost;
  private readonly extensions: Instance<Extension>[] = [];
  private readonly exporters = new Map<string, Instance<Exporter>>();
  /** Per pipeline, processors in pipeline order. */
  private readonly processors = new Map<string, Instance<Processor>[]>();
  private readonly receivers: { inst: Instance<Receiver>; router: ReceiverRouter }[] = [];
  private started = false;
  private stopped = false;
  private readonly container: DependencyContainer;

  private constructor(config: ResolvedConfig, private readonly deps: GraphDeps) {
    this.host = new GraphHost(deps.logger, deps.sharedServices);
    this.container = (deps.container ?? rootContainer).createChildContainer();
    this.container.register(TOKENS.config, { useValue: config });
  }

  /** Creates every component. Creation errors are collected and thrown together. */
  static async build(config: ResolvedConfig, deps: GraphDeps): Promise<Graph> {
    const g = new Graph(config, deps);
    const errors: string[] = [];
    const attempt = async <T>(cc: ComponentConfig, fn: () => Promise<T> | T): Promise<T | undefined> => {
      const t0 = Date.now();
      try { return await fn(); } catch (err) { errors.push(`${cc.kind} "${cc.id}": ${(err as Error).message}`); return undefined; } finally {
        deps.logger.debug({ component: cc.id, kind: cc.kind, ms: Date.now() - t0 }, 'component created');
      }
    };
    for (const id of config.serviceExtensions) {
      const cc = config.extensions.get(id)!;
      const ctx = g.context(cc, []);
      const ext = await attempt(cc, () => (cc.factory as import('../component/types').ExtensionFactory).create(ctx, cc.config));
      if (ext) g.extensions.push({ id, kind: 'extension', component: ext });
    }
    // Exporters: one instance per id, shared by every pipeline that uses it.
    for (const [id, cc] of config.exporters) {
      const pipelines = [...config.pipelines.values()].filter((p) => p.exporters.includes(id)).map((p) => p.id);
      if (!pipelines.length) continue; // defined but unused, as in the OTel Collector
      const ctx = g.context(cc, pipelines);
      const exp = await attempt(cc, () => (cc.factory as import('../component/types').ExporterFactory).create(ctx, cc.config));
      if (exp) g.exporters.set(id, { id, kind: 'exporter', component: instrumentExporter(exp, ctx.telemetry) });
    }
    // Processors: one instance per pipeline, chained back to front.
    const pipelineHeads = new Map<string, { consumer: Consumer; mutatesData: boolean }>();
    for (const p of config.pipelines.values()) {
      const targets: FanOutTarget[] = [];
      for (const eid of p.exporters) {
        const e = g.exporters.get(eid);
        if (e) targets.push({ consumer: e.component, mutatesData: e.component.capabilities?.mutatesData ?? false });
      }
      let next: Consumer = new FanOutConsumer(targets);
      let mutates = targets.length > 1 ? false : (targets[0]?.mutatesData ?? false);
      const chain: Instance<Processor>[] = [];
      for (let i = p.processors.length - 1; i >= 0; i--) {
        const pid = p.processors[i]!;
        const cc = config.processors.get(pid)!;
        const ctx = g.context(cc, [p.id], p.id);
        const outgoing = countingConsumer(next, ctx.telemetry.counter('tapio_processor_outgoing_events', 'Events a processor passed on'));
        const proc = await attempt(cc, () => (cc.factory as import('../component/types').ProcessorFactory).create(ctx, cc.config, outgoing));
        if (!proc) continue;
        const inst = instrumentProcessor(proc, ctx.telemetry);
        chain.unshift({ id: pid, kind: 'processor', component: inst });
        next = inst;
        mutates = proc.capabilities?.mutatesData ?? false;
      }
      g.processors.set(p.id, chain);
      pipelineHeads.set(p.id, { consumer: next, mutatesData: mutates });
    }
    // Receivers: one instance per id, fanning into every pipeline that names it.
    const accepted = deps.meter.createCounter('tapio_receiver_accepted_events', { description: 'Events a receiver handed to its pipelines' });
    const refused = deps.meter.createCounter('tapio_receiver_refused_events', { description: 'Events a receiver could not hand on (back-pressure, errors, shutdown)' });
    for (const [id, cc] of config.receivers) {
      const pipes = [...config.pipelines.values()].filter((p) => p.receivers.includes(id));
      if (!pipes.length) continue;
      const entries: PipelineEntry[] = pipes.map((p) => ({ pipelineId: p.id, signal: p.signal, ...pipelineHeads.get(p.id)! }));
      const router = new ReceiverRouter(entries, accepted, refused, { receiver: id });
      const ctx = g.context(cc, pipes.map((p) => p.id));
      const rec = await attempt(cc, () => (cc.factory as import('../component/types').ReceiverFactory).create(ctx, cc.config, router));
      if (rec) g.receivers.push({ inst: { id, kind: 'receiver', component: rec }, router });
    }
    if (errors.length) {
      await g.shutdown().catch(() => undefined);
      throw new TapioError(ErrorCodes.COMPONENT_START, `cannot create components:\n  ${errors.join('\n  ')}`);
    }
    return g;
  }

  private context(cc: ComponentConfig, pipelines: string[], pipeline?: string): ComponentContext {
    const logger = componentLogger(this.deps.logger, cc.kind, pipeline ? `${cc.id}@${pipeline}` : cc.id);
    const child = this.container.createChildContainer();
    child.register(TOKENS.logger, { useValue: logger });
    return {
      id: cc.id, kind: cc.kind, pipelines, logger, meter: this.deps.meter, clock: this.deps.clock,
      telemetry: new ComponentTelemetry(this.deps.meter, cc.kind, cc.id, pipeline), container: child,
    };
  }

  /** Start order: extensions, exporters, processors, receivers. Any failure stops what started. */
  async start(): Promise<void> {
    this.started = true;
    const order: Instance<Extension | Exporter | Processor | Receiver>[] = [
      ...this.extensions,
      ...this.exporters.values(),
      ...[...this.processors.values()].flatMap((chain) => [...chain].reverse()),
      ...this.receivers.map((r) => r.inst),
    ];
    for (const inst of order) {
      this.host.reportStatus(inst.id, 'starting');
      const t0 = Date.now();
      try {
        await inst.component.start(this.host);
        this.deps.logger.debug({ component: inst.id, kind: inst.kind, ms: Date.now() - t0 }, 'component started');
        if (inst.kind === 'extension') this.host.extensions.set(inst.id, inst.component as Extension);
        this.host.reportStatus(inst.id, 'ok');
      } catch (err) {
        this.host.reportStatus(inst.id, 'permanent_error', err as Error);
        await this.shutdown().catch(() => undefined);
        throw new TapioError(ErrorCodes.COMPONENT_START, `${inst.kind} "${inst.id}" failed to start: ${(err as Error).message}`, { cause: err });
      }
    }
  }

  /**
   * Drain and stop, in reverse start order: receivers stop accepting and their in-flight
   * batches are handed on; processors flush in pipeline order; exporters flush their queues;
   * extensions stop last. Idempotent.
   */
  async shutdown(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    const errors: string[] = [];
    const stop = async (inst: Instance<{ shutdown(): Promise<void> }>): Promise<void> => {
      this.host.reportStatus(inst.id, 'stopping');
      try { await inst.component.shutdown(); this.host.reportStatus(inst.id, 'stopped'); } catch (err) { errors.push(`${inst.kind} "${inst.id}": ${(err as Error).message}`); }
    };
    await Promise.all(this.receivers.map(async (r) => { await stop(r.inst); await r.router.drain(); }));
    for (const chain of this.processors.values()) for (const p of chain) await stop(p);
    await Promise.all([...this.exporters.values()].map(stop));
    for (const e of [...this.extensions].reverse()) await stop(e);
    if (errors.length && this.started) this.deps.logger.error({ errors }, 'errors during shutdown');
  }

  componentIds(): string[] {
    return [...this.extensions.map((e) => e.id), ...this.exporters.keys(), ...[...this.processors.entries()].flatMap(([p, c]) => c.map((x) => `${x.id}@${p}`)), ...this.receivers.map((r) => r.inst.id)];
  }
}

function countingConsumer(next: Consumer, count: (n: number) => void): Consumer {
  return { consume(batch: Batch) { count(batch.events.length); return next.consume(batch); } };
}

function instrumentProcessor(p: Processor, t: ComponentTelemetry): Processor {
  const incoming = t.counter('tapio_processor_incoming_events', 'Events a processor received');
  const mutates = p.capabilities?.mutatesData ?? false;
  return {
    capabilities: p.capabilities,
    start: (h) => p.start(h),
    shutdown: () => p.shutdown(),
    consume(batch: Batch) {
      incoming(batch.events.length);
      if (mutates) forgetWireBytes(batch.events);
      return p.consume(batch);
    },
  };
}

/** A processor that may change events makes their original wire bytes stale (see RAW_WIRE_BYTES). */
function forgetWireBytes(events: UnifiedEvent[]): void {
  for (let i = 0; i < events.length; i++) {
    const e = events[i] as UnifiedEvent & WithRawWireBytes;
    // `in`, not a read: reading an OtlpSpanEvent's wire bytes makes a Buffer view
    if (RAW_WIRE_BYTES in e) e[RAW_WIRE_BYTES] = undefined;
  }
}

function instrumentExporter(e: Exporter, t: ComponentTelemetry): Exporter {
  const incoming = t.counter('tapio_exporter_incoming_events', 'Events handed to an exporter');
  return {
    capabilities: e.capabilities,
    start: (h) => e.start(h),
    shutdown: () => e.shutdown(),
    consume(batch: Batch) { incoming(batch.events.length); return e.consume(batch); },
  };
}
