/**
 * A minimal protobuf wire-format reader over a Buffer. Hand-written because it is the hot path
 * of the receiver: no intermediate message objects, no Long, and strings/ids are sliced straight
 * out of the request buffer.
 */
export class MalformedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MalformedError';
  }
}

export const WIRE_VARINT = 0;
export const WIRE_I64 = 1;
export const WIRE_LEN = 2;
export const WIRE_I32 = 5;

const TWO_32 = 4294967296;

const MAX_CACHED = 48;
const CACHE_MASK = 4095;
const cacheBytes: (Buffer | undefined)[] = new Array(CACHE_MASK + 1);
const cacheStrings: (string | undefined)[] = new Array(CACHE_MASK + 1);
const cacheMisses = new Uint8Array(CACHE_MASK + 1);

export class Reader {
  pos: number;
  constructor(readonly buf: Buffer, pos = 0, public end = buf.length) {
    this.pos = pos;
  }

  /** Reads a varint up to 32 bits (the rest of a longer varint is skipped, as protobuf does for int32). */
  uint32(): number {
    const buf = this.buf;
    let pos = this.pos;
    let b = buf[pos++]!;
    let v = b & 0x7f;
    if (b >= 0x80) {
      b = buf[pos++]!; v |= (b & 0x7f) << 7;
      if (b >= 0x80) {
        b = buf[pos++]!; v |= (b & 0x7f) << 14;
        if (b >= 0x80) {
          b = buf[pos++]!; v |= (b & 0x7f) << 21;
          if (b >= 0x80) {
            b = buf[pos++]!; v |= (b & 0x0f) << 28;
            // A negative int32 is sign-extended to ten bytes; skip the rest.
            while (b >= 0x80 && pos < this.end) b = buf[pos++]!;
          }
        }
      }
    }
    if (pos > this.end) throw new MalformedError('truncated varint');
    this.pos = pos;
    return v >>> 0;
  }

  /** A varint as a JS number when it fits in 2^53, otherwise as a decimal string (int64 semantics). */
  int64(): number | string {
    const buf = this.buf;
    let lo = 0;
    let hi = 0;
    let shift = 0;
    let pos = this.pos;
    let b: number;
    // low 28 bits
    for (; shift < 28; shift += 7) {
      if (pos >= this.end) throw new MalformedError('truncated varint');
      b = buf[pos++]!;
      lo |= (b & 0x7f) << shift;
      if (b < 0x80) { this.pos = pos; return lo >>> 0; }
    }
    if (pos >= this.end) throw new MalformedError('truncated varint');
    b = buf[pos++]!;
    lo |= (b & 0x0f) << 28;
    hi = (b & 0x7f) >> 4;
    if (b >= 0x80) {
      for (shift = 3; shift < 32; shift += 7) {
        if (pos >= this.end) throw new MalformedError('truncated varint');
        b = buf[pos++]!;
        hi |= (b & 0x7f) << shift;
        if (b < 0x80) break;
      }
      if (b! >= 0x80) throw new MalformedError('varint too long');
    }
    this.pos = pos;
    return int64FromBits(lo >>> 0, hi >>> 0);
  }

  uint64(): number | string {
    const v = this.int64();
    if (typeof v === 'string' && v[0] === '-') return (BigInt(v) + (1n << 64n)).toString();
    return v;
  }

  sint32(): number {
    const n = this.uint32();
    return (n >>> 1) ^ -(n & 1);
  }

  bool(): boolean {
    return this.uint32() !== 0;
  }

  double(): number {
    if (this.pos + 8 > this.end) throw new MalformedError('truncated double');
    const v = this.buf.readDoubleLE(this.pos);
    this.pos += 8;
    return v;
  }

  fixed32(): number {
    if (this.pos + 4 > this.end) throw new MalformedError('truncated fixed32');
    const v = this.buf.readUInt32LE(this.pos);
    this.pos += 4;
    return v;
  }

  /** fixed64 as an exact decimal string (timestamps). */
  fixed64String(): string {
    if (this.pos + 8 > this.end) throw new MalformedError('truncated fixed64');
    const lo = this.buf.readUInt32LE(this.pos);
    const hi = this.buf.readUInt32LE(this.pos + 4);
    this.pos += 8;
    return uint64String(lo, hi);
  }

  /** fixed64 as a number when exact, else a decimal string (counts). */
  fixed64Number(): number | string {
    if (this.pos + 8 > this.end) throw new MalformedError('truncated fixed64');
    const lo = this.buf.readUInt32LE(this.pos);
    const hi = this.buf.readUInt32LE(this.pos + 4);
    this.pos += 8;
    if (hi < 0x200000) return hi * TWO_32 + lo;
    return uint64String(lo, hi);
  }

