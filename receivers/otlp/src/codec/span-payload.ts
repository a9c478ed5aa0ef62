import type { Attributes, SpanPayload } from '@tapio/core';
import { decodeOneKeyValue, scanKeyValue, type AttributeTypes } from './anyvalue';
import { Reader, uint64String } from './reader';
import type { ResourceMeta, ScopeInfo, SpanEventJson, SpanLinkJson } from './model';

const TWO_32 = 4294967296;

/**
 * Decodes the `span` payload of one Span message at r.pos..end (trace context is the event's,
 * see OtlpSpanEvent). Called on first read of `event.span`; the receiver has already checked
 * the message (decodeSpan), so this cannot fail. Attributes not decoded yet are decoded into
 * `attributesInto` in the same pass (their type notes then go into the payload); otherwise
 * `attributeTypes` are the notes of the attributes decoded before.
 */
export function decodeSpanPayload(r: Reader, end: number, scope: ScopeInfo, meta: ResourceMeta,
  attributeTypes: AttributeTypes | undefined, attributesInto?: Attributes): SpanPayload {
  let name = '';
  let kind = 0, dropAttrs = 0, dropEvents = 0, dropLinks = 0;
  let startLo = 0, startHi = 0, endLo = 0, endHi = 0;
  let status: { code: number; message: string } | undefined;
  let events: SpanEventJson[] | undefined;
  let links: SpanLinkJson[] | undefined;
  const buf = r.buf;
  while (r.pos < end) {
    const tag = r.uint32();
    switch (tag) {
      case 42: name = r.cachedString(); break;
      case 74: if (attributesInto) attributeTypes = decodeOneKeyValue(r, attributesInto, attributeTypes); else r.skip(2); break;
      case 48: kind = r.uint32(); break;
      case 57: startLo = buf.readUInt32LE(r.pos); startHi = buf.readUInt32LE(r.pos + 4); r.pos += 8; break;
      case 65: endLo = buf.readUInt32LE(r.pos); endHi = buf.readUInt32LE(r.pos + 4); r.pos += 8; break;
      case 80: dropAttrs = r.uint32(); break;
      case 90: { const e = r.len(); (events ??= []).push(decodeSpanEvent(r, e)); r.pos = e; break; }
      case 96: dropEvents = r.uint32(); break;
      case 106: { const e = r.len(); (links ??= []).push(decodeLink(r, e)); r.pos = e; break; }
      case 112: dropLinks = r.uint32(); break;
      case 122: {
        const e = r.len();
        status = { code: 0, message: '' };
        while (r.pos < e) {
          const t = r.uint32();
          if (t === 18) status.message = r.string();
          else if (t === 24) status.code = r.uint32();
          else r.skip(t & 7);
        }
        break;
      }
      default: r.skip(tag & 7);
    }
  }
  const start = startHi * TWO_32 + startLo;
  return {
    name,
    kind,
    startTimeUnixNano: uint64String(startLo, startHi),
    endTimeUnixNano: uint64String(endLo, endHi),
    durationMs: (endHi * TWO_32 + endLo - start) / 1e6,
    status,
    events,
    links,
    droppedAttributesCount: dropAttrs,
    droppedEventsCount: dropEvents,
    droppedLinksCount: dropLinks,
    attributeTypes,
    scope,
    resourceMeta: meta,
  };
}

function decodeSpanEvent(r: Reader, end: number): SpanEventJson {
  const e: SpanEventJson = { timeUnixNano: '0', name: '', attributes: {}, droppedAttributesCount: 0, attributeTypes: undefined };
  while (r.pos < end) {
    const tag = r.uint32();
    if (tag === 9) e.timeUnixNano = r.fixed64String();
    else if (tag === 18) e.name = r.string();
    else if (tag === 26) e.attributeTypes = decodeOneKeyValue(r, e.attributes, e.attributeTypes);
    else if (tag === 32) e.droppedAttributesCount = r.uint32();
    else r.skip(tag & 7);
  }
  return e;
}

function decodeLink(r: Reader, end: number): SpanLinkJson {
  const l: SpanLinkJson = { traceId: '', spanId: '', traceState: '', attributes: {}, droppedAttributesCount: 0, flags: 0, attributeTypes: undefined };
  while (r.pos < end) {
    const tag = r.uint32();
    if (tag === 10) l.traceId = r.hex();
    else if (tag === 18) l.spanId = r.hex();
    else if (tag === 26) l.traceState = r.string();
    else if (tag === 34) l.attributeTypes = decodeOneKeyValue(r, l.attributes, l.attributeTypes);
    else if (tag === 40) l.droppedAttributesCount = r.uint32();
    else if (tag === 53) l.flags = r.fixed32();
    else r.skip(tag & 7);
  }
  return l;
}

/**
 * Checks a Span.Event (kvTag 26) or Span.Link (kvTag 34) message the way its decoder reads it,
 * building nothing.
 */
export function scanWithAttributes(r: Reader, end: number, kvTag: number): void {
  while (r.pos < end) {
    const tag = r.uint32();
    if (tag === kvTag) scanKeyValue(r);
    else r.skip(tag & 7);
  }
}

/** A span's name, read again for an error message. */
export function spanName(r: Reader, end: number): string {
  let name = '';
  while (r.pos < end) {
    const tag = r.uint32();
    if (tag === 42) name = r.string();
    else r.skip(tag & 7);
  }
  return name;
}
