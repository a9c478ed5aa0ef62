import { MalformedError, Reader } from './reader';
import { Writer } from './writer';

/**
 * OTLP/JSON ⇄ OTLP protobuf, driven by a table of the OTLP messages (opentelemetry-proto v1.x).
 * The JSON encoding is not the hot path, so JSON requests are transcoded to protobuf and go
 * through the one protobuf decoder; the exporter's JSON output is the protobuf encoding read
 * back as JSON. Rules from the OTLP/JSON spec: lowerCamelCase names (snake_case accepted on
 * input), trace/span ids as hex, other bytes base64, 64-bit integers as decimal strings,
 * enums as integers (on input also by name, as the protobuf JSON mapping allows).
 */
type Scalar = 'string' | 'bytes' | 'id' | 'bool' | 'uint32' | 'int32' | 'sint32' | 'int64' | 'uint64' | 'fixed32' | 'fixed64' | 'sfixed64' | 'double' | 'enum';
/** `msg`: the message type of a 'message' field, the enum type (a key of ENUMS) of an 'enum' field. */
interface Field { name: string; num: number; type: Scalar | 'message'; msg?: string; repeated?: boolean }

function f(name: string, num: number, type: Field['type'], msg?: string, repeated = false): Field {
  return { name, num, type, msg, repeated };
}
const rep = (name: string, num: number, type: Field['type'], msg?: string): Field => f(name, num, type, msg, true);

/** SEVERITY_NUMBER_TRACE = 1, TRACE2 … TRACE4, DEBUG = 5, … FATAL4 = 24. */
function severityNumbers(): Record<string, number> {
  const out: Record<string, number> = { SEVERITY_NUMBER_UNSPECIFIED: 0 };
  ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'FATAL'].forEach((level, i) => {
    for (let k = 1; k <= 4; k++) out[`SEVERITY_NUMBER_${level}${k > 1 ? k : ''}`] = i * 4 + k;
  });
  return out;
}

/**
 * The enums of the OTLP messages, name → number (opentelemetry-proto v1.x). Maps, not objects:
 * a name from the request such as "constructor" must not find an inherited property.
 */
const ENUMS: Record<string, ReadonlyMap<string, number>> = Object.fromEntries(Object.entries({
  SpanKind: { SPAN_KIND_UNSPECIFIED: 0, SPAN_KIND_INTERNAL: 1, SPAN_KIND_SERVER: 2, SPAN_KIND_CLIENT: 3, SPAN_KIND_PRODUCER: 4, SPAN_KIND_CONSUMER: 5 },
  StatusCode: { STATUS_CODE_UNSET: 0, STATUS_CODE_OK: 1, STATUS_CODE_ERROR: 2 },
  SeverityNumber: severityNumbers(),
  AggregationTemporality: { AGGREGATION_TEMPORALITY_UNSPECIFIED: 0, AGGREGATION_TEMPORALITY_DELTA: 1, AGGREGATION_TEMPORALITY_CUMULATIVE: 2 },
}).map(([type, names]) => [type, new Map(Object.entries(names))]));

