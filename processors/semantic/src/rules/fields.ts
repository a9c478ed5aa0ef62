import type { UnifiedEvent } from '@tapio/core';

/** Reads one value from an event. Built once per rule at compile time, never per event. */
export type Accessor = (e: UnifiedEvent) => unknown;

const PAYLOADS = new Set(['span', 'log', 'metric', 'k8s', 'kernel', 'network', 'trace', 'entity', 'semantic', 'impact']);
const TOP = new Set(['kind', 'severity', 'source', 'count', 'time', 'id']);

/**
 * Field paths used in rules and templates:
 *  - `resource.<key>` / `attributes.<key>`: the rest is the literal OTel key (`attributes.http.response.status_code`);
 *  - `k8s.reason`, `kernel.event`, `network.dstPort`, `span.status.code`, `span.durationMs`, `log.body`, `entity.name` …: a path into the payload;
 *  - `kind`, `severity`, `source`, `count`;
 *  - `body`: the log body as text (structured bodies as JSON);
 *  - `message`: the human text of any event (log body, k8s message, span status message, exception message).
 */
export function compileField(path: string): Accessor {
  if (path.startsWith('resource.')) { const k = path.slice(9); return (e) => e.resource?.[k]; }
  if (path.startsWith('attributes.')) { const k = path.slice(11); return (e) => e.attributes?.[k]; }
  if (path === 'body') return bodyText;
  if (path === 'message') return messageText;
  if (TOP.has(path)) return (e) => (e as unknown as Record<string, unknown>)[path];
  const parts = path.split('.');
  if (!PAYLOADS.has(parts[0]!)) throw new Error(`unknown field "${path}" (fields start with resource., attributes., k8s., kernel., network., span., log., metric., entity., trace. or are kind, severity, source, count, body, message)`);
  if (parts.length === 2) { const [a, b] = parts as [string, string]; return (e) => (e as unknown as Record<string, Record<string, unknown> | undefined>)[a]?.[b]; }
  return (e) => {
    let v: unknown = e;
    for (let i = 0; i < parts.length; i++) {
      if (v === null || typeof v !== 'object') return undefined;
      v = (v as Record<string, unknown>)[parts[i]!];
    }
    return v;
  };
}

/** The first of several fields that has a value. */
export function compileFields(paths: string | string[]): Accessor {
  if (typeof paths === 'string') return compileField(paths);
  const acc = paths.map(compileField);
  if (acc.length === 1) return acc[0]!;
  return (e) => {
    for (let i = 0; i < acc.length; i++) { const v = acc[i]!(e); if (v !== undefined && v !== null) return v; }
    return undefined;
  };
}

export function bodyText(e: UnifiedEvent): string | undefined {
  const b = e.log?.body;
  if (b === undefined || b === null) return undefined;
  return typeof b === 'string' ? b : JSON.stringify(b);
}

export function messageText(e: UnifiedEvent): string | undefined {
  switch (e.kind) {
    case 'log': return bodyText(e);
    case 'k8s': return e.k8s?.message;
    case 'span': {
      const m = e.span?.status?.message;
      if (m) return m;
      const x = e.attributes?.['exception.message'];
      return typeof x === 'string' ? x : undefined;
    }
    default: {
      const m = (e.kernel ?? e.network)?.message;
      return typeof m === 'string' ? m : undefined;
    }
  }
}
