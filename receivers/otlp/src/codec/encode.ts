import { RAW_WIRE_BYTES, type Attributes, type AttributeValue, type UnifiedEvent, type WithRawWireBytes } from '@tapio/core';
import { encodeJsonAnyValue, encodeKeyValues, encodeNatural, type AttributeType, type AttributeTypes } from './anyvalue';
import type { BucketsJson, EntityRefJson, ExemplarJson, PointJson, ResourceMeta, ScopeInfo, SpanEventJson, SpanLinkJson } from './model';
import { OtlpSpanEvent } from './span-event';
import { Writer } from './writer';

/**
 * UnifiedEvents → Export{Trace,Logs,Metrics}ServiceRequest protobuf. Events decoded from OTLP
 * carry their resource/scope envelope (shared objects), so grouping by identity rebuilds the
 * ResourceX/ScopeX structure they arrived in. Other events are grouped by resource content.
 */
const shared = new Writer(256 * 1024);

interface Group {
  resource: Attributes;
  meta: ResourceMeta | undefined;
  scopes: Map<ScopeInfo | undefined, UnifiedEvent[]>;
  /** Scope objects equal in content to one already in `scopes` (events that lost sharing, e.g. after a persistent queue). */
  scopeAlias: Map<ScopeInfo, ScopeInfo> | undefined;
}

/**
 * Groups events by resource and scope: by object identity first (events decoded from one
 * ResourceX share their objects, so this is one Map lookup per change of resource), and by
 * content when identity misses (events from other sources, or that went through a persistent
 * queue), so equal resources and scopes still share one ResourceX / ScopeX.
 */
function groupEvents(events: UnifiedEvent[], payloadOf: (e: UnifiedEvent) => Record<string, unknown> | undefined): Group[] {
  const byIdentity = new Map<object, Group>();
  const byContent = new Map<string, Group>();
  const groups: Group[] = [];
  let lastResource: object | undefined;
  let lastGroup: Group | undefined;
  for (let i = 0; i < events.length; i++) {
    const e = events[i]!;
    // A span nobody read keeps its payload undecoded (OtlpSpanEvent): group it without decoding.
    const lazy = e instanceof OtlpSpanEvent && !e.spanMaterialized ? e : undefined;
    const p = lazy ? undefined : payloadOf(e);
    const meta = lazy ? lazy.otlpResourceMeta : p?.resourceMeta as ResourceMeta | undefined;
    let g: Group | undefined;
    if (e.resource === lastResource) g = lastGroup!;
    else {
      g = byIdentity.get(e.resource);
      if (!g) {
        const key = JSON.stringify(e.resource) + '\u0000' + (meta ? JSON.stringify(meta) : '');
        g = byContent.get(key);
        if (!g) {
          g = { resource: e.resource, meta, scopes: new Map(), scopeAlias: undefined };
          byContent.set(key, g);
          groups.push(g);
        }
        byIdentity.set(e.resource, g);
      }
      lastResource = e.resource;
      lastGroup = g;
    }
    let scope = lazy ? lazy.otlpScope : p?.scope as ScopeInfo | undefined;
    let list = g.scopes.get(scope);
    if (!list && scope) {
      const alias = g.scopeAlias?.get(scope);
      if (alias) list = g.scopes.get((scope = alias));
      else {
        const json = JSON.stringify(scope);
        for (const known of g.scopes.keys()) {
          if (known && JSON.stringify(known) === json) {
            (g.scopeAlias ??= new Map()).set(scope, known);
            list = g.scopes.get((scope = known));
            break;
          }
        }
      }
    }
    if (!list) g.scopes.set(scope, (list = []));
    list.push(e);
  }
  return groups;
}

