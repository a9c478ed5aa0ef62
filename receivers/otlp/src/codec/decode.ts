import { newEventId, nextEventNumber, type Attributes, type AttributeValue, type Severity, type UnifiedEvent } from '@tapio/core';
import { anyValueToJson, decodeAnyValue, decodeOneKeyValue, scanKeyValue, type AttributeType, type AttributeTypes } from './anyvalue';
import { MalformedError, Reader, uint64String } from './reader';
import { OtlpSpanEvent, type SpanOrigin } from './span-event';
import { scanWithAttributes, spanName } from './span-payload';
import type { BucketsJson, EntityRefJson, ExemplarJson, MetricType, PointJson, ResourceMeta, ScopeInfo } from './model';
import { SPAN_STATUS_ERROR } from './model';

/** What decoding one Export*ServiceRequest produced. */
export interface DecodeResult {
  events: UnifiedEvent[];
  /** Items that were well-formed protobuf but invalid OTLP (reported as partial success). */
  rejected: number;
  errorMessage: string;
}

const TWO_32 = 4294967296;

/** Per-request context: the receiver id and the time the request arrived. */
interface Ctx {
  source: string;
  observed: number;
  out: UnifiedEvent[];
  rejected: number;
  errorMessage: string;
  /** What the spans of the scope being read share (see OtlpSpanEvent). */
  origin: SpanOrigin | undefined;
}

function newCtx(source: string, observed: number): Ctx {
  return { source, observed, out: [], rejected: 0, errorMessage: '', origin: undefined };
}

function result(c: Ctx): DecodeResult {
  return { events: c.out, rejected: c.rejected, errorMessage: c.errorMessage };
}

function reject(c: Ctx, message: string): void {
  c.rejected++;
  if (!c.errorMessage) c.errorMessage = message;
}

// ------------------------------------------------------------ shared envelope

interface Envelope {
  resource: Attributes;
  meta: ResourceMeta;
}

/** Scans a ResourceX message: decodes its resource and schema_url, returns the ranges of its ScopeX. */
function readResourceX(r: Reader, end: number, scopeTag: number): { env: Envelope; scopes: number[] } {
  const env: Envelope = { resource: {}, meta: { schemaUrl: '', droppedAttributesCount: 0, entityRefs: undefined, attributeTypes: undefined } };
  const scopes: number[] = [];
  while (r.pos < end) {
    const tag = r.uint32();
    if (tag === 10) { // resource
      const rend = r.len();
      readResource(r, rend, env);
      r.pos = rend;
    } else if (tag === scopeTag) {
      const send = r.len();
      scopes.push(r.pos, send);
      r.pos = send;
    } else if (tag === 26) env.meta.schemaUrl = r.string();
    else r.skip(tag & 7);
  }
  return { env, scopes };
}

function readResource(r: Reader, end: number, env: Envelope): void {
  let types: AttributeTypes | undefined;
  while (r.pos < end) {
    const tag = r.uint32();
    if (tag === 10) types = decodeOneKeyValue(r, env.resource, types);
    else if (tag === 16) env.meta.droppedAttributesCount = r.uint32();
    else if (tag === 26) {
      const eend = r.len();
      (env.meta.entityRefs ??= []).push(readEntityRef(r, eend));
      r.pos = eend;
    } else r.skip(tag & 7);
  }
  env.meta.attributeTypes = types;
}

function readEntityRef(r: Reader, end: number): EntityRefJson {
  const e: EntityRefJson = {};
  while (r.pos < end) {
    const tag = r.uint32();
    if (tag === 10) e.schemaUrl = r.string();
    else if (tag === 18) e.type = r.string();
    else if (tag === 26) (e.idKeys ??= []).push(r.string());
    else if (tag === 34) (e.descriptionKeys ??= []).push(r.string());
    else r.skip(tag & 7);
  }
  return e;
}

