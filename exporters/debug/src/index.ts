import { createSendingExporter, defineExporter, type UnifiedEvent } from '@tapio/core';

export interface DebugExporterConfig {
  verbosity: 'basic' | 'normal' | 'detailed';
  /** stdout (default) or stderr. */
  output: 'stdout' | 'stderr';
}

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

export default defineExporter<DebugExporterConfig>({
  type: 'debug',
  stability: { traces: 'beta', metrics: 'beta', logs: 'beta', events: 'beta' },
  configSchema: {
    type: 'object',
    additionalProperties: false,
    properties: {
      verbosity: { enum: ['basic', 'normal', 'detailed'], default: 'basic', description: 'basic: a count per batch; normal: a line per event; detailed: every field as JSON' },
      output: { enum: ['stdout', 'stderr'], default: 'stdout' },
    },
  },
  createDefaultConfig: () => ({ verbosity: 'basic', output: 'stdout' }),
  create(ctx, config) {
    const out = config.output === 'stderr' ? process.stderr : process.stdout;
    return createSendingExporter(ctx, {
      async send(batch) {
        if (config.verbosity === 'basic') {
          const kinds: Record<string, number> = {};
          for (const e of batch.events) kinds[e.kind] = (kinds[e.kind] ?? 0) + 1;
          ctx.logger.info({ events: batch.events.length, kinds }, 'batch');
          return;
        }
        let text = '';
        for (const e of batch.events) text += (config.verbosity === 'normal' ? formatNormal(e) : JSON.stringify(e)) + '\n';
        out.write(text);
      },
      retry: { enabled: false },
    });
  },
});
