import * as assert from 'node:assert/strict';
import { rootContainer } from '../container';
import { metrics } from '@opentelemetry/api';
import type { AnyFactory, ComponentContext, ComponentKind, Consumer, Extension, Host, Component } from '../component/types';
import type { Batch, UnifiedEvent } from '../event/types';
import { createEvent, type EventInit } from '../event/builder';
import { compileSchema, explainAjvErrors } from '../config/ajv';

import { ComponentTelemetry } from '../telemetry/component';
import { createLogger } from '../telemetry/logger';
import { GraphHost } from '../pipeline/host';
import { systemClock } from '../collector';
import { defineExporter, defineReceiver } from '../component/define';
import { Registry } from '../plugins/registry';
import { deepMerge, loadConfigSources, mergeYamlText } from '../config/source';
import { resolveConfig, type ResolvedConfig } from '../config/resolve';
import type { ConfigIssue } from '../errors';

/** Collects every batch it is given. `waitFor(n)` resolves once n events have arrived. */
export class SinkConsumer implements Consumer {
  readonly batches: Batch[] = [];
  readonly events: UnifiedEvent[] = [];
  private waiters: { n: number; resolve: () => void }[] = [];

  consume(batch: Batch): Promise<void> {
    this.batches.push(batch);
    for (const e of batch.events) this.events.push(e);
    this.waiters = this.waiters.filter((w) => (this.events.length >= w.n ? (w.resolve(), false) : true));
    return Promise.resolve();
  }

  waitFor(n: number, timeoutMs = 10_000): Promise<void> {
    if (this.events.length >= n) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`timed out waiting for ${n} events (have ${this.events.length})`)), timeoutMs);
      this.waiters.push({ n, resolve: () => { clearTimeout(t); resolve(); } });
    });
  }

  reset(): void { this.batches.length = 0; this.events.length = 0; }
}

export class NopConsumer implements Consumer {
  consume(): Promise<void> { return Promise.resolve(); }
}

let seq = 0;
/** A realistic event of the given kind, with overrides. */
export function testEvent(kind: EventInit['kind'] = 'log', overrides: Partial<UnifiedEvent> = {}): UnifiedEvent {
  seq++;
  const base: Partial<UnifiedEvent> = {
    resource: { 'service.name': 'payment', 'k8s.namespace.name': 'prod', 'k8s.pod.name': 'payment-7d8f9' },
  };
  if (kind === 'log') base.log = { body: `test log line ${seq}`, severityNumber: 9, severityText: 'INFO' };
  if (kind === 'span') {
    const t = BigInt(Date.now()) * 1_000_000n;
    base.span = { name: 'POST /pay', kind: 2, startTimeUnixNano: t.toString(), endTimeUnixNano: (t + 5_000_000n).toString(), status: { code: 0 } };
    base.trace = { traceId: (seq.toString(16).padStart(32, '0')), spanId: seq.toString(16).padStart(16, '0') };
  }
  if (kind === 'metric') base.metric = { name: 'process.cpu.utilization', type: 'gauge', value: 0.5 };
  if (kind === 'kernel') base.kernel = { event: 'process_exit', pid: 4242, comm: 'payment' };
  if (kind === 'network') base.network = { event: 'connection_refused', dstAddr: '10.0.0.7', dstPort: 5432, pid: 4242 };
  if (kind === 'k8s') base.k8s = { reason: 'BackOff', message: 'Back-off restarting failed container', type: 'Warning' };
  return createEvent({ kind, source: 'test', ...base, ...overrides });
}

export function testBatch(n: number, kind: EventInit['kind'] = 'log'): Batch {
  return { events: Array.from({ length: n }, () => testEvent(kind)) };
}

/** A ComponentContext for unit tests: silent logger, no-op meter unless one is given. */
export function testContext(id: string, kind: ComponentKind, opts: { logLevel?: string } = {}): ComponentContext {
  const meter = metrics.getMeter('tapio-test');
  const logger = createLogger((opts.logLevel ?? process.env.TAPIO_TEST_LOG ?? 'silent') as 'silent');
  return {
    id, kind, pipelines: ['events'], logger, meter, clock: systemClock,
    telemetry: new ComponentTelemetry(meter, kind, id), container: rootContainer.createChildContainer(),
  };
}

export function testHost(extensions: Record<string, unknown> = {}): Host & { extensions: Map<string, unknown> } {
  const h = new GraphHost(createLogger('silent'));
  for (const [k, v] of Object.entries(extensions)) h.extensions.set(k, v as Extension);
  return h as Host & { extensions: Map<string, unknown> };
}

/** Default config merged with overrides, validated and defaulted like the runtime does. */
export function validConfig<C = Record<string, unknown>>(factory: AnyFactory, overrides: Record<string, unknown> = {}): C {
  const cfg = deepMerge((factory.createDefaultConfig?.() ?? {}) as Record<string, unknown>, overrides);
  const validate = compileSchema(factory.configSchema);
  if (!validate(cfg)) {
    throw new Error(`config does not validate: ${explainAjvErrors(validate.errors, factory.configSchema).map((e) => `${e.parts.join('.')}: ${e.message}`).join('; ')}`);
  }
  return cfg as C;
}