/** Scans a ScopeX message: decodes scope and schema_url; returns the ranges of its items. */
function readScopeX(r: Reader, start: number, end: number, itemTag: number): { scope: ScopeInfo; items: number[] } {
  const scope: ScopeInfo = { name: '', version: '', attributes: {}, droppedAttributesCount: 0, attributeTypes: undefined, schemaUrl: '' };
  const items: number[] = [];
  r.pos = start;
  while (r.pos < end) {
    const tag = r.uint32();
    if (tag === 10) {
      const send = r.len();
      while (r.pos < send) {
        const t = r.uint32();
        if (t === 10) scope.name = r.string();
        else if (t === 18) scope.version = r.string();
        else if (t === 26) scope.attributeTypes = decodeOneKeyValue(r, scope.attributes, scope.attributeTypes);
        else if (t === 32) scope.droppedAttributesCount = r.uint32();
        else r.skip(t & 7);
      }
    } else if (tag === itemTag) {
      const iend = r.len();
      items.push(r.pos, iend);
      r.pos = iend;
    } else if (tag === 26) scope.schemaUrl = r.string();
    else r.skip(tag & 7);
  }
  return { scope, items };
}

/** Walks Export*ServiceRequest → ResourceX → ScopeX and calls `item` for every item range. */
function walk(buf: Buffer, c: Ctx, itemTag: number, item: (r: Reader, end: number, env: Envelope, scope: ScopeInfo, c: Ctx) => void): void {
  const r = new Reader(buf);
  try {
    while (r.pos < r.end) {
      const tag = r.uint32();
      if (tag !== 10) { r.skip(tag & 7); continue; }
      const rend = r.len();
      const { env, scopes } = readResourceX(r, rend, 18);
      for (let i = 0; i < scopes.length; i += 2) {
        const { scope, items } = readScopeX(r, scopes[i]!, scopes[i + 1]!, itemTag);
        for (let j = 0; j < items.length; j += 2) {
          r.pos = items[j]!;
          item(r, items[j + 1]!, env, scope, c);
        }
      }
      r.pos = rend;
    }
  } catch (err) {
    if (err instanceof MalformedError || err instanceof RangeError) throw new MalformedError(`malformed OTLP protobuf: ${err.message}`);
    throw err;
  }
}

// ------------------------------------------------------------ traces

export function decodeTraces(buf: Buffer, source: string, observed: number): DecodeResult {
  const c = newCtx(source, observed);
  walk(buf, c, 18, decodeSpan);
  return result(c);
}

/**
 * What a decode worker found in a trace request (see decode-pool.ts): per span in message order,
 * its start time and CHECK_INFO / CHECK_ERROR / CHECK_REJECTED. The main thread builds the events
 * from it (buildTraces) without checking the spans again.
 */
export interface TraceIndex {
  spans: Float64Array;
  rejected: number;
  errorMessage: string;
}

export const CHECK_INFO = 0;
export const CHECK_ERROR = 1;
export const CHECK_REJECTED = 2;

/** Checks every span of a trace request (throws MalformedError) and indexes them. */
export function indexTraces(buf: Buffer): TraceIndex {
  const c = newCtx('', 0);
  const out: number[] = [];
  walk(buf, c, 18, (r, end, _env, _scope, ctx) => {
    const check = checkSpan(r, end, ctx);
    out.push(checkedStart, check);
  });
  return { spans: Float64Array.from(out), rejected: c.rejected, errorMessage: c.errorMessage };
}

/** The events of a request indexTraces checked: only the envelopes are read again. */
export function buildTraces(buf: Buffer, index: TraceIndex, source: string, observed: number): DecodeResult {
  const c = newCtx(source, observed);
  const spans = index.spans;
  let k = 0;
  walk(buf, c, 18, (r, end, env, scope, ctx) => {
    const start = spans[k]!, check = spans[k + 1]!;
    k += 2;
    if (check !== CHECK_REJECTED) ctx.out.push(spanEvent(ctx, start, check, env, scope, r.buf, r.pos, end));
  });
  if (k !== spans.length) throw new Error(`trace index does not match the request (${k / 2} spans read, ${spans.length / 2} indexed)`);
  c.rejected = index.rejected;
  c.errorMessage = index.errorMessage;
  return result(c);
}

/**
 * Checks one Span and makes its event. Only what every pipeline needs is decoded now (start
 * time, severity from the status code); the rest is checked here and decoded on first read
 * (OtlpSpanEvent), since a pipeline that only batches and forwards never reads it.
 */
function decodeSpan(r: Reader, end: number, env: Envelope, scope: ScopeInfo, c: Ctx): void {
  const begin = r.pos;
  const check = checkSpan(r, end, c);
  if (check !== CHECK_REJECTED) c.out.push(spanEvent(c, checkedStart, check, env, scope, r.buf, begin, end));
}