function writeEnvelopes(w: Writer, groups: Group[], writeItems: (w: Writer, events: UnifiedEvent[]) => void): void {
  for (const g of groups) {
    const rm = w.begin(1);
    const res = w.begin(1);
    encodeKeyValues(w, 1, g.resource, g.meta?.attributeTypes);
    if (g.meta?.droppedAttributesCount) { w.varint(16); w.varint(g.meta.droppedAttributesCount); }
    if (g.meta?.entityRefs) for (const ref of g.meta.entityRefs) writeEntityRef(w, ref);
    w.end(res);
    for (const [scope, events] of g.scopes) {
      const sm = w.begin(2);
      if (scope) {
        const s = w.begin(1);
        if (scope.name) w.string(1, scope.name);
        if (scope.version) w.string(2, scope.version);
        encodeKeyValues(w, 3, scope.attributes, scope.attributeTypes);
        if (scope.droppedAttributesCount) { w.varint(32); w.varint(scope.droppedAttributesCount); }
        w.end(s);
      }
      writeItems(w, events);
      if (scope?.schemaUrl) w.string(3, scope.schemaUrl);
      w.end(sm);
    }
    if (g.meta?.schemaUrl) w.string(3, g.meta.schemaUrl);
    w.end(rm);
  }
}

function writeEntityRef(w: Writer, ref: EntityRefJson): void {
  const m = w.begin(3);
  if (ref.schemaUrl) w.string(1, ref.schemaUrl);
  if (ref.type) w.string(2, ref.type);
  for (const k of ref.idKeys ?? []) w.string(3, k);
  for (const k of ref.descriptionKeys ?? []) w.string(4, k);
  w.end(m);
}

/**
 * The encoded request. With the default shared writer it is a copy; with a writer of the
 * caller's (the OTLP exporter's pooled writers) it is a view of that writer's buffer, valid until
 * the writer is reused.
 */
function finish(w: Writer): Buffer {
  if (w !== shared) return w.buf.subarray(0, w.pos);
  const out = w.finish();
  w.reset();
  return out;
}

// ------------------------------------------------------------ traces

export function encodeTraces(events: UnifiedEvent[], w: Writer = shared): Buffer {
  w.reset();
  writeEnvelopes(w, groupEvents(events, (e) => e.span), writeSpans);
  return finish(w);
}

/** Not enriched by Tapio: its OTLP form is what it was decoded from (while the bytes are valid). */
function notEnriched(e: UnifiedEvent): boolean {
  return !e.entity && !e.semantic && !e.impact && !e.correlation && !(e.count !== undefined && e.count > 1);
}

function writeSpans(w: Writer, events: UnifiedEvent[]): void {
  for (let i = 0; i < events.length; i++) {
    const e = events[i]!;
    // Unchanged since it was decoded (see RAW_WIRE_BYTES) and not enriched: copy its original
    // bytes, a run of spans that lay back to back in one request at a time.
    if (e instanceof OtlpSpanEvent) {
      const n = OtlpSpanEvent.writeWireRun(w, 2, events, i, notEnriched);
      if (n > 0) { i += n - 1; continue; }
    } else if (notEnriched(e)) {
      const raw = (e as UnifiedEvent & WithRawWireBytes)[RAW_WIRE_BYTES];
      if (raw !== undefined) { w.bytes(2, raw); continue; }
    }
    const s = e.span!;
    const m = w.begin(2);
    const t = e.trace;
    if (t?.traceId) w.bytesHex(1, t.traceId);
    if (t?.spanId) w.bytesHex(2, t.spanId);
    if (t?.traceState) w.string(3, t.traceState);
    if (t?.parentSpanId) w.bytesHex(4, t.parentSpanId);
    if (s.name) w.string(5, s.name);
    if (s.kind) { w.varint(48); w.varint(s.kind); }
    w.varint(57); w.fixed64(s.startTimeUnixNano ?? e.time);
    w.varint(65); w.fixed64(s.endTimeUnixNano ?? e.time);
    encodeKeyValues(w, 9, withTapioAttributes(e), s.attributeTypes as AttributeTypes | undefined);
    uint(w, 80, s.droppedAttributesCount);
    const evs = s.events as SpanEventJson[] | undefined;
    if (evs) for (const ev of evs) {
      const em = w.begin(11);
      w.varint(9); w.fixed64(ev.timeUnixNano);
      if (ev.name) w.string(2, ev.name);
      encodeKeyValues(w, 3, ev.attributes, ev.attributeTypes);
      uint(w, 32, ev.droppedAttributesCount);
      w.end(em);
    }
    uint(w, 96, s.droppedEventsCount);
    const links = s.links as SpanLinkJson[] | undefined;
    if (links) for (const l of links) {
      const lm = w.begin(13);
      if (l.traceId) w.bytesHex(1, l.traceId);
      if (l.spanId) w.bytesHex(2, l.spanId);
      if (l.traceState) w.string(3, l.traceState);
      encodeKeyValues(w, 4, l.attributes, l.attributeTypes);
      uint(w, 40, l.droppedAttributesCount);
      if (l.flags) { w.varint(53); w.fixed32(l.flags); }
      w.end(lm);
    }
    uint(w, 112, s.droppedLinksCount);
    if (s.status) {
      const sm = w.begin(15);
      if (s.status.message) w.string(2, s.status.message);
      if (s.status.code) { w.varint(24); w.varint(s.status.code); }
      w.end(sm);
    }
    if (t?.flags) { w.varint(133); w.fixed32(t.flags); }
    w.end(m);
  }
}

