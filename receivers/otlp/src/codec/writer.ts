/**
 * A minimal protobuf wire-format writer into one growable Buffer. Nested messages reserve a
 * one-byte length, are written in place, and are shifted only when their length needs more
 * bytes (a memmove) — no per-message sub-buffers and no size pre-pass.
 */
const TWO_32 = 4294967296;

export class Writer {
  buf: Buffer;
  pos = 0;

  constructor(initialSize = 64 * 1024) {
    this.buf = Buffer.allocUnsafe(initialSize);
  }

  reset(): void { this.pos = 0; }

  ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  /** A copy of what was written (the writer's buffer is reused). */
  finish(): Buffer {
    return Buffer.from(this.buf.subarray(0, this.pos));
  }

  tag(field: number, wire: number): void {
    this.varint((field << 3) | wire);
  }

  varint(v: number): void {
    this.ensure(10);
    const buf = this.buf;
    let pos = this.pos;
    while (v > 0x7f) {
      buf[pos++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    buf[pos++] = v;
    this.pos = pos;
  }

  /** int64 varint from a JS number or decimal string (negative values take ten bytes). */
  int64(v: number | string): void {
    let lo: number, hi: number;
    if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 && v < TWO_32) { this.varint(v); return; }
    const big = BigInt.asUintN(64, BigInt(v));
    lo = Number(big & 0xffffffffn);
    hi = Number(big >> 32n);
    this.varint64(lo, hi);
  }

  varint64(lo: number, hi: number): void {
    this.ensure(10);
    const buf = this.buf;
    let pos = this.pos;
    while (hi) {
      buf[pos++] = (lo & 0x7f) | 0x80;
      lo = ((lo >>> 7) | (hi << 25)) >>> 0;
      hi >>>= 7;
    }
    while (lo > 0x7f) {
      buf[pos++] = (lo & 0x7f) | 0x80;
      lo >>>= 7;
    }
    buf[pos++] = lo;
    this.pos = pos;
  }

  sint32(v: number): void {
    this.varint(((v << 1) ^ (v >> 31)) >>> 0);
  }

  double(v: number): void {
    this.ensure(8);
    this.buf.writeDoubleLE(v, this.pos);
    this.pos += 8;
  }

  fixed32(v: number): void {
    this.ensure(4);
    this.buf.writeUInt32LE(v >>> 0, this.pos);
    this.pos += 4;
  }

  /** fixed64/sfixed64 from a number or an exact decimal string. */
  fixed64(v: number | string): void {
    this.ensure(8);
    if (typeof v === 'string' && v.length <= 20 && v.length > 15 && v.charCodeAt(0) !== 45 /* - */) {
      // decimal text of an unsigned value (timestamps): exact without BigInt, see uint64Halves
      if (uint64Halves(v)) {
        this.buf.writeUInt32LE(halfLo, this.pos);
        this.buf.writeUInt32LE(halfHi, this.pos + 4);
        this.pos += 8;
        return;
      }
    }
    if (typeof v === 'string' && v.length <= 15 && v.charCodeAt(0) !== 45) v = Number(v);
    if (typeof v === 'number' && v >= 0 && v <= Number.MAX_SAFE_INTEGER) {
      const hi = Math.floor(v / TWO_32);
      this.buf.writeUInt32LE(v - hi * TWO_32, this.pos);
      this.buf.writeUInt32LE(hi, this.pos + 4);
    } else {
      this.buf.writeBigUInt64LE(BigInt.asUintN(64, BigInt(typeof v === 'number' ? Math.trunc(v) : v)), this.pos);
    }
    this.pos += 8;
  }

  string(field: number, s: string): void {
    const n = s.length;
    if (this.pos + n * 3 + 16 > this.buf.length) this.ensure(n * 3 + 16);
    const buf = this.buf;
    // fields 1..15 have a one-byte tag
    if (field < 16) buf[this.pos++] = (field << 3) | 2;
    else this.varint((field << 3) | 2);
    if (n < 43) {
      // at most 3 bytes per UTF-16 unit → < 128 bytes: a one-byte length
      const written = buf.utf8Write(s, this.pos + 1);
      buf[this.pos] = written;
      this.pos += 1 + written;
      return;
    }
    const len = Buffer.byteLength(s);
    this.varint(len);
    this.pos += this.buf.utf8Write(s, this.pos);
  }

  bytesHex(field: number, hex: string): void {
    const n = hex.length >>> 1;
    if (this.pos + n + 16 > this.buf.length) this.ensure(n + 16);
    if (field < 16 && n < 128) {
      this.buf[this.pos] = (field << 3) | 2;
      this.buf[this.pos + 1] = n;
      this.pos += 2;
    } else {
      this.varint((field << 3) | 2);
      this.varint(n);
    }
    this.pos += this.buf.hexWrite(hex, this.pos, n);
  }

  bytesBase64(field: number, b64: string): void {
    const bytes = Buffer.from(b64, 'base64');
    this.ensure(bytes.length + 16);
    this.varint((field << 3) | 2);
    this.varint(bytes.length);
    bytes.copy(this.buf, this.pos);
    this.pos += bytes.length;
  }

  bytes(field: number, bytes: Uint8Array): void {
    this.ensure(bytes.length + 16);
    this.varint((field << 3) | 2);
    this.varint(bytes.length);
    this.buf.set(bytes, this.pos);
    this.pos += bytes.length;
  }

  /** A bytes field copied from src[start, end) (no view of src is made). */
  bytesRange(field: number, src: Buffer, start: number, end: number): void {
    const n = end - start;
    this.ensure(n + 16);
    this.varint((field << 3) | 2);
    this.varint(n);
    src.copy(this.buf, this.pos, start, end);
    this.pos += n;
  }

  /** Bytes copied verbatim from src[start, end): already-encoded fields. */
  raw(src: Buffer, start: number, end: number): void {
    const n = end - start;
    this.ensure(n);
    src.copy(this.buf, this.pos, start, end);
    this.pos += n;
  }

  /** Starts a length-delimited field; returns a mark for end(). */
  begin(field: number): number {
    if (this.pos + 12 > this.buf.length) this.ensure(12);
    if (field < 16) this.buf[this.pos++] = (field << 3) | 2;
    else this.varint((field << 3) | 2);
    return this.pos++;
  }

  /** Ends a length-delimited field begun at `mark`, moving the content if the length needs more than a byte. */
  end(mark: number): void {
    const len = this.pos - mark - 1;
    if (len < 0x80) {
      this.buf[mark] = len;
      return;
    }
    const extra = len < 0x4000 ? 1 : len < 0x200000 ? 2 : len < 0x10000000 ? 3 : 4;
    this.ensure(extra);
    this.buf.copyWithin(mark + 1 + extra, mark + 1, this.pos);
    let v = len;
    let p = mark;
    while (v > 0x7f) {
      this.buf[p++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    this.buf[p] = v;
    this.pos += extra;
  }
}

let halfLo = 0;
let halfHi = 0;

/**
 * Splits the decimal text of an unsigned 64-bit integer (16..20 digits) into 32-bit halves
 * (halfLo/halfHi) with double arithmetic only, every step below 2^53. False if not digits or ≥ 2^64.
 */
function uint64Halves(s: string): boolean {
  const head = Number(s.slice(0, s.length - 9));
  const tail = Number(s.slice(s.length - 9));
  if (!Number.isInteger(head) || !Number.isInteger(tail) || head < 0 || tail < 0) return false;
  // value = head * 1e9 + tail, head < 2^35; head = h1 * 2^16 + h0
  const h0 = head % 65536;
  const h1 = (head - h0) / 65536;
  const a = h0 * 1e9 + tail;          // < 2^46
  const b = h1 * 1e9;                 // < 2^49
  const bLo = b % 65536;
  const bHi = (b - bLo) / 65536;      // value = bHi * 2^32 + bLo * 2^16 + a
  const c = bLo * 65536 + a;          // < 2^47
  const lo = c % TWO_32;
  const hi = bHi + (c - lo) / TWO_32;
  if (hi >= TWO_32) return false;
  halfLo = lo;
  halfHi = hi;
  return true;
}

declare global {
  interface Buffer {
    utf8Write(s: string, offset?: number, length?: number): number;
    hexWrite(s: string, offset?: number, length?: number): number;
  }
}