const SCHEMA: Record<string, Field[]> = {
  AnyValue: [f('stringValue', 1, 'string'), f('boolValue', 2, 'bool'), f('intValue', 3, 'int64'), f('doubleValue', 4, 'double'),
    f('arrayValue', 5, 'message', 'ArrayValue'), f('kvlistValue', 6, 'message', 'KeyValueList'), f('bytesValue', 7, 'bytes')],
  ArrayValue: [rep('values', 1, 'message', 'AnyValue')],
  KeyValueList: [rep('values', 1, 'message', 'KeyValue')],
  KeyValue: [f('key', 1, 'string'), f('value', 2, 'message', 'AnyValue')],
  InstrumentationScope: [f('name', 1, 'string'), f('version', 2, 'string'), rep('attributes', 3, 'message', 'KeyValue'), f('droppedAttributesCount', 4, 'uint32')],
  EntityRef: [f('schemaUrl', 1, 'string'), f('type', 2, 'string'), rep('idKeys', 3, 'string'), rep('descriptionKeys', 4, 'string')],
  Resource: [rep('attributes', 1, 'message', 'KeyValue'), f('droppedAttributesCount', 2, 'uint32'), rep('entityRefs', 3, 'message', 'EntityRef')],

  ExportTraceServiceRequest: [rep('resourceSpans', 1, 'message', 'ResourceSpans')],
  ResourceSpans: [f('resource', 1, 'message', 'Resource'), rep('scopeSpans', 2, 'message', 'ScopeSpans'), f('schemaUrl', 3, 'string')],
  ScopeSpans: [f('scope', 1, 'message', 'InstrumentationScope'), rep('spans', 2, 'message', 'Span'), f('schemaUrl', 3, 'string')],
  Span: [f('traceId', 1, 'id'), f('spanId', 2, 'id'), f('traceState', 3, 'string'), f('parentSpanId', 4, 'id'), f('flags', 16, 'fixed32'),
    f('name', 5, 'string'), f('kind', 6, 'enum', 'SpanKind'), f('startTimeUnixNano', 7, 'fixed64'), f('endTimeUnixNano', 8, 'fixed64'),
    rep('attributes', 9, 'message', 'KeyValue'), f('droppedAttributesCount', 10, 'uint32'), rep('events', 11, 'message', 'SpanEvent'),
    f('droppedEventsCount', 12, 'uint32'), rep('links', 13, 'message', 'SpanLink'), f('droppedLinksCount', 14, 'uint32'), f('status', 15, 'message', 'Status')],
  SpanEvent: [f('timeUnixNano', 1, 'fixed64'), f('name', 2, 'string'), rep('attributes', 3, 'message', 'KeyValue'), f('droppedAttributesCount', 4, 'uint32')],
  SpanLink: [f('traceId', 1, 'id'), f('spanId', 2, 'id'), f('traceState', 3, 'string'), rep('attributes', 4, 'message', 'KeyValue'),
    f('droppedAttributesCount', 5, 'uint32'), f('flags', 6, 'fixed32')],
  Status: [f('message', 2, 'string'), f('code', 3, 'enum', 'StatusCode')],

  ExportLogsServiceRequest: [rep('resourceLogs', 1, 'message', 'ResourceLogs')],
  ResourceLogs: [f('resource', 1, 'message', 'Resource'), rep('scopeLogs', 2, 'message', 'ScopeLogs'), f('schemaUrl', 3, 'string')],
  ScopeLogs: [f('scope', 1, 'message', 'InstrumentationScope'), rep('logRecords', 2, 'message', 'LogRecord'), f('schemaUrl', 3, 'string')],
  LogRecord: [f('timeUnixNano', 1, 'fixed64'), f('observedTimeUnixNano', 11, 'fixed64'), f('severityNumber', 2, 'enum', 'SeverityNumber'), f('severityText', 3, 'string'),
    f('body', 5, 'message', 'AnyValue'), rep('attributes', 6, 'message', 'KeyValue'), f('droppedAttributesCount', 7, 'uint32'), f('flags', 8, 'fixed32'),
    f('traceId', 9, 'id'), f('spanId', 10, 'id'), f('eventName', 12, 'string')],

  ExportMetricsServiceRequest: [rep('resourceMetrics', 1, 'message', 'ResourceMetrics')],
  ResourceMetrics: [f('resource', 1, 'message', 'Resource'), rep('scopeMetrics', 2, 'message', 'ScopeMetrics'), f('schemaUrl', 3, 'string')],
  ScopeMetrics: [f('scope', 1, 'message', 'InstrumentationScope'), rep('metrics', 2, 'message', 'Metric'), f('schemaUrl', 3, 'string')],
  Metric: [f('name', 1, 'string'), f('description', 2, 'string'), f('unit', 3, 'string'), f('gauge', 5, 'message', 'Gauge'), f('sum', 7, 'message', 'Sum'),
    f('histogram', 9, 'message', 'Histogram'), f('exponentialHistogram', 10, 'message', 'ExponentialHistogram'), f('summary', 11, 'message', 'Summary'),
    rep('metadata', 12, 'message', 'KeyValue')],
  Gauge: [rep('dataPoints', 1, 'message', 'NumberDataPoint')],
  Sum: [rep('dataPoints', 1, 'message', 'NumberDataPoint'), f('aggregationTemporality', 2, 'enum', 'AggregationTemporality'), f('isMonotonic', 3, 'bool')],
  Histogram: [rep('dataPoints', 1, 'message', 'HistogramDataPoint'), f('aggregationTemporality', 2, 'enum', 'AggregationTemporality')],
  ExponentialHistogram: [rep('dataPoints', 1, 'message', 'ExponentialHistogramDataPoint'), f('aggregationTemporality', 2, 'enum', 'AggregationTemporality')],
  Summary: [rep('dataPoints', 1, 'message', 'SummaryDataPoint')],
  NumberDataPoint: [rep('attributes', 7, 'message', 'KeyValue'), f('startTimeUnixNano', 2, 'fixed64'), f('timeUnixNano', 3, 'fixed64'),
    f('asDouble', 4, 'double'), f('asInt', 6, 'sfixed64'), rep('exemplars', 5, 'message', 'Exemplar'), f('flags', 8, 'uint32')],
  HistogramDataPoint: [rep('attributes', 9, 'message', 'KeyValue'), f('startTimeUnixNano', 2, 'fixed64'), f('timeUnixNano', 3, 'fixed64'),
    f('count', 4, 'fixed64'), f('sum', 5, 'double'), rep('bucketCounts', 6, 'fixed64'), rep('explicitBounds', 7, 'double'),
    rep('exemplars', 8, 'message', 'Exemplar'), f('flags', 10, 'uint32'), f('min', 11, 'double'), f('max', 12, 'double')],
  ExponentialHistogramDataPoint: [rep('attributes', 1, 'message', 'KeyValue'), f('startTimeUnixNano', 2, 'fixed64'), f('timeUnixNano', 3, 'fixed64'),
    f('count', 4, 'fixed64'), f('sum', 5, 'double'), f('scale', 6, 'sint32'), f('zeroCount', 7, 'fixed64'), f('positive', 8, 'message', 'Buckets'),
    f('negative', 9, 'message', 'Buckets'), f('flags', 10, 'uint32'), rep('exemplars', 11, 'message', 'Exemplar'), f('min', 12, 'double'),
    f('max', 13, 'double'), f('zeroThreshold', 14, 'double')],
  Buckets: [f('offset', 1, 'sint32'), rep('bucketCounts', 2, 'uint64')],
  SummaryDataPoint: [rep('attributes', 7, 'message', 'KeyValue'), f('startTimeUnixNano', 2, 'fixed64'), f('timeUnixNano', 3, 'fixed64'),
    f('count', 4, 'fixed64'), f('sum', 5, 'double'), rep('quantileValues', 6, 'message', 'ValueAtQuantile'), f('flags', 8, 'uint32')],
  ValueAtQuantile: [f('quantile', 1, 'double'), f('value', 2, 'double')],
  Exemplar: [rep('filteredAttributes', 7, 'message', 'KeyValue'), f('timeUnixNano', 2, 'fixed64'), f('asDouble', 3, 'double'),
    f('asInt', 6, 'sfixed64'), f('spanId', 4, 'id'), f('traceId', 5, 'id')],

  ExportTraceServiceResponse: [f('partialSuccess', 1, 'message', 'ExportTracePartialSuccess')],
  ExportTracePartialSuccess: [f('rejectedSpans', 1, 'int64'), f('errorMessage', 2, 'string')],
  ExportLogsServiceResponse: [f('partialSuccess', 1, 'message', 'ExportLogsPartialSuccess')],
  ExportLogsPartialSuccess: [f('rejectedLogRecords', 1, 'int64'), f('errorMessage', 2, 'string')],
  ExportMetricsServiceResponse: [f('partialSuccess', 1, 'message', 'ExportMetricsPartialSuccess')],
  ExportMetricsPartialSuccess: [f('rejectedDataPoints', 1, 'int64'), f('errorMessage', 2, 'string')],
};

