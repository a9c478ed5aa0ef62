import { rootContainer, type DependencyContainer } from './container';
import { TOKENS } from './container';
import type { Clock } from './component/types';
import type { ResolvedConfig } from './config/resolve';
import { Graph } from './pipeline/graph';
import { STATUS_SERVICE, type ComponentStatusEntry, type StatusSource } from './pipeline/host';
import { SelfTelemetry } from './telemetry/metrics';
import { createLogger, type Logger } from './telemetry/logger';

export const systemClock: Clock = { nowNanos: () => Date.now() * 1e6, nowMs: () => Date.now() };

export interface CollectorOptions {
  name?: string;
  version?: string;
  logger?: Logger;
  clock?: Clock;
}

/**
 * A running collector: one Graph at a time, its self-telemetry, and reload. One tsyringe child
 * container per collector holds logger, meter, clock and config.
 */
export class Collector implements StatusSource {
  private graph?: Graph;
  private telemetry?: SelfTelemetry;
  private currentPhase: ReturnType<StatusSource['phase']> = 'starting';
  private lastStatuses: Record<string, ComponentStatusEntry> = {};
  readonly container: DependencyContainer;
  logger: Logger;
  metricsAddress?: string;
  private readonly services = new Map<string, unknown>();
  private reloading: Promise<void> = Promise.resolve();

  constructor(private readonly options: CollectorOptions = {}) {
    this.logger = options.logger ?? createLogger();
    this.container = rootContainer.createChildContainer();
    this.container.register(TOKENS.clock, { useValue: options.clock ?? systemClock });
    this.services.set(STATUS_SERVICE, this);
  }

  async start(config: ResolvedConfig): Promise<void> {
    if (!this.options.logger) this.logger.level = config.telemetry.logs.level;
    this.telemetry = new SelfTelemetry({
      address: config.telemetry.metrics.address,
      level: config.telemetry.metrics.level,
      serviceName: this.options.name ?? 'tapio',
      serviceVersion: this.options.version ?? '0.0.0',
    });
    this.container.register(TOKENS.logger, { useValue: this.logger });
    this.container.register(TOKENS.meter, { useValue: this.telemetry.meter });
    this.metricsAddress = await this.telemetry.listen();
    if (this.metricsAddress) this.logger.info({ address: `http://${this.metricsAddress}/metrics` }, 'self-telemetry listening');
    try {
      await this.startGraph(config);
    } catch (err) {
      this.currentPhase = 'failed';
      await this.telemetry.shutdown();
      throw err;
    }
  }

  private async startGraph(config: ResolvedConfig): Promise<void> {
    this.currentPhase = 'starting';
    const graph = await Graph.build(config, {
      logger: this.logger, meter: this.telemetry!.meter, clock: this.container.resolve<Clock>(TOKENS.clock),
      container: this.container, sharedServices: this.services,
    });
    this.graph = graph;
    await graph.start();
    this.currentPhase = 'running';
    this.logger.info({ pipelines: [...config.pipelines.keys()] }, 'everything is ready; pipelines running');
  }

  /**
   * Swaps to a new, already validated config: the old graph drains completely (nothing it
   * accepted is lost), then the new one starts. If the new one fails to start, the old config
   * is started again and the error is thrown.
   */
  reload(next: ResolvedConfig, previous: ResolvedConfig): Promise<void> {
    const run = async (): Promise<void> => {
      this.logger.info('reloading: draining the running pipelines');
      this.currentPhase = 'draining';
      await this.graph?.shutdown();
      try {
        await this.startGraph(next);
        this.logger.info('reload complete');
      } catch (err) {
        this.logger.error({ err: (err as Error).message }, 'new config failed to start; restoring the previous one');
        await this.startGraph(previous);
        throw err;
      }
    };
    this.reloading = this.reloading.then(run, run);
    return this.reloading;
  }

  async shutdown(): Promise<void> {
    await this.reloading.catch(() => undefined);
    if (this.currentPhase === 'stopped') return;
    this.currentPhase = 'draining';
    this.logger.info('shutting down: draining pipelines');
    if (this.graph) {
      await this.graph.shutdown();
      this.lastStatuses = Object.fromEntries(this.graph.host.statuses);
    }
    await this.telemetry?.shutdown();
    this.currentPhase = 'stopped';
    this.logger.info('shutdown complete');
  }

  ready(): boolean { return this.currentPhase === 'running'; }
  phase(): ReturnType<StatusSource['phase']> { return this.currentPhase; }
  components(): Record<string, ComponentStatusEntry> {
    return this.graph ? Object.fromEntries(this.graph.host.statuses) : this.lastStatuses;
  }
  /** Services components registered (e.g. 'k8s.topology'); outlives reloads. */
  getService<T>(name: string): T | undefined { return this.services.get(name) as T | undefined; }
}
