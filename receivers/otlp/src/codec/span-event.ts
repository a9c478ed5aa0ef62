import { inspect } from 'node:util';
import {
  eventIdFor, RAW_WIRE_BYTES, TO_PLAIN,
  type Attributes, type EventKind, type Severity, type SpanPayload, type TraceContext, type UnifiedEvent,
} from '@tapio/core';
import { decodeOneKeyValue, type AttributeTypes } from './anyvalue';
import type { ResourceMeta, ScopeInfo } from './model';
import { Reader } from './reader';
import type { Writer } from './writer';
import { decodeSpanPayload } from './span-payload';

const EMPTY = Buffer.alloc(0);

/** Private fields that TO_PLAIN leaves out (their public faces are the accessors). */
const BACKING_FIELDS = new Set(['idNumber', 'origin', 'lazy', 'request', 'begin', 'end', 'wireBytesValid']);

/**
 * What the spans of one ScopeSpans in one request share. One object per scope instead of six
 * fields per span: events wait in batches and queues, and every young-generation GC copies the
 * live ones, so a smaller event is a shorter pause (and observedTime, a double, was a separate
 * heap number per span). Never changed in place: a setter gives that one event its own copy.
 */
export interface SpanOrigin {
  readonly kind: EventKind;
  readonly source: string;
  readonly observedTime: number;
  readonly resource: Attributes;
  readonly scope: ScopeInfo;
  readonly meta: ResourceMeta;
}

/** What is decoded (or set) on first read; absent until then, so an event that is only forwarded has none. */
interface LazyParts {
  idText: string | undefined;
  payload: SpanPayload | undefined;
  decoded: Attributes | undefined;
  decodedTypes: AttributeTypes | undefined;
  /** undefined: not decoded yet; null: set to none by a processor. */
  traceContext: TraceContext | null | undefined;
}

/**
 * A span decoded from OTLP whose attributes, trace context and `span` payload are decoded on
 * first read. Attribute decoding was about 40 % of the receiver's CPU, the ids' hex strings
 * another 10 %, and the payload's objects and strings, alive while events wait in batches and
 * queues, made young-generation GC pauses longer. A pipeline that only batches and forwards
 * reads none of them: the exporter copies the span's original bytes. The receiver checked the
 * whole message already (decodeSpan), so decoding later cannot fail.
 *
 * To everything else it is a UnifiedEvent: `attributes`, `trace`, `span`, `resource`, `source`,
 * `observedTime` and `kind` read and write like fields. JSON and the runtime's copies go through
 * `[TO_PLAIN]()` (see core's TO_PLAIN).
 */
export class OtlpSpanEvent implements UnifiedEvent {
  /** The id is made from its number when first read (see core's nextEventNumber). */
  private readonly idNumber: number;
  time: number;
  severity: Severity;
  private origin: SpanOrigin;
  private lazy: LazyParts | undefined = undefined;
  /**
   * The Span message is request[begin, end). Offsets rather than a Buffer view: a view is a heavy
   * object, and thousands of them alive while events wait in batches and queues made every
   * young-generation GC slower (it copies live objects).
   */
  private request: Buffer;
  private readonly begin: number;
  private readonly end: number;
  /** False once the runtime said a processor may have changed the span (see RAW_WIRE_BYTES). */
  private wireBytesValid = true;

  constructor(idNumber: number, time: number, severity: Severity, origin: SpanOrigin, request: Buffer, begin: number, end: number) {
    this.idNumber = idNumber;
    this.time = time;
    this.severity = severity;
    this.origin = origin;
    this.request = request;
    this.begin = begin;
    this.end = end;
  }

