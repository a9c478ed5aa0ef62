import {
  RAW_WIRE_BYTES, TO_PLAIN,
  type Attributes, type EventKind, type Severity, type SpanPayload, type TraceContext, type UnifiedEvent,
} from '@tapio/core';
import { decodeOneKeyValue, type AttributeTypes } from './anyvalue';
import { Reader } from './reader';

/** Private fields that TO_PLAIN leaves out (their public faces are the accessors). */
const BACKING_FIELDS = new Set(['decoded', 'traceContext', 'spanBytes']);

/**
 * A span decoded from OTLP whose attributes and trace context are decoded on first read.
 * Attribute decoding was about 40 % of the receiver's CPU and the ids' hex strings another
 * 10 %, and a pipeline that only batches and forwards never reads them (the exporter copies the
 * span's original bytes). The receiver checked the attributes' structure and the ids' sizes
 * already (scanKeyValue), so decoding them later cannot fail.
 *
 * To everything else it is a UnifiedEvent: `attributes` and `trace` read and write like fields,
 * and `span.attributeTypes` is filled in with the attributes. JSON and the runtime's copies go
 * through `[TO_PLAIN]()` (see core's TO_PLAIN).
 */
export class OtlpSpanEvent implements UnifiedEvent {
  id: string;
  time: number;
  observedTime: number;
  kind: EventKind = 'span';
  source: string;
  severity: Severity;
  resource: Attributes;
  span: SpanPayload;
  /** The Span message's bytes: the exporter's pass-through copy (see RAW_WIRE_BYTES). */
  [RAW_WIRE_BYTES]: Uint8Array | undefined;
  private decoded: Attributes | undefined = undefined;
  /** undefined: not decoded yet; null: set to none by a processor. */
  private traceContext: TraceContext | null | undefined = undefined;
  /** The same bytes, kept for decoding the attributes even after the runtime clears RAW_WIRE_BYTES. */
  private readonly spanBytes: Buffer;

  constructor(id: string, time: number, observedTime: number, source: string, severity: Severity,
    resource: Attributes, span: SpanPayload, spanBytes: Buffer) {
    this.id = id;
    this.time = time;
    this.observedTime = observedTime;
    this.source = source;
    this.severity = severity;
    this.resource = resource;
    this.span = span;
    this[RAW_WIRE_BYTES] = spanBytes;
    this.spanBytes = spanBytes;
  }

  get attributes(): Attributes {
    return this.decoded ?? this.decodeAttributes();
  }

  set attributes(value: Attributes) {
    this.decoded = value;
  }

  get trace(): TraceContext | undefined {
    const t = this.traceContext;
    return t === undefined ? this.decodeTrace() : t ?? undefined;
  }

  set trace(value: TraceContext | undefined) {
    this.traceContext = value ?? null;
  }

  [TO_PLAIN](): UnifiedEvent {
    const plain: UnifiedEvent = {
      id: this.id, time: this.time, observedTime: this.observedTime, kind: this.kind, source: this.source,
      severity: this.severity, trace: this.trace, resource: this.resource, attributes: this.attributes,
    };
    if (plain.trace === undefined) delete plain.trace;
    // Own fields besides the ones above: span and whatever processors added (semantic, impact, …).
    const fields = plain as unknown as Record<string, unknown>;
    const self = this as unknown as Record<string, unknown>;
    for (const k of Object.keys(this)) if (!BACKING_FIELDS.has(k) && !(k in fields)) fields[k] = self[k];
    return plain;
  }

  toJSON(): UnifiedEvent {
    return this[TO_PLAIN]();
  }

  private decodeTrace(): TraceContext {
    let traceId = '', spanId = '', traceState = '', parentSpanId = '', flags = 0;
    const r = new Reader(this.spanBytes);
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
    this.traceContext = t;
    return t;
  }

  private decodeAttributes(): Attributes {
    const attributes: Attributes = {};
    let types: AttributeTypes | undefined;
    const r = new Reader(this.spanBytes);
    while (r.pos < r.end) {
      const tag = r.uint32();
      if (tag === 74) types = decodeOneKeyValue(r, attributes, types);
      else r.skip(tag & 7);
    }
    this.span.attributeTypes = types;
    this.decoded = attributes;
    return attributes;
  }
}
