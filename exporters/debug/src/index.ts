import { createSendingExporter, defineExporter, type Batch, type UnifiedEvent } from '@tapio/core';
import { configProblems, configSchema, createDefaultConfig, settingsFrom, type DebugExporterConfig, type DebugSettings } from './config';
import { PerSecondSampler } from './sampler';

export { configSchema, createDefaultConfig, PerSecondSampler };
export type { DebugExporterConfig };

const SEVERITY_WIDTH = 5;

/**
 * One line per event: time, severity, kind, what it is about, and the most telling text; as the
 * Collector's `normal`, a metric point shows its value and a span/log/metric its attributes
 * (`name{k=v,…} 42.5`), a span its ids.
 */
export function formatNormal(e: UnifiedEvent): string {
  const time = new Date(e.time / 1e6).toISOString();
  const about = e.entity ? `${e.entity.kind}/${e.entity.namespace ? e.entity.namespace + '/' : ''}${e.entity.name}` : String(e.resource['service.name'] ?? e.source);
  const text = e.semantic?.narrative ?? e.span?.name ?? bodyText(e) ?? (e.metric ? metricText(e) : undefined) ?? e.k8s?.reason ?? e.kernel?.event ?? e.network?.event ?? '';
  const attrs = e.kind === 'span' || e.kind === 'log' ? attributeText(e.attributes) : '';
  const trace = e.trace ? ` trace=${e.trace.traceId}${e.kind === 'span' && e.trace.spanId ? ` span=${e.trace.spanId}` : ''}` : '';
  return `${time} ${e.severity.toUpperCase().padEnd(SEVERITY_WIDTH)} ${e.kind.padEnd(11)} ${about}: ${text}${attrs}${trace}`;
}

/** `name{k=v,…} value`; histograms and summaries as count and sum. */
function metricText(e: UnifiedEvent): string {
  const m = e.metric!;
  const point = m.point as { count?: unknown; sum?: unknown } | undefined;
  const value = m.value !== undefined ? String(m.value) : point?.count !== undefined ? `count=${String(point.count)}${point.sum !== undefined ? ` sum=${String(point.sum)}` : ''}` : '';
  return `${m.name}${attributeText(e.attributes)}${value ? ` ${value}` : ''}`;
}

function attributeText(attributes: UnifiedEvent['attributes'] | undefined): string {
  const keys = attributes ? Object.keys(attributes) : [];
  if (!keys.length) return '';
  return `{${keys.map((k) => `${k}=${typeof attributes![k] === 'object' ? JSON.stringify(attributes![k]) : String(attributes![k])}`).join(',')}}`;
}

function bodyText(e: UnifiedEvent): string | undefined {
  const b = e.log?.body;
  if (b === undefined || b === null) return undefined;
  return typeof b === 'string' ? b : JSON.stringify(b);
}

/** The OTLP signal a batch is counted under for sampling (its first event's). */
function signalOf(batch: Batch): string {
  const kind = batch.events[0]?.kind;
  return kind === 'span' ? 'traces' : kind === 'metric' ? 'metrics' : kind === 'log' ? 'logs' : 'events';
}

function countByKind(batch: Batch): Record<string, number> {
  const kinds: Record<string, number> = {};
  for (const e of batch.events) kinds[e.kind] = (kinds[e.kind] ?? 0) + 1;
  return kinds;
}

function eventLines(batch: Batch, s: DebugSettings): string {
  let text = '';
  for (const e of batch.events) text += (s.verbosity === 'normal' ? formatNormal(e) : JSON.stringify(e)) + '\n';
  return text;
}

export default defineExporter<DebugExporterConfig>({
  type: 'debug',
  stability: { traces: 'beta', metrics: 'beta', logs: 'beta', events: 'beta' },
  configSchema,
  createDefaultConfig,
  validate: configProblems,
  create(ctx, config) {
    const s = settingsFrom(config);
    const out = s.output === 'stderr' ? process.stderr : process.stdout;
    // One sampling decision per exported batch: the Collector's sampler sees one log entry per
    // batch, and counts each signal on its own (its entries are "Traces", "Metrics", "Logs"), so
    // a busy signal does not silence the others.
    const samplers = new Map<string, PerSecondSampler>();
    const samplerFor = (signal: string): PerSecondSampler => {
      let s = samplers.get(signal);
      if (!s) samplers.set(signal, (s = new PerSecondSampler(config.sampling_initial, config.sampling_thereafter, () => ctx.clock.nowMs())));
      return s;
    };
    return createSendingExporter(ctx, {
      async send(batch) {
        if (!samplerFor(signalOf(batch)).admit()) return;
        const summary = { events: batch.events.length, kinds: countByKind(batch) };
        if (s.internalLogger) {
          if (s.verbosity === 'basic') ctx.logger.info(summary, 'batch');
          else ctx.logger.info(summary, eventLines(batch, s).trimEnd());
        } else {
          out.write(s.verbosity === 'basic' ? `batch\t${JSON.stringify(summary)}\n` : eventLines(batch, s));
        }
      },
      retry: { enabled: false },
    });
  },
});
