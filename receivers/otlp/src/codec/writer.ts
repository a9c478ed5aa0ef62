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
    this.ensure(n * 3 + 16);
    this.varint((field << 3) | 2);
    if (n < 43) {
      // at most 3 bytes per UTF-16 unit → < 128 bytes: a one-byte length
      const written = this.buf.utf8Write(s, this.pos + 1);
      this.buf[this.pos] = written;
      this.pos += 1 + written;
      return;
    }
    const len = Buffer.byteLength(s);
    this.varint(len);
    this.pos += this.buf.utf8Write(s, this.pos);
  }

  bytesHex(field: number, hex: string): void {
    const n = hex.length >>> 1;
    this.ensure(n + 16);
    this.varint((field << 3) | 2);
    this.varint(n);
    this.pos += this.buf.write(hex, this.pos, n, 'hex');
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

  /** Starts a length-delimited field; returns a mark for end(). */
  begin(field: number): number {
    this.varint((field << 3) | 2);
    this.ensure(1);
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

declare global {
  interface Buffer {
    utf8Write(s: string, offset?: number, length?: number): number;
  }
}
