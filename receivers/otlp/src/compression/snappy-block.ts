import { compress } from 'snappyjs';
import { corrupt, tooLarge } from './error';

/** Snappy's block format (format_description.txt): what `snappy` means over HTTP since confighttp's framedSnappy gate. */
export function snappyBlock(data: Uint8Array): Buffer {
  const packed = compress(data);
  return Buffer.from(packed.buffer, packed.byteOffset, packed.length);
}

/** The uncompressed length a block declares up front (a varint of at most 32 bits) and where its data starts. */
export function snappyDeclaredLength(src: Uint8Array): { length: number; start: number } | undefined {
  let length = 0;
  for (let i = 0, shift = 0; i < src.length && i < 5; i++, shift += 7) {
    const b = src[i]!;
    length += (b & 0x7f) * 2 ** shift;
    if (b < 0x80) return length > 0xffffffff ? undefined : { length, start: i + 1 };
  }
  return undefined;
}

/**
 * Decodes one snappy block (into `into` when given), refusing before any allocation one that
 * declares more than `limit` bytes. Our own decoder rather than snappyjs's uncompress: that one ignores writes past the
 * declared length, does not check that the output is complete, and a crafted 4-byte literal
 * length can send its read position negative and spin for billions of steps. This one checks
 * every length and offset, as Go's snappy.Decode, so corrupt input is an error and the work is
 * bounded by the output size.
 */
export function decodeSnappyBlock(src: Uint8Array, limit: number, encoding = 'snappy', into?: Buffer): Buffer {
  const head = snappyDeclaredLength(src);
  if (!head) throw corrupt(encoding, 'invalid length header');
  if (head.length > limit) throw tooLarge(limit);
  // `into`: where the caller wants the output (a view of exactly the declared length), else a new buffer
  if (into && into.length !== head.length) throw corrupt(encoding, `the block declares ${head.length} bytes, its frame ${into.length}`);
  const dst = into ?? Buffer.allocUnsafe(head.length);
  const input = Buffer.from(src.buffer, src.byteOffset, src.length);
  let s = head.start;
  let d = 0;
  const bad = (why: string): Error => corrupt(encoding, why);
  while (s < input.length) {
    const tag = input[s]!;
    if ((tag & 3) === 0) {
      // literal: length-1 in the tag's upper 6 bits, or in the 1-4 bytes that follow (60-63)
      let n = tag >>> 2;
      if (n >= 60) {
        const bytes = n - 59;
        if (s + 1 + bytes > input.length) throw bad('truncated literal length');
        n = input.readUIntLE(s + 1, bytes);
        s += bytes;
      }
      s += 1;
      const length = n + 1;
      if (length > dst.length - d || length > input.length - s) throw bad('literal overruns the input or the declared length');
      input.copy(dst, d, s, s + length);
      s += length;
      d += length;
      continue;
    }
    let length: number;
    let offset: number;
    switch (tag & 3) {
      case 1: // copy with a 1-byte offset
        if (s + 2 > input.length) throw bad('truncated copy');
        length = 4 + ((tag >>> 2) & 7);
        offset = ((tag & 0xe0) << 3) | input[s + 1]!;
        s += 2;
        break;
      case 2: // 2-byte offset
        if (s + 3 > input.length) throw bad('truncated copy');
        length = 1 + (tag >>> 2);
        offset = input.readUInt16LE(s + 1);
        s += 3;
        break;
      default: // 4-byte offset
        if (s + 5 > input.length) throw bad('truncated copy');
        length = 1 + (tag >>> 2);
        offset = input.readUInt32LE(s + 1);
        s += 5;
    }
    if (offset === 0 || offset > d || length > dst.length - d) throw bad('copy outside the output');
    if (offset >= length) {
      dst.copyWithin(d, d - offset, d - offset + length);
    } else {
      // overlapping copy (a run): byte by byte, each may read what the previous one wrote
      for (let i = 0; i < length; i++) dst[d + i] = dst[d - offset + i]!;
    }
    d += length;
  }
  if (d !== dst.length) throw bad(`decoded ${d} bytes, the header declared ${dst.length}`);
  return dst;
}