const WIRE: Record<Scalar | 'message', number> = {
  string: 2, bytes: 2, id: 2, message: 2, bool: 0, uint32: 0, int32: 0, sint32: 0, int64: 0, uint64: 0, fixed32: 5, fixed64: 1, sfixed64: 1, double: 1, enum: 0,
};
const PACKABLE = new Set<string>(['bool', 'uint32', 'int32', 'sint32', 'int64', 'uint64', 'fixed32', 'fixed64', 'sfixed64', 'double']);

const snake = (s: string): string => s.replace(/[A-Z]/g, (c) => '_' + c.toLowerCase());
const byNumber = new Map<string, Map<number, Field>>();
for (const [msg, fields] of Object.entries(SCHEMA)) byNumber.set(msg, new Map(fields.map((x) => [x.num, x])));

export type OtlpMessage = 'ExportTraceServiceRequest' | 'ExportLogsServiceRequest' | 'ExportMetricsServiceRequest'
  | 'ExportTraceServiceResponse' | 'ExportLogsServiceResponse' | 'ExportMetricsServiceResponse';

/** OTLP/JSON object → protobuf bytes. Throws MalformedError with the JSON path on bad input. */
export function jsonToProto(message: OtlpMessage, obj: unknown): Buffer {
  const w = new Writer(16 * 1024);
  writeMessage(w, message, obj, message);
  return w.finish();
}