function spanEvent(c: Ctx, start: number, check: number, env: Envelope, scope: ScopeInfo, buf: Buffer, begin: number, end: number): OtlpSpanEvent {
  const severity: Severity = check === CHECK_ERROR ? 'error' : 'info';
  // one origin per scope of this request, shared by its spans
  let origin = c.origin;
  if (origin === undefined || origin.scope !== scope) {
    origin = { kind: 'span', source: c.source, observedTime: c.observed, resource: env.resource, scope, meta: env.meta };
    c.origin = origin;
  }
  return new OtlpSpanEvent(nextEventNumber(), start, severity, origin, buf, begin, end);
}

/** Start time of the span checkSpan last read (a module variable: no result object per span). */
let checkedStart = 0;

/**
 * Checks a whole Span message: every field's wire type and length, nested attribute values,
 * events, links, status, and the id sizes (a span with wrong ones is rejected: partial success).
 */
function checkSpan(r: Reader, end: number, c: Ctx): number {
  const begin = r.pos;
  let traceIdBytes = 0, spanIdBytes = 0, statusCode = 0;
  let startLo = 0, startHi = 0;
  const buf = r.buf;
  while (r.pos < end) {
    const tag = r.uint32();
    switch (tag) {
      case 10: { const e = r.len(); traceIdBytes = e - r.pos; r.pos = e; break; }
      case 18: { const e = r.len(); spanIdBytes = e - r.pos; r.pos = e; break; }
      case 57: checkRoom(r, 8); startLo = buf.readUInt32LE(r.pos); startHi = buf.readUInt32LE(r.pos + 4); r.pos += 8; break;
      case 65: checkRoom(r, 8); r.pos += 8; break;
      case 74: scanKeyValue(r); break;
      case 90: { const e = r.len(); scanWithAttributes(r, e, 26); r.pos = e; break; }
      case 106: { const e = r.len(); scanWithAttributes(r, e, 34); r.pos = e; break; }
      case 122: {
        const e = r.len();
        statusCode = 0;
        while (r.pos < e) {
          const t = r.uint32();
          if (t === 24) statusCode = r.uint32();
          else r.skip(t & 7);
        }
        break;
      }
      default: r.skip(tag & 7);
    }
  }
  if (r.pos !== end) throw new MalformedError('Span overran its length');
  checkedStart = startHi * TWO_32 + startLo;
  if (traceIdBytes !== 16 || spanIdBytes !== 8) {
    r.pos = begin;
    reject(c, `span "${spanName(r, end)}": trace_id must be 16 bytes and span_id 8 bytes`);
    r.pos = end;
    return CHECK_REJECTED;
  }
  return statusCode === SPAN_STATUS_ERROR ? CHECK_ERROR : CHECK_INFO;
}

function checkRoom(r: Reader, n: number): void {
  if (r.pos + n > r.end) throw new MalformedError('truncated fixed64');
}

// ------------------------------------------------------------ logs

/** OTLP SeverityNumber ranges → Tapio severity. */
export function severityFromNumber(n: number): Severity {
  if (n <= 0) return 'info';
  if (n <= 8) return 'debug';
  if (n <= 12) return 'info';
  if (n <= 16) return 'warn';
  if (n <= 20) return 'error';
  return 'fatal';
}

export function decodeLogs(buf: Buffer, source: string, observed: number): DecodeResult {
  const c = newCtx(source, observed);
  walk(buf, c, 18, decodeLogRecord);
  return result(c);
}

