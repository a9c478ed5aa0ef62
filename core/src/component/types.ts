import type { DependencyContainer } from '../container';
import type { Meter } from '@opentelemetry/api';
import type { Batch } from '../event/types';
import type { Logger } from '../telemetry/logger';
import type { ComponentTelemetry } from '../telemetry/component';

export type Signal = 'traces' | 'metrics' | 'logs' | 'events';
export const SIGNALS: readonly Signal[] = ['traces', 'metrics', 'logs', 'events'];

export type ComponentKind = 'receiver' | 'processor' | 'exporter' | 'extension';
export const COMPONENT_KINDS: readonly ComponentKind[] = ['receiver', 'processor', 'exporter', 'extension'];

export type Stability = 'development' | 'alpha' | 'beta' | 'stable' | 'deprecated' | 'unmaintained';

/**
 * The consumer contract. Back-pressure is the promise: a receiver must not accept more
 * than it can await. Reject with RetryableError (try again later) or PermanentError (never).
 */
export interface Consumer {
  consume(batch: Batch): Promise<void>;
}

export interface Capabilities {
  /** True when consume() changes the batch it was given; on fan-out it then gets its own copy. */
  mutatesData: boolean;
}

export interface Component {
  /** Called once, in order extensions → exporters → processors → receivers. */
  start(host: Host): Promise<void>;
  /** Idempotent and safe without start(). Receivers stop accepting; others flush what they hold. */
  shutdown(): Promise<void>;
}

export interface Receiver extends Component {}
export interface Processor extends Component, Consumer { readonly capabilities?: Capabilities }
export interface Exporter extends Component, Consumer { readonly capabilities?: Capabilities }
export interface Extension extends Component {}

export type ComponentStatus = 'starting' | 'ok' | 'recoverable_error' | 'permanent_error' | 'stopping' | 'stopped';

/** What a running component can ask of the collector around it. */
export interface Host {
  /** The started extension with this id (`file_storage`, `file_storage/queue`), if configured. */
  getExtension<T = Extension>(id: string): T | undefined;
  /** A service another component registered (e.g. 'k8s.topology'), if any. */
  getService<T>(name: string): T | undefined;
  registerService(name: string, service: unknown): void;
  /**
   * Calls `use` with the service as soon as it is registered (at once if it already is).
   * Receivers start after processors, so a processor that needs a receiver's service (the
   * Kubernetes topology) subscribes here instead of looking it up in start().
   */
  onService<T>(name: string, use: (service: T) => void): void;
  reportStatus(componentId: string, status: ComponentStatus, error?: Error): void;
}

export interface Clock {
  nowNanos(): number;
  nowMs(): number;
}

/** Everything a component is created with. */
export interface ComponentContext {
  /** `type[/name]`, e.g. `otlp/edge`. */
  id: string;
  kind: ComponentKind;
  /** Pipeline ids this component serves (processors: exactly one). */
  pipelines: string[];
  logger: Logger;
  meter: Meter;
  telemetry: ComponentTelemetry;
  clock: Clock;
  /** A child of the collector's tsyringe container (logger, meter, clock, config registered). */
  container: DependencyContainer;
}

export type JsonSchema = Record<string, unknown>;

export interface FactoryBase<C> {
  readonly type: string;
  /** Stability per supported signal; a signal missing here is not supported. */
  readonly stability: Partial<Record<Signal, Stability>> | Stability;
  readonly configSchema: JsonSchema;
  createDefaultConfig?(): C;
  /**
   * Checks beyond the JSON Schema (e.g. a rule file the config names), run by `tapio validate`
   * and before every start/reload. Return every problem; `path` is relative to the component.
   */
  validate?(config: C): { path?: (string | number)[]; message: string }[];
  /** Optional extra sub-commands for the `tapio` CLI (e.g. `tapio rules test`). */
  readonly commands?: CliCommand[];
}

export interface CliCommand {
  name: string;
  description: string;
  /** Returns the process exit code. */
  run(args: string[]): Promise<number>;
}

export interface ReceiverFactory<C = any> extends FactoryBase<C> {
  readonly kind: 'receiver';
  create(ctx: ComponentContext, config: C, next: Consumer): Receiver | Promise<Receiver>;
}
export interface ProcessorFactory<C = any> extends FactoryBase<C> {
  readonly kind: 'processor';
  create(ctx: ComponentContext, config: C, next: Consumer): Processor | Promise<Processor>;
}
export interface ExporterFactory<C = any> extends FactoryBase<C> {
  readonly kind: 'exporter';
  create(ctx: ComponentContext, config: C): Exporter | Promise<Exporter>;
}
export interface ExtensionFactory<C = any> extends FactoryBase<C> {
  readonly kind: 'extension';
  create(ctx: ComponentContext, config: C): Extension | Promise<Extension>;
}

export type AnyFactory = ReceiverFactory | ProcessorFactory | ExporterFactory | ExtensionFactory;