function uint(w: Writer, tag: number, v: unknown): void {
  if (typeof v === 'number' && v > 0) { w.varint(tag); w.varint(v); }
}

// ------------------------------------------------------------ logs

const SEVERITY_NUMBER = { debug: 5, info: 9, warn: 13, error: 17, fatal: 21 } as const;
const SEVERITY_TEXT = { debug: 'DEBUG', info: 'INFO', warn: 'WARN', error: 'ERROR', fatal: 'FATAL' } as const;

export function encodeLogs(events: UnifiedEvent[], w: Writer = shared): Buffer {
  w.reset();
  writeEnvelopes(w, groupEvents(events, (e) => e.log), writeLogRecords);
  return finish(w);
}

function writeLogRecords(w: Writer, events: UnifiedEvent[]): void {
  for (let i = 0; i < events.length; i++) {
    const e = events[i]!;
    const l = e.log;
    const m = w.begin(2);
    if (l && e.kind === 'log') {
      if (l.timeUnixNano !== undefined && l.timeUnixNano !== '0') { w.varint(9); w.fixed64(l.timeUnixNano as string); }
      else if (l.timeUnixNano === undefined) { w.varint(9); w.fixed64(e.time); }
      const observed = (l.observedTimeUnixNano as string | undefined) ?? e.observedTime;
      if (observed && observed !== '0') { w.varint(89); w.fixed64(observed); }
      uint(w, 16, l.severityNumber ?? SEVERITY_NUMBER[e.severity]);
      if (l.severityText) w.string(3, l.severityText);
      if (l.body !== undefined) {
        const bm = w.begin(5);
        writeValue(w, l.body, l.bodyType as AttributeType | undefined);
        w.end(bm);
      }
      encodeKeyValues(w, 6, withTapioAttributes(e), l.attributeTypes as AttributeTypes | undefined);
      uint(w, 56, l.droppedAttributesCount);
      if (l.flags) { w.varint(69); w.fixed32(l.flags as number); }
      if (e.trace?.traceId) w.bytesHex(9, e.trace.traceId);
      const spanId = e.trace?.spanId ?? (l.spanId as string | undefined);
      if (spanId) w.bytesHex(10, spanId);
      if (l.eventName) w.string(12, l.eventName as string);
    } else {
      writeTapioRecord(w, e);
    }
    w.end(m);
  }
}