function decodeLogRecord(r: Reader, end: number, env: Envelope, scope: ScopeInfo, c: Ctx): void {
  let time = '0', observedTime = '0', severityText = '', traceId = '', spanId = '', eventName = '';
  let severityNumber = 0, dropAttrs = 0, flags = 0;
  let timeNum = 0, observedNum = 0;
  let body: AttributeValue | undefined;
  let bodyType: AttributeType | undefined;
  const attributes: Attributes = {};
  let types: AttributeTypes | undefined;
  const buf = r.buf;
  while (r.pos < end) {
    const tag = r.uint32();
    switch (tag) {
      case 9: { checkRoom(r, 8); const lo = buf.readUInt32LE(r.pos), hi = buf.readUInt32LE(r.pos + 4); r.pos += 8; time = uint64String(lo, hi); timeNum = hi * TWO_32 + lo; break; }
      case 89: { checkRoom(r, 8); const lo = buf.readUInt32LE(r.pos), hi = buf.readUInt32LE(r.pos + 4); r.pos += 8; observedTime = uint64String(lo, hi); observedNum = hi * TWO_32 + lo; break; }
      case 16: severityNumber = r.uint32(); break;
      case 26: severityText = r.string(); break;
      case 42: {
        const e = r.len();
        const s = r.pos;
        body = decodeAnyValue(r, e);
        const lt = lastTypeOf(r, s, e, body);
        bodyType = lt;
        r.pos = e;
        break;
      }
      case 50: types = decodeOneKeyValue(r, attributes, types); break;
      case 56: dropAttrs = r.uint32(); break;
      case 69: flags = r.fixed32(); break;
      case 74: traceId = r.hex(); break;
      case 82: spanId = r.hex(); break;
      case 98: eventName = r.string(); break;
      default: r.skip(tag & 7);
    }
  }
  if (r.pos !== end) throw new MalformedError('LogRecord overran its length');
  const ev: UnifiedEvent = {
    id: newEventId(),
    time: timeNum || observedNum || c.observed,
    observedTime: observedNum || c.observed,
    kind: 'log',
    source: c.source,
    severity: severityFromNumber(severityNumber),
    trace: traceId ? { traceId, spanId: spanId || undefined } : undefined,
    resource: env.resource,
    attributes,
    log: {
      body,
      severityNumber,
      severityText,
      timeUnixNano: time,
      observedTimeUnixNano: observedTime,
      flags,
      eventName,
      droppedAttributesCount: dropAttrs,
      attributeTypes: types,
      bodyType,
      // a span id without a trace id cannot live in `trace`; keep it here
      spanId: traceId ? undefined : spanId || undefined,
      scope,
      resourceMeta: env.meta,
    },
  };
  c.out.push(ev);
}

/** The type note of a body just decoded: re-derives it by re-reading (bodies with notes are rare). */
function lastTypeOf(r: Reader, start: number, end: number, value: AttributeValue): AttributeType | undefined {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') {
    // bytes decode to a base64 string: check the wire tag
    if (typeof value === 'string' && r.buf[start] === 58) return 'b';
    return undefined;
  }
  if (typeof value === 'number') return r.buf[start] === 33 && Number.isInteger(value) ? 'd' : undefined;
  if (typeof value === 'string') return undefined;
  // composite: keep the exact form only if something inside needs it
  const json = anyValueToJson(new Reader(r.buf, start, end), end);
  return needsExact(json) ? { any: json } : undefined;
}

function needsExact(a: import('./anyvalue').JsonAnyValue): boolean {
  if (a.bytesValue !== undefined) return true;
  if (a.intValue !== undefined) return !Number.isSafeInteger(Number(a.intValue));
  if (a.doubleValue !== undefined) return Number.isInteger(Number(a.doubleValue));
  if (a.arrayValue) return (a.arrayValue.values ?? []).some(needsExact);
  if (a.kvlistValue) return (a.kvlistValue.values ?? []).some((kv) => kv.value !== undefined && needsExact(kv.value));
  return false;
}

// ------------------------------------------------------------ metrics

export function decodeMetrics(buf: Buffer, source: string, observed: number): DecodeResult {
  const c = newCtx(source, observed);
  walk(buf, c, 18, decodeMetric);
  return result(c);
}

const METRIC_TYPES: Record<number, MetricType> = { 42: 'gauge', 58: 'sum', 74: 'histogram', 82: 'exponentialHistogram', 90: 'summary' };

