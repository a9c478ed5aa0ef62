import type { Attributes, AttributeValue } from '@tapio/core';
import { MalformedError, Reader } from './reader';
import type { Writer } from './writer';

/**
 * Attribute values become plain JS values (ARCHITECTURE.md "OTLP → UnifiedEvent"). What a plain
 * value cannot tell apart is recorded beside the attributes in an `attributeTypes` map:
 *   'd' — a double whose value is integral (1.0), 'i' — an int64 beyond 2^53 kept as a decimal
 *   string, 'b' — bytes kept as base64 text, { any } — a composite value with one of those inside,
 *   kept in full as an OTLP/JSON AnyValue.
 * Natural reading otherwise: integral number → int, other number → double, object → kvlist,
 * null → an empty AnyValue.
 */
export type AttributeType = 'd' | 'i' | 'b' | { any: JsonAnyValue };
export type AttributeTypes = Record<string, AttributeType>;

export interface JsonAnyValue {
  stringValue?: string;
  boolValue?: boolean;
  intValue?: string | number;
  doubleValue?: number | string;
  arrayValue?: { values?: JsonAnyValue[] };
  kvlistValue?: { values?: { key: string; value?: JsonAnyValue }[] };
  bytesValue?: string;
}

// Set by decodeAnyValue when the value just read needs a type note.
let lastType: 'd' | 'i' | 'b' | 'x' | undefined;

/** Decodes one AnyValue message occupying reader.pos..end. */
export function decodeAnyValue(r: Reader, end: number): AttributeValue {
  let value: AttributeValue = null;
  lastType = undefined;
  while (r.pos < end) {
    const tag = r.uint32();
    switch (tag) {
      case 10: value = r.cachedString(true); lastType = undefined; break; // string_value
      case 16: value = r.bool(); lastType = undefined; break; // bool_value
      case 24: { // int_value
        const v = r.int64();
        value = v;
        lastType = typeof v === 'string' ? 'i' : undefined;
        break;
      }
      case 33: { // double_value
        const v = r.double();
        value = v;
        lastType = Number.isInteger(v) ? 'd' : undefined;
        break;
      }
      case 42: { // array_value
        const aend = r.len();
        const arr: AttributeValue[] = [];
        let exotic = false;
        while (r.pos < aend) {
          const t = r.uint32();
          if (t === 10) {
            const vend = r.len();
            arr.push(decodeAnyValue(r, vend));
            if (lastType) exotic = true;
            r.pos = vend;
          } else r.skip(t & 7);
        }
        value = arr;
        lastType = exotic ? 'x' : undefined;
        break;
      }
      case 50: { // kvlist_value
        const kend = r.len();
        const obj: Attributes = {};
        const exotic = decodeKeyValues(r, kend, obj, 10) !== undefined;
        value = obj;
        lastType = exotic ? 'x' : undefined;
        break;
      }
      case 58: value = r.base64(); lastType = 'b'; break; // bytes_value
      default: r.skip(tag & 7);
    }
  }
  if (r.pos !== end) throw new MalformedError('AnyValue overran its length');
  return value;
}

/**
 * Decodes the KeyValue at reader.pos (already past its tag) into `target` and returns the
 * type notes with this key's note added when it needs one. One function, no tuple: this runs
 * for every attribute of every span.
 */
export function decodeOneKeyValue(r: Reader, target: Attributes, types: AttributeTypes | undefined): AttributeTypes | undefined {
  const end = r.len();
  let key = '';
  let value: AttributeValue = null;
  let type: AttributeType | undefined;
  while (r.pos < end) {
    const tag = r.uint32();
    if (tag === 10) key = r.cachedString();
    else if (tag === 18) {
      const vend = r.len();
      const vstart = r.pos;
      value = decodeAnyValue(r, vend);
      if (lastType === 'x') type = { any: anyValueToJson(new Reader(r.buf, vstart, vend), vend) };
      else type = lastType;
      r.pos = vend;
    } else r.skip(tag & 7);
  }
  if (r.pos !== end) throw new MalformedError('KeyValue overran its length');
  // a key named __proto__ would set the object's prototype instead of an attribute
  if (key === '__proto__') Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  else target[key] = value;
  if (type !== undefined) (types ??= {})[key] = type;
  return types;
}

/**
 * Decodes every `tag` KeyValue in pos..end into `target` (other fields are skipped).
 * Returns type notes for the keys that need them, or undefined.
 */
export function decodeKeyValues(r: Reader, end: number, target: Attributes, tag: number): AttributeTypes | undefined {
  let types: AttributeTypes | undefined;
  while (r.pos < end) {
    const t = r.uint32();
    if (t === tag) types = decodeOneKeyValue(r, target, types);
    else r.skip(t & 7);
  }
  return types;
}

/** Re-reads an AnyValue in OTLP/JSON form (only for rare composites holding bytes/int64/integral doubles). */
export function anyValueToJson(r: Reader, end: number): JsonAnyValue {
  const out: JsonAnyValue = {};
  while (r.pos < end) {
    const tag = r.uint32();
    switch (tag) {
      case 10: out.stringValue = r.string(); break;
      case 16: out.boolValue = r.bool(); break;
      case 24: out.intValue = String(r.int64()); break;
      case 33: out.doubleValue = r.double(); break;
      case 42: {
        const aend = r.len();
        const values: JsonAnyValue[] = [];
        while (r.pos < aend) {
          const t = r.uint32();
          if (t === 10) { const vend = r.len(); values.push(anyValueToJson(r, vend)); r.pos = vend; } else r.skip(t & 7);
        }
        out.arrayValue = { values };
        break;
      }
      case 50: {
        const kend = r.len();
        const values: { key: string; value?: JsonAnyValue }[] = [];
        while (r.pos < kend) {
          const t = r.uint32();
          if (t !== 10) { r.skip(t & 7); continue; }
          const kvend = r.len();
          const kv: { key: string; value?: JsonAnyValue } = { key: '' };
          while (r.pos < kvend) {
            const t2 = r.uint32();
            if (t2 === 10) kv.key = r.string();
            else if (t2 === 18) { const vend = r.len(); kv.value = anyValueToJson(r, vend); r.pos = vend; } else r.skip(t2 & 7);
          }
          values.push(kv);
        }
        out.kvlistValue = { values };
        break;
      }
      case 58: out.bytesValue = r.base64(); break;
      default: r.skip(tag & 7);
    }
  }
  return out;
}