function writeValue(w: Writer, v: AttributeValue, t: AttributeType | undefined): void {
  if (t === undefined) encodeNatural(w, v);
  else if (typeof t === 'object') encodeJsonAnyValue(w, t.any);
  else if (t === 'd') { w.varint(33); w.double(Number(v)); }
  else if (t === 'i') { w.varint(24); w.int64(v as string); }
  else w.bytesBase64(7, String(v));
}

/** A kernel/k8s/network/correlation (or non-OTLP log) event as an OTLP log record with tapio.* attributes. */
function writeTapioRecord(w: Writer, e: UnifiedEvent): void {
  w.varint(9); w.fixed64(e.time);
  w.varint(89); w.fixed64(e.observedTime);
  w.varint(16); w.varint(SEVERITY_NUMBER[e.severity] ?? 9);
  w.string(3, SEVERITY_TEXT[e.severity] ?? 'INFO');
  const body = bodyOf(e);
  if (body !== undefined) { const bm = w.begin(5); encodeNatural(w, body); w.end(bm); }
  const attrs: Attributes = { ...e.attributes, 'tapio.kind': e.kind, 'tapio.event.id': e.id, 'tapio.source': e.source };
  const payload = (e as unknown as Record<string, unknown>)[e.kind];
  if (payload && typeof payload === 'object' && e.kind !== 'log') {
    for (const k in payload as Record<string, unknown>) {
      const v = (payload as Record<string, unknown>)[k];
      if (v !== undefined) attrs[`tapio.${e.kind}.${k}`] = plain(v);
    }
  }
  if (e.kind === 'log' && e.log) for (const k in e.log) if (k !== 'body' && e.log[k] !== undefined) attrs[`tapio.log.${k}`] = plain(e.log[k]);
  addTapioEnrichment(e, attrs);
  encodeKeyValues(w, 6, attrs, undefined);
  if (e.trace?.traceId) w.bytesHex(9, e.trace.traceId);
  if (e.trace?.spanId) w.bytesHex(10, e.trace.spanId);
  if (e.kind !== 'log') w.string(12, `tapio.${e.kind}`);
}

function bodyOf(e: UnifiedEvent): AttributeValue | undefined {
  if (e.log?.body !== undefined) return e.log.body;
  if (e.semantic?.narrative) return e.semantic.narrative;
  if (e.k8s) return e.k8s.message ?? e.k8s.reason;
  if (e.kernel) return e.kernel.event;
  if (e.network) return e.network.event;
  const title = e.incident?.title;
  return typeof title === 'string' ? title : undefined;
}