function decodeMetric(r: Reader, end: number, env: Envelope, scope: ScopeInfo, c: Ctx): void {
  let name = '', description = '', unit = '';
  let type: MetricType | undefined;
  let dataStart = 0, dataEnd = 0;
  let metadata: Attributes | undefined;
  let metadataTypes: AttributeTypes | undefined;
  while (r.pos < end) {
    const tag = r.uint32();
    if (tag === 10) name = r.string();
    else if (tag === 18) description = r.string();
    else if (tag === 26) unit = r.string();
    else if (METRIC_TYPES[tag] !== undefined) {
      type = METRIC_TYPES[tag];
      dataEnd = r.len();
      dataStart = r.pos;
      r.pos = dataEnd;
    } else if (tag === 98) metadataTypes = decodeOneKeyValue(r, (metadata ??= {}), metadataTypes);
    else r.skip(tag & 7);
  }
  if (r.pos !== end) throw new MalformedError('Metric overran its length');
  if (type === undefined) {
    reject(c, `metric "${name}" has no data`);
    return;
  }
  let temporality = 0;
  let monotonic = false;
  const points: number[] = [];
  r.pos = dataStart;
  while (r.pos < dataEnd) {
    const tag = r.uint32();
    if (tag === 10) { const e = r.len(); points.push(r.pos, e); r.pos = e; }
    else if (tag === 16 && type !== 'gauge' && type !== 'summary') temporality = r.uint32();
    else if (tag === 24 && type === 'sum') monotonic = r.bool();
    else r.skip(tag & 7);
  }
  for (let i = 0; i < points.length; i += 2) {
    r.pos = points[i]!;
    const pend = points[i + 1]!;
    const attributes: Attributes = {};
    const [point, types] = type === 'gauge' || type === 'sum' ? decodeNumberPoint(r, pend, attributes)
      : type === 'histogram' ? decodeHistogramPoint(r, pend, attributes)
        : type === 'exponentialHistogram' ? decodeExpHistogramPoint(r, pend, attributes)
          : decodeSummaryPoint(r, pend, attributes);
    const t = Number(point.timeUnixNano);
    c.out.push({
      id: newEventId(),
      time: t || c.observed,
      observedTime: c.observed,
      kind: 'metric',
      source: c.source,
      severity: 'info',
      trace: undefined,
      resource: env.resource,
      attributes,
      metric: {
        name,
        type,
        unit,
        value: point.asDouble ?? (point.asInt !== undefined ? Number(point.asInt) : undefined),
        description,
        aggregationTemporality: temporality,
        isMonotonic: monotonic,
        point,
        metadata,
        metadataTypes,
        attributeTypes: types,
        scope,
        resourceMeta: env.meta,
      },
    });
  }
}

function decodeExemplar(r: Reader, end: number): ExemplarJson {
  const e: ExemplarJson = { filteredAttributes: {}, timeUnixNano: '0', spanId: '', traceId: '', filteredAttributeTypes: undefined };
  while (r.pos < end) {
    const tag = r.uint32();
    if (tag === 58) e.filteredAttributeTypes = decodeOneKeyValue(r, e.filteredAttributes, e.filteredAttributeTypes);
    else if (tag === 17) e.timeUnixNano = r.fixed64String();
    else if (tag === 25) e.asDouble = r.double();
    else if (tag === 49) e.asInt = r.sfixed64();
    else if (tag === 34) e.spanId = r.hex();
    else if (tag === 42) e.traceId = r.hex();
    else r.skip(tag & 7);
  }
  return e;
}

function newPoint(): PointJson {
  return { startTimeUnixNano: '0', timeUnixNano: '0', flags: 0 };
}

function decodeNumberPoint(r: Reader, end: number, attrs: Attributes): [PointJson, AttributeTypes | undefined] {
  const p = newPoint();
  let types: AttributeTypes | undefined;
  while (r.pos < end) {
    const tag = r.uint32();
    switch (tag) {
      case 58: types = decodeOneKeyValue(r, attrs, types); break;
      case 17: p.startTimeUnixNano = r.fixed64String(); break;
      case 25: p.timeUnixNano = r.fixed64String(); break;
      case 33: p.asDouble = r.double(); p.asInt = undefined; break;
      case 49: p.asInt = r.sfixed64(); p.asDouble = undefined; break;
      case 42: { const e = r.len(); (p.exemplars ??= []).push(decodeExemplar(r, e)); r.pos = e; break; }
      case 64: p.flags = r.uint32(); break;
      default: r.skip(tag & 7);
    }
  }
  return [p, types];
}

function packedFixed64(r: Reader, out: (number | string)[]): void {
  const e = r.len();
  while (r.pos < e) out.push(r.fixed64Number());
}

function packedDouble(r: Reader, out: number[]): void {
  const e = r.len();
  while (r.pos < e) out.push(r.double());
}