// ---------------------------------------------------------------- encoding

/** Writes `attrs` as repeated KeyValue in field `field`, honouring type notes. */
export function encodeKeyValues(w: Writer, field: number, attrs: Attributes | undefined, types: AttributeTypes | undefined): void {
  if (!attrs) return;
  for (const key in attrs) {
    const v = attrs[key];
    if (v === undefined) continue;
    const m = w.begin(field);
    w.string(1, key);
    const vm = w.begin(2);
    const t = types?.[key];
    if (t === undefined) encodeNatural(w, v);
    else if (typeof t === 'object') encodeJsonAnyValue(w, t.any);
    else encodeTyped(w, v, t);
    w.end(vm);
    w.end(m);
  }
}

/** AnyValue body (without its own tag/length) for a plain value. */
export function encodeNatural(w: Writer, v: AttributeValue): void {
  if (v === null) return;
  switch (typeof v) {
    case 'string': w.string(1, v); return;
    case 'boolean': w.varint(16); w.varint(v ? 1 : 0); return;
    case 'number':
      if (Number.isInteger(v)) { w.varint(24); w.int64(v); } else { w.varint(33); w.double(v); }
      return;
    case 'object': {
      if (Array.isArray(v)) {
        const am = w.begin(5);
        for (const item of v) {
          const im = w.begin(1);
          encodeNatural(w, item);
          w.end(im);
        }
        w.end(am);
      } else {
        const km = w.begin(6);
        encodeKeyValues(w, 1, v as Attributes, undefined);
        w.end(km);
      }
      return;
    }
    default:
      // bigint/functions cannot come from OTLP; keep them readable rather than failing the export
      w.string(1, String(v));
  }
}

function encodeTyped(w: Writer, v: AttributeValue, t: 'd' | 'i' | 'b'): void {
  if (t === 'd') { w.varint(33); w.double(Number(v)); return; }
  if (t === 'i') { w.varint(24); w.int64(v as string | number); return; }
  w.bytesBase64(7, String(v));
}

export function encodeJsonAnyValue(w: Writer, a: JsonAnyValue | undefined): void {
  if (!a) return;
  if (a.stringValue !== undefined) w.string(1, a.stringValue);
  else if (a.boolValue !== undefined) { w.varint(16); w.varint(a.boolValue ? 1 : 0); }
  else if (a.intValue !== undefined) { w.varint(24); w.int64(a.intValue); }
  else if (a.doubleValue !== undefined) { w.varint(33); w.double(Number(a.doubleValue)); }
  else if (a.arrayValue !== undefined) {
    const am = w.begin(5);
    for (const item of a.arrayValue.values ?? []) { const im = w.begin(1); encodeJsonAnyValue(w, item); w.end(im); }
    w.end(am);
  } else if (a.kvlistValue !== undefined) {
    const km = w.begin(6);
    for (const kv of a.kvlistValue.values ?? []) {
      const m = w.begin(1);
      w.string(1, kv.key);
      const vm = w.begin(2);
      encodeJsonAnyValue(w, kv.value);
      w.end(vm);
      w.end(m);
    }
    w.end(km);
  } else if (a.bytesValue !== undefined) w.bytesBase64(7, a.bytesValue);
}


/**
 * Checks the KeyValue at reader.pos (already past its tag) the way decodeOneKeyValue reads it,
 * building nothing: a malformed attribute must fail the request now, even when its decoding is
 * left for later (lazy span attributes).
 */
export function scanKeyValue(r: Reader): void {
  const end = r.len();
  while (r.pos < end) {
    const tag = r.uint32();
    if (tag === 18) {
      const vend = r.len();
      // Most values are one string_value: check it here without a call.
      if (r.pos < vend && r.buf[r.pos] === 10) {
        r.pos++;
        r.pos = r.len();
      }
      scanAnyValue(r, vend);
      r.pos = vend;
    } else r.skip(tag & 7);
  }
  if (r.pos !== end) throw new MalformedError('KeyValue overran its length');
}

function scanAnyValue(r: Reader, end: number): void {
  while (r.pos < end) {
    const tag = r.uint32();
    switch (tag) {
      case 16: r.bool(); break;
      case 24: r.int64(); break;
      case 33: r.double(); break;
      case 42: case 50: { // array_value, kvlist_value
        const inner = r.len();
        while (r.pos < inner) {
          const t = r.uint32();
          if (t !== 10) r.skip(t & 7);
          else if (tag === 50) scanKeyValue(r);
          else { const vend = r.len(); scanAnyValue(r, vend); r.pos = vend; }
        }
        break;
      }
      default: r.skip(tag & 7); // string_value, bytes_value and unknown fields: bounds only
    }
  }
  if (r.pos !== end) throw new MalformedError('AnyValue overran its length');
}
