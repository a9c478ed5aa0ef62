import {
  RAW_WIRE_BYTES, TO_PLAIN,
  type Attributes, type EventKind, type Severity, type SpanPayload, type TraceContext, type UnifiedEvent,
} from '@tapio/core';
import { decodeOneKeyValue, type AttributeTypes } from './anyvalue';
import { Reader } from './reader';

const NO_ATTRIBUTES_YET = undefined;

/**
 * A span decoded from OTLP whose attributes are decoded on first read. Attribute decoding was
 * about 40 % of the receiver's CPU, and a pipeline that only batches and forwards never reads
 * them (the exporter copies the span's original bytes). The receiver checked the attributes'
 * structure already (scanKeyValue), so decoding them later cannot fail.
 *
 * To everything else it is a UnifiedEvent: `attributes` reads and writes like a field, and
 * `span.attributeTypes` is filled in with it. JSON and the runtime's copies go through
 * `[TO_PLAIN]()` (see core's TO_PLAIN).
 */
export class OtlpSpanEvent implements UnifiedEvent {
  id: string;
  time: number;
  observedTime: number;
  kind: EventKind = 'span';
  source: string;
  severity: Severity;
  trace: TraceContext;
  resource: Attributes;
  span: SpanPayload;
  /** The Span message's bytes: the exporter's pass-through copy (see RAW_WIRE_BYTES). */
  [RAW_WIRE_BYTES]: Uint8Array | undefined;
  private decoded: Attributes | undefined = NO_ATTRIBUTES_YET;
  /** The same bytes, kept for decoding the attributes even after the runtime clears RAW_WIRE_BYTES. */
  private readonly spanBytes: Buffer;

  constructor(id: string, time: number, observedTime: number, source: string, severity: Severity,
    trace: TraceContext, resource: Attributes, span: SpanPayload, spanBytes: Buffer) {
    this.id = id;
    this.time = time;
    this.observedTime = observedTime;
    this.source = source;
    this.severity = severity;
    this.trace = trace;
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

  [TO_PLAIN](): UnifiedEvent {
    const plain: UnifiedEvent = {
      id: this.id, time: this.time, observedTime: this.observedTime, kind: this.kind, source: this.source,
      severity: this.severity, resource: this.resource, attributes: this.attributes,
    };
    // Own fields besides the ones above: trace, span and whatever processors added (semantic, impact, …).
    for (const k of Object.keys(this) as (keyof UnifiedEvent & keyof this)[]) {
      if (k === 'decoded' as never || k === 'spanBytes' as never || k in plain) continue;
      (plain as unknown as Record<string, unknown>)[k] = this[k];
    }
    return plain;
  }

  toJSON(): UnifiedEvent {
    return this[TO_PLAIN]();
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