function decodeHistogramPoint(r: Reader, end: number, attrs: Attributes): [PointJson, AttributeTypes | undefined] {
  const p = newPoint();
  p.count = 0; p.bucketCounts = []; p.explicitBounds = [];
  let types: AttributeTypes | undefined;
  while (r.pos < end) {
    const tag = r.uint32();
    switch (tag) {
      case 74: types = decodeOneKeyValue(r, attrs, types); break;
      case 17: p.startTimeUnixNano = r.fixed64String(); break;
      case 25: p.timeUnixNano = r.fixed64String(); break;
      case 33: p.count = r.fixed64Number(); break;
      case 41: p.sum = r.double(); break;
      case 50: packedFixed64(r, p.bucketCounts); break;
      case 49: p.bucketCounts.push(r.fixed64Number()); break;
      case 58: packedDouble(r, p.explicitBounds); break;
      case 57: p.explicitBounds.push(r.double()); break;
      case 66: { const e = r.len(); (p.exemplars ??= []).push(decodeExemplar(r, e)); r.pos = e; break; }
      case 80: p.flags = r.uint32(); break;
      case 89: p.min = r.double(); break;
      case 97: p.max = r.double(); break;
      default: r.skip(tag & 7);
    }
  }
  return [p, types];
}

function decodeBuckets(r: Reader, end: number): BucketsJson {
  const b: BucketsJson = { offset: 0, bucketCounts: [] };
  while (r.pos < end) {
    const tag = r.uint32();
    if (tag === 8) b.offset = r.sint32();
    else if (tag === 18) { const e = r.len(); while (r.pos < e) b.bucketCounts.push(r.uint64()); }
    else if (tag === 16) b.bucketCounts.push(r.uint64());
    else r.skip(tag & 7);
  }
  return b;
}

function decodeExpHistogramPoint(r: Reader, end: number, attrs: Attributes): [PointJson, AttributeTypes | undefined] {
  const p = newPoint();
  p.count = 0; p.scale = 0; p.zeroCount = 0; p.zeroThreshold = 0;
  let types: AttributeTypes | undefined;
  while (r.pos < end) {
    const tag = r.uint32();
    switch (tag) {
      case 10: types = decodeOneKeyValue(r, attrs, types); break;
      case 17: p.startTimeUnixNano = r.fixed64String(); break;
      case 25: p.timeUnixNano = r.fixed64String(); break;
      case 33: p.count = r.fixed64Number(); break;
      case 41: p.sum = r.double(); break;
      case 48: p.scale = r.sint32(); break;
      case 57: p.zeroCount = r.fixed64Number(); break;
      case 66: { const e = r.len(); p.positive = decodeBuckets(r, e); r.pos = e; break; }
      case 74: { const e = r.len(); p.negative = decodeBuckets(r, e); r.pos = e; break; }
      case 80: p.flags = r.uint32(); break;
      case 90: { const e = r.len(); (p.exemplars ??= []).push(decodeExemplar(r, e)); r.pos = e; break; }
      case 97: p.min = r.double(); break;
      case 105: p.max = r.double(); break;
      case 113: p.zeroThreshold = r.double(); break;
      default: r.skip(tag & 7);
    }
  }
  return [p, types];
}

function decodeSummaryPoint(r: Reader, end: number, attrs: Attributes): [PointJson, AttributeTypes | undefined] {
  const p = newPoint();
  p.count = 0; p.sum = 0; p.quantileValues = [];
  let types: AttributeTypes | undefined;
  while (r.pos < end) {
    const tag = r.uint32();
    switch (tag) {
      case 58: types = decodeOneKeyValue(r, attrs, types); break;
      case 17: p.startTimeUnixNano = r.fixed64String(); break;
      case 25: p.timeUnixNano = r.fixed64String(); break;
      case 33: p.count = r.fixed64Number(); break;
      case 41: p.sum = r.double(); break;
      case 50: {
        const e = r.len();
        const q = { quantile: 0, value: 0 };
        while (r.pos < e) {
          const t = r.uint32();
          if (t === 9) q.quantile = r.double();
          else if (t === 17) q.value = r.double();
          else r.skip(t & 7);
        }
        p.quantileValues.push(q);
        break;
      }
      case 64: p.flags = r.uint32(); break;
      default: r.skip(tag & 7);
    }
  }
  return [p, types];
}

