import { createSendingExporter, defineExporter, type Batch, type UnifiedEvent } from '@tapio/core';
import { configProblems, configSchema, createDefaultConfig, settingsFrom, type DebugExporterConfig, type DebugSettings } from './config';
import { PerSecondSampler } from './sampler';

export { configSchema, createDefaultConfig, PerSecondSampler };
export type { DebugExporterConfig };

const SEVERITY_WIDTH = 5;

/** One line per event: time, severity, kind, what it is about, and the most telling text. */
export function formatNormal(e: UnifiedEvent): string {
  const time = new Date(e.time / 1e6).toISOString();
  const about = e.entity ? `${e.entity.kind}/${e.entity.namespace ? e.entity.namespace + '/' : ''}${e.entity.name}` : String(e.resource['service.name'] ?? e.source);
  const text = e.semantic?.narrative ?? e.span?.name ?? bodyText(e) ?? e.metric?.name ?? e.k8s?.reason ?? e.kernel?.event ?? e.network?.event ?? '';
  const trace = e.trace ? ` trace=${e.trace.traceId}` : '';
  return `${time} ${e.severity.toUpperCase().padEnd(SEVERITY_WIDTH)} ${e.kind.padEnd(11)} ${about}: ${text}${trace}`;
}

function bodyText(e: UnifiedEvent): string | undefined {
  const b = e.log?.body;
  if (b === undefined || b === null) return undefined;
  return typeof b === 'string' ? b : JSON.stringify(b);
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
    // One sampling decision per exported batch: the Collector's sampler sees one log entry per batch.
    const sampler = new PerSecondSampler(config.sampling_initial, config.sampling_thereafter, () => ctx.clock.nowMs());
    return createSendingExporter(ctx, {
      async send(batch) {
        if (!sampler.admit()) return;
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
