import type { AttributeValue, TraceContext, UnifiedEvent } from '@tapio/core';

// W3C traceparent: version-traceid-parentid-flags.
const TRACEPARENT = /\b([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})\b/i;
// `trace_id=…`, `traceId":"…`, `TraceID: …`, `trace.id=…`; 32 hex (W3C) or 16 hex (Jaeger/Zipkin 64-bit).
const TRACE_ID = /\btrace[_.-]?id["']?\s*[:=]\s*["']?([0-9a-f]{32}|[0-9a-f]{16})\b/i;
const SPAN_ID = /\bspan[_.-]?id["']?\s*[:=]\s*["']?([0-9a-f]{16})\b/i;
// Cheap pre-check so that most log lines cost one indexOf-like scan, not three regexes.
const HINT = /race|-[0-9a-f]{32}-/i;

const ZERO_TRACE = '00000000000000000000000000000000';
const ZERO_SPAN = '0000000000000000';

function normalizeTraceId(id: string): string | undefined {
  const t = id.length === 16 ? '0000000000000000' + id.toLowerCase() : id.toLowerCase();
  return t === ZERO_TRACE ? undefined : t;
}

function fromTraceparent(m: RegExpExecArray): TraceContext | undefined {
  if (m[1]!.toLowerCase() === 'ff') return undefined;
  const traceId = normalizeTraceId(m[2]!);
  const spanId = m[3]!.toLowerCase();
  if (!traceId || spanId === ZERO_SPAN) return undefined;
  return { traceId, spanId, flags: parseInt(m[4]!, 16) };
}

/** Trace context in a piece of text (a log line, a JSON document as text). */
export function traceFromText(text: string): TraceContext | undefined {
  if (!HINT.test(text)) return undefined;
  const tp = TRACEPARENT.exec(text);
  if (tp) { const ctx = fromTraceparent(tp); if (ctx) return ctx; }
  const t = TRACE_ID.exec(text);
  if (!t) return undefined;
  const traceId = normalizeTraceId(t[1]!);
  if (!traceId) return undefined;
  const s = SPAN_ID.exec(text);
  return s && s[1]!.toLowerCase() !== ZERO_SPAN ? { traceId, spanId: s[1]!.toLowerCase() } : { traceId };
}

const TRACE_KEYS = ['trace_id', 'traceId', 'trace.id', 'TraceID', 'traceid'];
const SPAN_KEYS = ['span_id', 'spanId', 'span.id', 'SpanID', 'spanid'];

/** Trace context in a key/value map: log attributes, or a structured (JSON) body. */
export function traceFromFields(fields: Record<string, AttributeValue>): TraceContext | undefined {
  const tp = fields.traceparent;
  if (typeof tp === 'string') {
    const m = TRACEPARENT.exec(tp);
    const ctx = m ? fromTraceparent(m) : undefined;
    if (ctx) return ctx;
  }
  let traceId: string | undefined;
  for (const k of TRACE_KEYS) {
    const v = fields[k];
    if (typeof v === 'string' && /^(?:[0-9a-f]{32}|[0-9a-f]{16})$/i.test(v)) { traceId = normalizeTraceId(v); break; }
  }
  if (!traceId) return undefined;
  for (const k of SPAN_KEYS) {
    const v = fields[k];
    if (typeof v === 'string' && /^[0-9a-f]{16}$/i.test(v) && v !== ZERO_SPAN) return { traceId, spanId: v.toLowerCase() };
  }
  return { traceId };
}

/**
 * Lifts trace context into `event.trace` for a log that has none, so the log joins its trace.
 * Returns true when it did.
 */
export function liftTraceContext(e: UnifiedEvent, fromAttributes: boolean, fromBody: boolean): boolean {
  if (e.trace?.traceId) return false;
  let ctx: TraceContext | undefined;
  if (fromAttributes) ctx = traceFromFields(e.attributes);
  if (!ctx && fromBody) {
    const body = e.log?.body;
    if (typeof body === 'string') ctx = traceFromText(body);
    else if (body && typeof body === 'object' && !Array.isArray(body)) ctx = traceFromFields(body);
  }
  if (!ctx) return false;
  e.trace = ctx;
  return true;
}