function writeMessage(w: Writer, msg: string, obj: unknown, path: string): void {
  if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) throw new MalformedError(`${path}: expected an object`);
  const o = obj as Record<string, unknown>;
  for (const fd of SCHEMA[msg]!) {
    let v = o[fd.name];
    if (v === undefined) v = o[snake(fd.name)];
    if (v === undefined || v === null) continue;
    const p = `${path}.${fd.name}`;
    if (fd.repeated) {
      if (!Array.isArray(v)) throw new MalformedError(`${p}: expected an array`);
      if (PACKABLE.has(fd.type) && v.length) {
        const m = w.begin(fd.num);
        v.forEach((x, i) => writeScalarValue(w, fd.type as Scalar, x, `${p}[${i}]`));
        w.end(m);
      } else v.forEach((x, i) => writeField(w, fd, x, `${p}[${i}]`));
    } else writeField(w, fd, v, p);
  }
}

function writeField(w: Writer, fd: Field, v: unknown, path: string): void {
  if (fd.type === 'message') {
    const m = w.begin(fd.num);
    writeMessage(w, fd.msg!, v, path);
    w.end(m);
    return;
  }
  if (fd.type === 'string') { if (typeof v !== 'string') throw new MalformedError(`${path}: expected a string`); w.string(fd.num, v); return; }
  if (fd.type === 'id') {
    if (typeof v !== 'string' || !/^([0-9a-fA-F]{2})*$/.test(v)) throw new MalformedError(`${path}: expected a hex string`);
    w.bytesHex(fd.num, v);
    return;
  }
  if (fd.type === 'bytes') { if (typeof v !== 'string') throw new MalformedError(`${path}: expected base64 text`); w.bytesBase64(fd.num, v); return; }
  if (fd.type === 'enum') { w.tag(fd.num, WIRE.enum); w.int64(enumValue(fd.msg!, v, path)); return; }
  w.tag(fd.num, WIRE[fd.type]);
  writeScalarValue(w, fd.type, v, path);
}

