import { createEvent, type AttributeValue, type Attributes, type UnifiedEvent } from '@tapio/core';

/**
 * A minimal OTLP/JSON → UnifiedEvent decoder following the conventions in docs/ARCHITECTURE.md.
 * It is the in-process fallback `replay --embedded` and `eval:rca` use when no OTLP receiver
 * package is available; the real path is the `otlp` receiver.
 */
type Json = Record<string, any>;

export function anyValue(v: Json | undefined): AttributeValue {
  if (!v) return null;
  if ('stringValue' in v) return v.stringValue;
  if ('intValue' in v) return Number(v.intValue);
  if ('doubleValue' in v) return Number(v.doubleValue);
  if ('boolValue' in v) return Boolean(v.boolValue);
  if ('arrayValue' in v) return ((v.arrayValue?.values ?? []) as Json[]).map(anyValue);
  if ('kvlistValue' in v) return attributes(v.kvlistValue?.values);
  if ('bytesValue' in v) return v.bytesValue;
  return null;
}

export function attributes(list: Json[] | undefined): Attributes {
  const out: Attributes = {};
  if (!list) return out;
  for (let i = 0; i < list.length; i++) out[list[i]!.key] = anyValue(list[i]!.value);
  return out;
}

/** Decimal-string unix ns → JS number ns (see Nanos). */
export function nanos(s: string | number | undefined): number {
  if (s === undefined || s === '') return 0;
  return typeof s === 'number' ? s : Number(s);
}

const LOG_SEVERITY: [number, UnifiedEvent['severity']][] = [[21, 'fatal'], [17, 'error'], [13, 'warn'], [9, 'info'], [1, 'debug']];
function logSeverity(n: number | undefined, text: string | undefined): UnifiedEvent['severity'] {
  if (n) for (const [min, s] of LOG_SEVERITY) if (n >= min) return s;
  const t = (text ?? '').toLowerCase();
  if (t.startsWith('fatal') || t.startsWith('crit')) return 'fatal';
  if (t.startsWith('err')) return 'error';
  if (t.startsWith('warn')) return 'warn';
  if (t.startsWith('debug') || t.startsWith('trace')) return 'debug';
  return 'info';
}

export function decodeTraces(req: Json, source = 'otlp'): UnifiedEvent[] {
  const out: UnifiedEvent[] = [];
  for (const rs of (req.resourceSpans ?? []) as Json[]) {
    const resource = attributes(rs.resource?.attributes);
    for (const ss of (rs.scopeSpans ?? []) as Json[]) {
      for (const s of (ss.spans ?? []) as Json[]) {
        const { traceId, spanId, parentSpanId, traceState, flags, attributes: attrs, ...rest } = s;
        const start = nanos(s.startTimeUnixNano);
        const end = nanos(s.endTimeUnixNano);
        out.push(createEvent({
          kind: 'span', source, time: start,
          severity: s.status?.code === 2 ? 'error' : 'info',
          trace: { traceId: String(traceId ?? '').toLowerCase(), spanId: spanId ? String(spanId).toLowerCase() : undefined, parentSpanId: parentSpanId ? String(parentSpanId).toLowerCase() : undefined, traceState, flags },
          resource, attributes: attributes(attrs),
          span: { ...rest, name: String(s.name ?? ''), startTimeUnixNano: String(s.startTimeUnixNano ?? '0'), endTimeUnixNano: String(s.endTimeUnixNano ?? '0'), durationMs: (end - start) / 1e6, scope: ss.scope },
        }));
      }
    }
  }
  return out;
}

export function decodeLogs(req: Json, source = 'otlp'): UnifiedEvent[] {
  const out: UnifiedEvent[] = [];
  for (const rl of (req.resourceLogs ?? []) as Json[]) {
    const resource = attributes(rl.resource?.attributes);
    for (const sl of (rl.scopeLogs ?? []) as Json[]) {
      for (const r of (sl.logRecords ?? []) as Json[]) {
        const time = nanos(r.timeUnixNano) || nanos(r.observedTimeUnixNano);
        const traceId = r.traceId ? String(r.traceId).toLowerCase() : undefined;
        out.push(createEvent({
          kind: 'log', source, time,
          severity: logSeverity(r.severityNumber, r.severityText),
          trace: traceId ? { traceId, spanId: r.spanId ? String(r.spanId).toLowerCase() : undefined } : undefined,
          resource, attributes: attributes(r.attributes),
          log: { body: anyValue(r.body), severityNumber: r.severityNumber, severityText: r.severityText, timeUnixNano: r.timeUnixNano, scope: sl.scope },
        }));
      }
    }
  }
  return out;
}

const POINT_KINDS = ['gauge', 'sum', 'histogram', 'exponentialHistogram', 'summary'] as const;

export function decodeMetrics(req: Json, source = 'otlp'): UnifiedEvent[] {
  const out: UnifiedEvent[] = [];
  for (const rm of (req.resourceMetrics ?? []) as Json[]) {
    const resource = attributes(rm.resource?.attributes);
    for (const sm of (rm.scopeMetrics ?? []) as Json[]) {
      for (const m of (sm.metrics ?? []) as Json[]) {
        for (const type of POINT_KINDS) {
          const body = m[type];
          if (!body) continue;
          for (const p of (body.dataPoints ?? []) as Json[]) {
            const value = p.asDouble !== undefined ? Number(p.asDouble) : p.asInt !== undefined ? Number(p.asInt)
              : p.count !== undefined && p.sum !== undefined && Number(p.count) > 0 ? Number(p.sum) / Number(p.count) : undefined;
            out.push(createEvent({
              kind: 'metric', source, time: nanos(p.timeUnixNano),
              resource, attributes: attributes(p.attributes),
              metric: { name: String(m.name), type, unit: m.unit, value, point: p, aggregationTemporality: body.aggregationTemporality, isMonotonic: body.isMonotonic, scope: sm.scope },
            }));
          }
        }
      }
    }
  }
  return out;
}

export type OtlpSignal = 'traces' | 'logs' | 'metrics';
export function decodeRequest(signal: OtlpSignal, req: Json, source?: string): UnifiedEvent[] {
  return signal === 'traces' ? decodeTraces(req, source) : signal === 'logs' ? decodeLogs(req, source) : decodeMetrics(req, source);
}