  get kind(): EventKind { return this.origin.kind; }
  set kind(value: EventKind) { this.origin = { ...this.origin, kind: value }; }
  get source(): string { return this.origin.source; }
  set source(value: string) { this.origin = { ...this.origin, source: value }; }
  get observedTime(): number { return this.origin.observedTime; }
  set observedTime(value: number) { this.origin = { ...this.origin, observedTime: value }; }
  get resource(): Attributes { return this.origin.resource; }
  set resource(value: Attributes) { this.origin = { ...this.origin, resource: value }; }
  /** Shared by the spans of one ScopeSpans / ResourceSpans; the exporter groups by them. */
  get otlpScope(): ScopeInfo { return this.origin.scope; }
  get otlpResourceMeta(): ResourceMeta { return this.origin.meta; }

  private parts(): LazyParts {
    return (this.lazy ??= { idText: undefined, payload: undefined, decoded: undefined, decodedTypes: undefined, traceContext: undefined });
  }

  /** The Span message's original bytes, for the exporter's pass-through copy, while still valid. */
  get [RAW_WIRE_BYTES](): Uint8Array | undefined {
    return this.wireBytesValid ? this.request.subarray(this.begin, this.end) : undefined;
  }

  /**
   * Writes the original bytes of events[from] and of the events after it that lay right behind
   * it in the same request, with one copy: spans of a forwarded request usually sit back to back,
   * so a request's spans go out as one memcpy instead of a Buffer view and a copy each (the views
   * were most of the exporter's garbage at 200k spans/s). Only events that are still valid and
   * pass `unchanged` are taken. Returns how many events were written (0: none, encode events[from]).
   */
  static writeWireRun(w: Writer, field: number, events: readonly UnifiedEvent[], from: number, unchanged: (e: UnifiedEvent) => boolean): number {
    const first = events[from];
    if (!(first instanceof OtlpSpanEvent) || !first.wireBytesValid || !unchanged(first)) return 0;
    const request = first.request;
    const start = first.frameStart(field);
    if (start < 0) { w.bytesRange(field, request, first.begin, first.end); return 1; }
    let end = first.end;
    let i = from + 1;
    for (; i < events.length; i++) {
      const e = events[i];
      if (!(e instanceof OtlpSpanEvent) || e.request !== request || !e.wireBytesValid || e.frameStart(field) !== end || !unchanged(e)) break;
      end = e.end;
    }
    w.raw(request, start, end);
    return i - from;
  }

  /**
   * Where this span's field tag starts in the request: begin minus the tag and the length as
   * protobuf writes them (minimal varint). -1 if the bytes there are not that (then it is copied
   * alone, with a tag and length of our own).
   */
  private frameStart(field: number): number {
    const len = this.end - this.begin;
    const lenBytes = len < 0x80 ? 1 : len < 0x4000 ? 2 : len < 0x200000 ? 3 : len < 0x10000000 ? 4 : 5;
    const at = this.begin - 1 - lenBytes;
    const buf = this.request;
    if (at < 0 || buf[at] !== ((field << 3) | 2)) return -1;
    let v = 0;
    for (let k = 0; k < lenBytes; k++) {
      const b = buf[at + 1 + k]!;
      if ((k < lenBytes - 1) !== (b >= 0x80)) return -1; // continuation bits must end exactly here
      v += (b & 0x7f) * 2 ** (7 * k);
    }
    return v === len ? at : -1;
  }

  /** The runtime sets undefined before a processor that may change events. */
  set [RAW_WIRE_BYTES](value: Uint8Array | undefined) {
    if (value !== undefined) throw new Error('OtlpSpanEvent: wire bytes can only be cleared');
    this.wireBytesValid = false;
    this.releaseRequest();
  }

  get id(): string {
    const p = this.parts();
    return (p.idText ??= eventIdFor(this.idNumber));
  }

  set id(value: string) {
    this.parts().idText = value;
  }

  get attributes(): Attributes {
    return this.lazy?.decoded ?? this.decodeAttributes();
  }

  set attributes(value: Attributes) {
    this.parts().decoded = value;
  }

