import { corrupt } from './error';

/** Largest output of one compressed block (RFC 8878 3.1.1.2.3: min(Window_Size, 128 KiB)). */
const BLOCK_MAX = 128 * 1024;
const FRAME_MAGIC = 0xfd2fb528;

export interface ZstdOutputBound {
  /** Upper bound on the decompressed size of all frames together. */
  bound: number;
  /** True when every frame declared its content size: the bound is then the exact size (zstd checks it). */
  exact: boolean;
}

/**
 * Walks the frames and block headers of a zstd body (RFC 8878) without decompressing anything,
 * to learn how much output it can produce: a frame's declared Frame_Content_Size when present,
 * else per block its size (raw and RLE blocks) or the 128 KiB block maximum (compressed
 * blocks). Streaming encoders such as Go's leave the content size out of large frames, so
 * refusing those would refuse the Collector; this bound lets them through while keeping the
 * output buffer no larger than what the body can actually produce.
 */
export function zstdOutputBound(b: Buffer): ZstdOutputBound {
  const bad = (why: string): Error => corrupt('zstd', why);
  let bound = 0;
  let exact = true;
  let at = 0;
  while (at < b.length) {
    if (at + 4 > b.length) throw bad('truncated frame');
    const magic = b.readUInt32LE(at);
    if ((magic & 0xfffffff0) >>> 0 === 0x184d2a50) {
      // skippable frame: magic, 4-byte size, user data; no output
      if (at + 8 > b.length) throw bad('truncated skippable frame');
      at += 8 + b.readUInt32LE(at + 4);
      if (at > b.length) throw bad('truncated skippable frame');
      continue;
    }
    if (magic !== FRAME_MAGIC) throw bad('unknown frame magic');
    if (at + 5 > b.length) throw bad('truncated frame header');
    const fhd = b[at + 4]!;
    const fcsFlag = fhd >>> 6;
    const singleSegment = (fhd >>> 5) & 1;
    const hasChecksum = (fhd >>> 2) & 1;
    if (fhd & 0x08) throw bad('reserved bit set in the frame header');
    let p = at + 5;
    let windowSize = Infinity;
    if (!singleSegment) {
      if (p >= b.length) throw bad('truncated frame header');
      const wd = b[p++]!;
      const base = 2 ** (10 + (wd >>> 3));
      windowSize = base + (base / 8) * (wd & 7);
    }
    p += [0, 1, 2, 4][fhd & 3]!; // dictionary id
    const fcsBytes = [singleSegment ? 1 : 0, 2, 4, 8][fcsFlag]!;
    if (p + fcsBytes > b.length) throw bad('truncated frame header');
    let contentSize: number | undefined;
    if (fcsBytes === 1) contentSize = b[p]!;
    else if (fcsBytes === 2) contentSize = b.readUInt16LE(p) + 256;
    else if (fcsBytes === 4) contentSize = b.readUInt32LE(p);
    else if (fcsBytes === 8) contentSize = b.readUInt32LE(p) + b.readUInt32LE(p + 4) * 2 ** 32; // beyond 2^53 it is still huge
    p += fcsBytes;
    const blockMax = Math.min(windowSize, BLOCK_MAX);
    let blocksBound = 0;
    for (let last = 0; !last;) {
      if (p + 3 > b.length) throw bad('truncated block header');
      const h = b.readUIntLE(p, 3);
      p += 3;
      last = h & 1;
      const type = (h >>> 1) & 3;
      const size = h >>> 3;
      if (type === 3) throw bad('reserved block type');
      if (type === 1) { blocksBound += size; p += 1; } // RLE: one byte repeated `size` times
      else { blocksBound += type === 0 ? size : blockMax; p += size; }
      if (p > b.length) throw bad('truncated block');
    }
    if (hasChecksum) p += 4;
    if (p > b.length) throw bad('truncated frame checksum');
    if (contentSize === undefined) { exact = false; bound += blocksBound; } else bound += contentSize;
    at = p;
  }
  return { bound, exact };
}