export async function createComponent(factory: AnyFactory, config: unknown, next: Consumer = new NopConsumer()): Promise<Component & Partial<Consumer>> {
  const ctx = testContext(factory.type, factory.kind);
  switch (factory.kind) {
    case 'receiver': return factory.create(ctx, config, next);
    case 'processor': return factory.create(ctx, config, next);
    case 'exporter': return factory.create(ctx, config);
    case 'extension': return factory.create(ctx, config);
  }
}

export interface ConformanceOptions {
  /** Overrides on the default config (e.g. port 0 for a receiver). */
  config?: Record<string, unknown>;
  /** Extensions the component needs from the host. */
  extensions?: Record<string, unknown>;
  /** A batch to consume (processors and exporters); defaults to three log events. */
  batch?: () => Batch;
}

/**
 * The conformance suite every component runs (as the Collector's generated component tests):
 * the default config validates, create → start → consume → shutdown works, shutdown twice is
 * fine, shutdown without start is fine. Call inside a mocha file.
 */
export function conformance(factory: AnyFactory, opts: ConformanceOptions = {}): void {
  describe(`conformance: ${factory.kind} ${factory.type}`, () => {
    it('has a type, stability and a config schema', () => {
      assert.match(factory.type, /^[a-zA-Z][a-zA-Z0-9_]*$/);
      assert.ok(factory.stability, 'stability is set');
      assert.equal(typeof factory.configSchema, 'object');
    });

    it('validates its default config', () => {
      const cfg = deepMerge((factory.createDefaultConfig?.() ?? {}) as Record<string, unknown>, {});
      const validate = compileSchema(factory.configSchema);
      assert.ok(validate(cfg), `default config is invalid: ${JSON.stringify(validate.errors)}`);
    });

    it('creates, starts, consumes and shuts down (twice)', async () => {
      const sink = new SinkConsumer();
      const c = await createComponent(factory, validConfig(factory, opts.config), sink);
      await c.start(testHost(opts.extensions));
      if (factory.kind === 'processor' || factory.kind === 'exporter') {
        const batch = opts.batch?.() ?? testBatch(3);
        await (c as Consumer).consume(batch);
      }
      await c.shutdown();
      await c.shutdown();
    });

    it('shuts down without having started', async () => {
      const c = await createComponent(factory, validConfig(factory, opts.config));
      await c.shutdown();
    });
  });
}

/**
 * A receiver for tests: every instance is reachable by id through `testReceivers`, and
 * `push()` sends a batch into its pipelines exactly as a real receiver would.
 */
export interface TestReceiver { push(batch: Batch): Promise<void>; started: boolean }
export const testReceivers = new Map<string, TestReceiver>();
export const testReceiverFactory = defineReceiver<Record<string, never>>({
  type: 'testpush',
  stability: 'development',
  configSchema: { type: 'object', additionalProperties: false, properties: {} },
  create(ctx, _config, next) {
    let stopped = false;
    const r: TestReceiver & { start(): Promise<void>; shutdown(): Promise<void> } = {
      started: false,
      push: (batch) => (stopped ? Promise.reject(new Error('receiver stopped')) : next.consume(batch)),
      async start() { r.started = true; },
      async shutdown() { stopped = true; },
    };
    testReceivers.set(ctx.id, r);
    return r;
  },
});

/** An exporter for tests: events land in `testSinks.get(id)` (a SinkConsumer). `delay_ms` slows it down. */
export const testSinks = new Map<string, SinkConsumer>();
export const testSinkExporterFactory = defineExporter<{ delay_ms: number }>({
  type: 'testsink',
  stability: 'development',
  configSchema: { type: 'object', additionalProperties: false, properties: { delay_ms: { type: 'integer', minimum: 0, default: 0 } } },
  createDefaultConfig: () => ({ delay_ms: 0 }),
  create(ctx, config) {
    const sink = new SinkConsumer();
    testSinks.set(ctx.id, sink);
    return {
      capabilities: { mutatesData: false },
      async start() {},
      async shutdown() {},
      async consume(batch) {
        if (config.delay_ms) await new Promise((r) => setTimeout(r, config.delay_ms));
        await sink.consume(batch);
      },
    };
  },
});

/** Loads YAML text (as from a file named `file`) and resolves it against the given factories. */
export function resolveYaml(text: string, factories: AnyFactory[], file = 'test.yaml'): { config?: ResolvedConfig; issues: ConfigIssue[] } {
  const registry = new Registry();
  for (const f of factories) registry.register(f);
  const loaded = loadConfigSources([]);
  mergeYamlText(loaded, text, file);
  return resolveConfig(loaded, registry);
}
/** Polls `cond` every 5 ms until it holds; fails naming `what` after `timeoutMs`. */
export async function until(cond: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

export { createMemoryCgroup, type MemoryCgroup } from './memcg';
export { freezableProxy, type ProxiedConnection } from './proxy';
export { TestStorageClient, TestStorageExtension } from './storage';
export { FakeTopology, PAYMENT_CONTAINER, PAYMENT_POD, POSTGRES_SVC } from './topology';