  sfixed64(): number | string {
    if (this.pos + 8 > this.end) throw new MalformedError('truncated sfixed64');
    const lo = this.buf.readUInt32LE(this.pos);
    const hi = this.buf.readUInt32LE(this.pos + 4);
    this.pos += 8;
    return int64FromBits(lo, hi);
  }

  /** Reads a length prefix and returns the end offset of the delimited field. */
  len(): number {
    const n = this.uint32();
    const end = this.pos + n;
    if (end > this.end) throw new MalformedError('length-delimited field runs past the end of its message');
    return end;
  }

  string(): string {
    const end = this.len();
    // utf8Slice/hexSlice skip Buffer#toString's argument handling: measurable at ~20 strings per span
    const s = this.pos === end ? '' : this.buf.utf8Slice(this.pos, end);
    this.pos = end;
    return s;
  }

  /**
   * A short string that repeats across items (attribute keys, common values), served from a
   * small cache of recently seen byte sequences: no new string, and keys come back already
   * internalized, which makes `attrs[key] = value` cheaper too.
   */
  cachedString(isValue = false): string {
    const end = this.len();
    const start = this.pos;
    const n = end - start;
    this.pos = end;
    if (n === 0) return '';
    if (n > MAX_CACHED) return this.buf.utf8Slice(start, end);
    const buf = this.buf;
    const slot = (n * 31 + buf[start]! * 7 + buf[start + (n >> 1)]! * 131 + buf[end - 1]! * 17) & CACHE_MASK;
    const hit = cacheBytes[slot];
    if (hit !== undefined && hit.length === n) {
      let i = 0;
      while (i < n && hit[i] === buf[start + i]) i++;
      if (i === n) return cacheStrings[slot]!;
    }
    const str = buf.utf8Slice(start, end);
    // Keys repeat; many values never do (ids, paths). A value takes a busy slot only on every
    // 16th miss there, so unique values do not pay for a copy each time nor evict common ones.
    if (hit === undefined || !isValue || (cacheMisses[slot] = (cacheMisses[slot]! + 1) & 15) === 0) {
      cacheBytes[slot] = Buffer.from(buf.subarray(start, end));
      cacheStrings[slot] = str;
    }
    return str;
  }

  hex(): string {
    const end = this.len();
    const s = this.pos === end ? '' : this.buf.hexSlice(this.pos, end);
    this.pos = end;
    return s;
  }

  base64(): string {
    const end = this.len();
    const s = this.buf.toString('base64', this.pos, end);
    this.pos = end;
    return s;
  }

  skip(wireType: number): void {
    switch (wireType) {
      case WIRE_VARINT: this.int64(); return;
      case WIRE_I64: this.pos += 8; break;
      case WIRE_LEN: this.pos = this.len(); return;
      case WIRE_I32: this.pos += 4; break;
      default: throw new MalformedError(`invalid wire type ${wireType}`);
    }
    if (this.pos > this.end) throw new MalformedError('truncated field');
  }
}

/** Exact decimal text of an unsigned 64-bit value given as two 32-bit halves. */
export function uint64String(lo: number, hi: number): string {
  if (hi < 0x200000) return String(hi * TWO_32 + lo);
  // Split at 10^7 boundaries so every intermediate stays below 2^53.
  // value = hi*2^32 + lo; 2^32 = 429 * 10^7 + 4967296
  const hiQ = hi * 429;          // < 2^41, in units of 10^7
  const rest = hi * 4967296 + lo; // < 2^55? hi < 2^32 → hi*4967296 < 2.2e16 — may exceed 2^53, split again
  const restQ = Math.floor(rest / 1e7);
  const restR = rest - restQ * 1e7;
  if (rest <= Number.MAX_SAFE_INTEGER) {
    const top = hiQ + restQ;
    return String(top) + String(restR).padStart(7, '0');
  }
  return ((BigInt(hi) << 32n) | BigInt(lo)).toString();
}

function int64FromBits(lo: number, hi: number): number | string {
  if (hi & 0x80000000) {
    // negative: two's complement
    const nlo = (~lo + 1) >>> 0;
    const nhi = (~hi + (nlo === 0 ? 1 : 0)) >>> 0;
    if (nhi < 0x200000) return -(nhi * TWO_32 + nlo);
    return '-' + uint64String(nlo, nhi);
  }
  if (hi < 0x200000) return hi * TWO_32 + lo;
  return uint64String(lo, hi);
}

declare global {
  interface Buffer {
    utf8Slice(start: number, end: number): string;
    hexSlice(start: number, end: number): string;
  }
}
