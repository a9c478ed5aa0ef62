import { createSendingExporter, RetryableError, type Batch, type ComponentContext, type Exporter, type StorageClient, type StorageOp } from '../src/index';
import { testContext } from '../src/testing/index';
import type { ComponentTelemetry } from '../src/telemetry/component';
import type { SendingExporterOptions } from '../src/exporterhelper/exporter';

/** Records what the helper counts, by metric name (drops as `dropped:<reason>`), and its gauges. */
export class RecordingTelemetry {
  readonly counts = new Map<string, number>();
  readonly gauges = new Map<string, () => number>();
  dropped(n: number, reason: string): void { this.add(`dropped:${reason}`, n); }
  counter(name: string): (n: number) => void { return (n) => this.add(name, n); }
  gauge(name: string, _d: string, read: () => number): void { this.gauges.set(name, read); }
  get(name: string): number { return this.counts.get(name) ?? 0; }
  private add(k: string, n: number): void { this.counts.set(k, this.get(k) + n); }
}

export function ctxWith(t: RecordingTelemetry): ComponentContext {
  return { ...testContext('testexp', 'exporter'), telemetry: t as unknown as ComponentTelemetry };
}

export const FAST_RETRY = { initial_interval: '5ms', max_interval: '20ms', randomization_factor: 0.2, multiplier: 2, max_elapsed_time: '0s' };

/** A downstream that can be switched between up and down, and records what it received. */
export class Downstream {
  up = true;
  received: Batch[] = [];
  attempts = 0;
  hang = false;
  readonly signals: AbortSignal[] = [];
  async send(batch: Batch, signal?: AbortSignal): Promise<void> {
    this.attempts++;
    if (signal) this.signals.push(signal);
    if (this.hang) return new Promise(() => undefined);
    if (!this.up) throw new RetryableError('downstream unavailable');
    this.received.push(batch);
  }
  events(): number { return this.received.reduce((n, b) => n + b.events.length, 0); }
}

export function exporter(t: RecordingTelemetry, d: Downstream, extra: Partial<SendingExporterOptions>): Exporter {
  return createSendingExporter(ctxWith(t), { send: (b, s) => d.send(b, s), retry: FAST_RETRY, ...extra });
}

export { until } from '../src/testing/index';

/** An in-memory StorageClient, shared across "restarts" through the map it is given. */
export class MemoryStorage implements StorageClient {
  closed = false;
  static reads = 0;
  constructor(readonly data = new Map<string, Buffer>()) {}
  async get(k: string): Promise<Buffer | undefined> { MemoryStorage.reads++; return this.data.get(k); }
  async set(k: string, v: Buffer | Uint8Array): Promise<void> { this.data.set(k, Buffer.from(v)); }
  async delete(k: string): Promise<void> { this.data.delete(k); }
  async batch(ops: StorageOp[]): Promise<void> { for (const o of ops) o.type === 'set' ? this.data.set(o.key, Buffer.from(o.value)) : this.data.delete(o.key); }
  async keys(prefix = ''): Promise<string[]> { return [...this.data.keys()].filter((k) => k.startsWith(prefix)).sort(); }
  async close(): Promise<void> { this.closed = true; }
}
export function storageExtension(data: Map<string, Buffer>): { getClient(): Promise<StorageClient>; start(): Promise<void>; shutdown(): Promise<void> } {
  return { getClient: async () => new MemoryStorage(data), start: async () => undefined, shutdown: async () => undefined };
}