function plain(v: unknown): AttributeValue {
  if (v === null || typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return v;
  if (Array.isArray(v)) return v.map(plain);
  if (typeof v === 'object') {
    const o: Attributes = {};
    for (const k in v as Record<string, unknown>) {
      const x = (v as Record<string, unknown>)[k];
      if (x !== undefined) o[k] = plain(x);
    }
    return o;
  }
  return String(v);
}

/** Tapio's own findings (semantic, impact, correlation, entity) travel as tapio.* attributes. */
function addTapioEnrichment(e: UnifiedEvent, attrs: Attributes): void {
  if (e.entity) attrs['tapio.entity'] = plain(e.entity);
  if (e.semantic) attrs['tapio.semantic'] = plain(e.semantic);
  if (e.impact) attrs['tapio.impact'] = plain(e.impact);
  if (e.correlation) attrs['tapio.correlation'] = plain(e.correlation);
  if (e.incident) attrs['tapio.incident'] = plain(e.incident);
  if (e.count !== undefined && e.count > 1) attrs['tapio.count'] = e.count;
}

/** Span/log attributes, plus tapio.* ones when a Tapio processor enriched the event (a copy only then). */
function withTapioAttributes(e: UnifiedEvent): Attributes {
  if (!e.entity && !e.semantic && !e.impact && !e.correlation && !(e.count !== undefined && e.count > 1)) return e.attributes;
  const attrs: Attributes = { ...e.attributes };
  addTapioEnrichment(e, attrs);
  return attrs;
}

// ------------------------------------------------------------ metrics

const DATA_FIELD = { gauge: 5, sum: 7, histogram: 9, exponentialHistogram: 10, summary: 11 } as const;

export function encodeMetrics(events: UnifiedEvent[], w: Writer = shared): Buffer {
  w.reset();
  writeEnvelopes(w, groupEvents(events, (e) => e.metric), writeMetrics);
  return finish(w);
}

function writeMetrics(w: Writer, events: UnifiedEvent[]): void {
  // Points of one metric (same name, type, unit, description, temporality) go back into one Metric.
  const byMetric = new Map<string, UnifiedEvent[]>();
  for (let i = 0; i < events.length; i++) {
    const m = events[i]!.metric!;
    const key = `${m.name}\u0000${m.type ?? 'gauge'}\u0000${m.unit ?? ''}\u0000${m.description ?? ''}\u0000${m.aggregationTemporality ?? 0}\u0000${m.isMonotonic ?? false}`;
    let list = byMetric.get(key);
    if (!list) byMetric.set(key, (list = []));
    list.push(events[i]!);
  }
  for (const list of byMetric.values()) {
    const m0 = list[0]!.metric!;
    const type = m0.type ?? 'gauge';
    const mm = w.begin(2);
    if (m0.name) w.string(1, m0.name);
    if (m0.description) w.string(2, m0.description as string);
    if (m0.unit) w.string(3, m0.unit);
    const dm = w.begin(DATA_FIELD[type]);
    for (const e of list) writePoint(w, e, type);
    const temporality = m0.aggregationTemporality as number | undefined;
    if (type !== 'gauge' && type !== 'summary' && temporality) { w.varint(16); w.varint(temporality); }
    if (type === 'sum' && m0.isMonotonic) { w.varint(24); w.varint(1); }
    w.end(dm);
    encodeKeyValues(w, 12, m0.metadata as Attributes | undefined, m0.metadataTypes as AttributeTypes | undefined);
    w.end(mm);
  }
}

function writePoint(w: Writer, e: UnifiedEvent, type: keyof typeof DATA_FIELD): void {
  const m = e.metric!;
  const p = (m.point as PointJson | undefined) ?? { startTimeUnixNano: '0', timeUnixNano: String(BigInt(Math.trunc(e.time))), flags: 0, asDouble: m.value ?? 0 };
  const types = m.attributeTypes as AttributeTypes | undefined;
  const pm = w.begin(1);
  const attrField = type === 'histogram' ? 9 : type === 'exponentialHistogram' ? 1 : 7;
  encodeKeyValues(w, attrField, e.attributes, types);
  if (p.startTimeUnixNano !== '0') { w.varint(17); w.fixed64(p.startTimeUnixNano); }
  if (p.timeUnixNano !== '0') { w.varint(25); w.fixed64(p.timeUnixNano); }
  if (type === 'gauge' || type === 'sum') {
    if (p.asDouble !== undefined) { w.varint(33); w.double(p.asDouble); }
    else if (p.asInt !== undefined) { w.varint(49); w.fixed64(p.asInt); }
    writeExemplars(w, 5, p.exemplars);
    uint(w, 64, p.flags);
  } else if (type === 'histogram') {
    w.varint(33); w.fixed64(p.count ?? 0);
    if (p.sum !== undefined) { w.varint(41); w.double(p.sum); }
    if (p.bucketCounts?.length) {
      const bm = w.begin(6);
      for (const c of p.bucketCounts) w.fixed64(c);
      w.end(bm);
    }
    if (p.explicitBounds?.length) {
      const bm = w.begin(7);
      for (const b of p.explicitBounds) w.double(b);
      w.end(bm);
    }
    writeExemplars(w, 8, p.exemplars);
    uint(w, 80, p.flags);
    if (p.min !== undefined) { w.varint(89); w.double(p.min); }
    if (p.max !== undefined) { w.varint(97); w.double(p.max); }
  } else if (type === 'exponentialHistogram') {
    w.varint(33); w.fixed64(p.count ?? 0);
    if (p.sum !== undefined) { w.varint(41); w.double(p.sum); }
    if (p.scale) { w.varint(48); w.sint32(p.scale); }
    if (p.zeroCount !== undefined && p.zeroCount !== 0) { w.varint(57); w.fixed64(p.zeroCount); }
    if (p.positive) writeBuckets(w, 8, p.positive);
    if (p.negative) writeBuckets(w, 9, p.negative);
    uint(w, 80, p.flags);
    writeExemplars(w, 11, p.exemplars);
    if (p.min !== undefined) { w.varint(97); w.double(p.min); }
    if (p.max !== undefined) { w.varint(105); w.double(p.max); }
    if (p.zeroThreshold) { w.varint(113); w.double(p.zeroThreshold); }
  } else {
    w.varint(33); w.fixed64(p.count ?? 0);
    if (p.sum) { w.varint(41); w.double(p.sum); }
    for (const q of p.quantileValues ?? []) {
      const qm = w.begin(6);
      if (q.quantile) { w.varint(9); w.double(q.quantile); }
      if (q.value) { w.varint(17); w.double(q.value); }
      w.end(qm);
    }
    uint(w, 64, p.flags);
  }
  w.end(pm);
}

function writeBuckets(w: Writer, field: number, b: BucketsJson): void {
  const m = w.begin(field);
  if (b.offset) { w.varint(8); w.sint32(b.offset); }
  if (b.bucketCounts.length) {
    const cm = w.begin(2);
    for (const c of b.bucketCounts) w.int64(c);
    w.end(cm);
  }
  w.end(m);
}

function writeExemplars(w: Writer, field: number, exemplars: ExemplarJson[] | undefined): void {
  if (!exemplars) return;
  for (const x of exemplars) {
    const m = w.begin(field);
    encodeKeyValues(w, 7, x.filteredAttributes, x.filteredAttributeTypes);
    if (x.timeUnixNano !== '0') { w.varint(17); w.fixed64(x.timeUnixNano); }
    if (x.asDouble !== undefined) { w.varint(25); w.double(x.asDouble); }
    else if (x.asInt !== undefined) { w.varint(49); w.fixed64(x.asInt); }
    if (x.spanId) w.bytesHex(4, x.spanId);
    if (x.traceId) w.bytesHex(5, x.traceId);
    w.end(m);
  }
}

/** Splits a mixed batch by OTLP signal: spans → traces, metric points → metrics, everything else → logs. */
/** Without reading `span` of an OtlpSpanEvent (that would decode it). */
function hasSpan(e: UnifiedEvent): boolean {
  return e instanceof OtlpSpanEvent || e.span !== undefined;
}

export function splitBySignal(events: UnifiedEvent[]): { spans: UnifiedEvent[]; logs: UnifiedEvent[]; metrics: UnifiedEvent[] } {
  let allSpans = true, allLogs = true, allMetrics = true;
  for (let i = 0; i < events.length; i++) {
    const k = events[i]!.kind;
    if (k !== 'span' || !hasSpan(events[i]!)) allSpans = false;
    if (k !== 'metric' || !events[i]!.metric) allMetrics = false;
    if (k === 'span' || k === 'metric') allLogs = false;
  }
  if (allSpans) return { spans: events, logs: [], metrics: [] };
  if (allMetrics) return { spans: [], logs: [], metrics: events };
  if (allLogs) return { spans: [], logs: events, metrics: [] };
  const spans: UnifiedEvent[] = [], logs: UnifiedEvent[] = [], metrics: UnifiedEvent[] = [];
  for (const e of events) (e.kind === 'span' && hasSpan(e) ? spans : e.kind === 'metric' && e.metric ? metrics : logs).push(e);
  return { spans, logs, metrics };
}