  get span(): SpanPayload {
    const p = this.parts();
    if (p.payload === undefined) {
      // Attributes not decoded yet come along in the same pass: their types go into the payload.
      const into = p.decoded === undefined ? {} : undefined;
      p.payload = decodeSpanPayload(new Reader(this.request, this.begin, this.end), this.end, this.otlpScope, this.otlpResourceMeta, p.decodedTypes, into);
      if (into) { p.decoded = into; p.decodedTypes = p.payload.attributeTypes as AttributeTypes | undefined; }
      this.releaseRequest();
    }
    return p.payload;
  }

  set span(value: SpanPayload) {
    this.parts().payload = value;
  }

  /** Whether `span` was read or replaced (else its scope and resource meta are otlpScope / otlpResourceMeta). */
  get spanMaterialized(): boolean {
    return this.lazy?.payload !== undefined;
  }

  get trace(): TraceContext | undefined {
    const t = this.lazy?.traceContext;
    return t === undefined ? this.decodeTrace() : t ?? undefined;
  }

  set trace(value: TraceContext | undefined) {
    this.parts().traceContext = value ?? null;
  }

  [TO_PLAIN](): UnifiedEvent {
    const plain: UnifiedEvent = {
      id: this.id, time: this.time, observedTime: this.observedTime, kind: this.kind, source: this.source,
      severity: this.severity, trace: this.trace, resource: this.resource, attributes: this.attributes, span: this.span,
    };
    if (plain.trace === undefined) delete plain.trace;
    // Own fields besides the ones above: whatever processors added (entity, semantic, impact, …).
    const fields = plain as unknown as Record<string, unknown>;
    const self = this as unknown as Record<string, unknown>;
    for (const k of Object.keys(this)) if (!BACKING_FIELDS.has(k) && !(k in fields)) fields[k] = self[k];
    return plain;
  }

  toJSON(): UnifiedEvent {
    return this[TO_PLAIN]();
  }

  /** console.log / util.inspect show the event, not its backing fields. */
  [inspect.custom](): UnifiedEvent {
    return this[TO_PLAIN]();
  }

  private decodeTrace(): TraceContext {
    let traceId = '', spanId = '', traceState = '', parentSpanId = '', flags = 0;
    const r = new Reader(this.request, this.begin, this.end);
    while (r.pos < r.end) {
      const tag = r.uint32();
      switch (tag) {
        case 10: traceId = r.hex(); break;
        case 18: spanId = r.hex(); break;
        case 26: traceState = r.string(); break;
        case 34: parentSpanId = r.hex(); break;
        case 133: flags = r.fixed32(); break;
        default: r.skip(tag & 7);
      }
    }
    const t: TraceContext = { traceId, spanId, parentSpanId: parentSpanId || undefined, traceState: traceState || undefined, flags };
    this.parts().traceContext = t;
    this.releaseRequest();
    return t;
  }

  private decodeAttributes(): Attributes {
    const attributes: Attributes = {};
    let types: AttributeTypes | undefined;
    const r = new Reader(this.request, this.begin, this.end);
    while (r.pos < r.end) {
      const tag = r.uint32();
      if (tag === 74) types = decodeOneKeyValue(r, attributes, types);
      else r.skip(tag & 7);
    }
    const p = this.parts();
    p.decodedTypes = types;
    if (p.payload !== undefined) p.payload.attributeTypes = types;
    p.decoded = attributes;
    this.releaseRequest();
    return attributes;
  }

  /**
   * Lets go of the request buffer once nothing needs it: everything decoded and the wire bytes
   * invalid. An event kept for long (correlation windows) then does not keep its whole request
   * (hundreds of KiB for a 500-span export) alive.
   */
  private releaseRequest(): void {
    const p = this.lazy;
    if (!this.wireBytesValid && p !== undefined && p.decoded !== undefined && p.traceContext !== undefined && p.payload !== undefined) this.request = EMPTY;
  }
}