function num(v: unknown, path: string, integer: boolean): number | string {
  if (typeof v === 'number') {
    if (integer && !Number.isInteger(v)) throw new MalformedError(`${path}: expected an integer`);
    return v;
  }
  if (typeof v === 'string') {
    if (integer) {
      if (!/^-?\d+$/.test(v)) throw new MalformedError(`${path}: expected an integer`);
      return v;
    }
    if (v === 'NaN') return NaN;
    if (v === 'Infinity') return Infinity;
    if (v === '-Infinity') return -Infinity;
    const n = Number(v);
    if (Number.isNaN(n)) throw new MalformedError(`${path}: expected a number`);
    return n;
  }
  throw new MalformedError(`${path}: expected a number`);
}

/**
 * An enum given as its number (also as decimal text) or, as the protobuf JSON mapping and the
 * Collector accept, as its name ("SPAN_KIND_SERVER"); an unknown name is malformed input.
 */
function enumValue(type: string, v: unknown, path: string): number {
  if (typeof v !== 'string' || /^-?\d+$/.test(v)) return Number(num(v, path, true));
  const n = ENUMS[type]!.get(v);
  if (n === undefined) throw new MalformedError(`${path}: unknown ${type} "${v}"`);
  return n;
}

function writeScalarValue(w: Writer, type: Scalar, v: unknown, path: string): void {
  switch (type) {
    case 'bool':
      if (typeof v !== 'boolean') throw new MalformedError(`${path}: expected a boolean`);
      w.varint(v ? 1 : 0); return;
    case 'uint32': case 'int32': w.int64(Number(num(v, path, true))); return;
    case 'sint32': w.sint32(Number(num(v, path, true))); return;
    case 'int64': case 'uint64': w.int64(num(v, path, true)); return;
    case 'fixed32': w.fixed32(Number(num(v, path, true))); return;
    case 'fixed64': case 'sfixed64': w.fixed64(num(v, path, true)); return;
    case 'double': w.double(Number(num(v, path, false))); return;
    default: throw new MalformedError(`${path}: unsupported`);
  }
}

/** Protobuf bytes → OTLP/JSON object. */
export function protoToJson(message: OtlpMessage, buf: Buffer): Record<string, unknown> {
  return readMessage(new Reader(buf), buf.length, message);
}

function readMessage(r: Reader, end: number, msg: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const fields = byNumber.get(msg)!;
  while (r.pos < end) {
    const tag = r.uint32();
    const fd = fields.get(tag >>> 3);
    if (!fd) { r.skip(tag & 7); continue; }
    const wire = tag & 7;
    if (fd.repeated && wire === 2 && fd.type !== 'message' && PACKABLE.has(fd.type)) {
      const e = r.len();
      const arr = (out[fd.name] ??= []) as unknown[];
      while (r.pos < e) arr.push(readScalar(r, fd.type as Scalar));
      continue;
    }
    let v: unknown;
    if (fd.type === 'message') { const e = r.len(); v = readMessage(r, e, fd.msg!); r.pos = e; }
    else v = readScalar(r, fd.type);
    if (fd.repeated) ((out[fd.name] ??= []) as unknown[]).push(v);
    else out[fd.name] = v;
  }
  return out;
}

function readScalar(r: Reader, type: Scalar): unknown {
  switch (type) {
    case 'string': return r.string();
    case 'id': return r.hex();
    case 'bytes': return r.base64();
    case 'bool': return r.bool();
    case 'uint32': return r.uint32();
    case 'int32': case 'enum': { const v = r.int64(); return typeof v === 'number' ? v | 0 : Number(v) | 0; }
    case 'sint32': return r.sint32();
    case 'int64': return String(r.int64());
    case 'uint64': return String(r.uint64());
    case 'fixed32': return r.fixed32();
    case 'fixed64': return r.fixed64String();
    case 'sfixed64': return String(r.sfixed64());
    case 'double': { const d = r.double(); return Number.isFinite(d) ? d : String(d); }
  }
}
