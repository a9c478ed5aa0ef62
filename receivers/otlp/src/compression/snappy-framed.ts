import { maskedCrc32c } from './crc32c';
import { corrupt, tooLarge } from './error';
import { decodeSnappyBlock, snappyBlock, snappyDeclaredLength } from './snappy-block';

/**
 * Snappy's framing format (github.com/google/snappy framing_format.txt): what the Collector sends
 * for `x-snappy-framed` and, over gRPC, for `snappy` (go-grpc-compression wraps golang/snappy's
 * framed Reader/Writer); before the framedSnappy gate (v0.125) also for HTTP `snappy`.
 */
export const SNAPPY_STREAM_IDENTIFIER = Buffer.from([0xff, 0x06, 0x00, 0x00, 0x73, 0x4e, 0x61, 0x50, 0x70, 0x59]); // "sNaPpY"
const CHUNK_COMPRESSED = 0x00;
const CHUNK_UNCOMPRESSED = 0x01;
const CHUNK_STREAM_IDENTIFIER = 0xff;
/** The format's limit on uncompressed bytes per chunk. */
const MAX_CHUNK = 65536;

/** Whether a body starts with the framing format's stream identifier (confighttp's test for `snappy`). */
export function isSnappyFramed(raw: Uint8Array): boolean {
  return raw.length >= SNAPPY_STREAM_IDENTIFIER.length && SNAPPY_STREAM_IDENTIFIER.equals(raw.subarray(0, SNAPPY_STREAM_IDENTIFIER.length));
}

export function snappyFramed(data: Uint8Array): Buffer {
  const parts: Buffer[] = [SNAPPY_STREAM_IDENTIFIER];
  for (let at = 0; at < data.length || at === 0; at += MAX_CHUNK) {
    const chunk = data.subarray(at, at + MAX_CHUNK);
    const packed = snappyBlock(chunk);
    // as Go's snappy writer: keep the chunk uncompressed unless that saves at least 1/8
    const useCompressed = packed.length < chunk.length - (chunk.length >> 3);
    const payload = useCompressed ? packed : chunk;
    const header = Buffer.allocUnsafe(8);
    header[0] = useCompressed ? CHUNK_COMPRESSED : CHUNK_UNCOMPRESSED;
    header.writeUIntLE(payload.length + 4, 1, 3);
    header.writeUInt32LE(maskedCrc32c(chunk), 4);
    parts.push(header, Buffer.from(payload.buffer, payload.byteOffset, payload.length));
    if (data.length === 0) break;
  }
  return Buffer.concat(parts);
}

/** One data chunk of the framing format: its payload (past the checksum), type, uncompressed size and masked CRC-32C. */
interface DataChunk { type: number; data: Buffer; size: number; checksum: number }

/**
 * The data chunks of a framed stream, checked as golang/snappy's Reader does: the stream
 * identifier first, reserved unskippable chunk types refused, skippable and padding chunks
 * skipped, each chunk's uncompressed size read from its block header (at most 64 KiB).
 */
function* dataChunks(input: Buffer, bad: (why: string) => Error): Generator<DataChunk> {
  for (let at = 0; at < input.length;) {
    if (at + 4 > input.length) throw bad('truncated chunk header');
    const type = input[at]!;
    const length = input.readUIntLE(at + 1, 3);
    const body = input.subarray(at + 4, at + 4 + length);
    if (body.length !== length) throw bad('truncated chunk');
    at += 4 + length;
    if (type === CHUNK_STREAM_IDENTIFIER) {
      if (!SNAPPY_STREAM_IDENTIFIER.equals(input.subarray(at - 4 - length, at))) throw bad('invalid stream identifier');
      continue;
    }
    if (type !== CHUNK_COMPRESSED && type !== CHUNK_UNCOMPRESSED) {
      // 0x02-0x7f are reserved unskippable; 0x80-0xfd reserved skippable; 0xfe padding
      if (type < 0x80) throw bad(`reserved unskippable chunk type 0x${type.toString(16)}`);
      continue;
    }
    if (length < 4) throw bad('chunk too short for its checksum');
    const data = body.subarray(4);
    let size: number;
    if (type === CHUNK_COMPRESSED) {
      const head = snappyDeclaredLength(data);
      if (!head || head.length > MAX_CHUNK) throw bad('chunk declares more than 64 KiB');
      size = head.length;
    } else {
      if (data.length > MAX_CHUNK) throw bad('uncompressed chunk over 64 KiB');
      size = data.length;
    }
    yield { type, data, size, checksum: body.readUInt32LE(0) };
  }
}

/**
 * Reads the framing format (see dataChunks) in two passes: the chunk headers first, summing the
 * declared sizes against `limit` — so a bomb is refused before anything is decompressed or
 * allocated — then each chunk decoded straight into the one output buffer and its CRC-32C
 * checked there.
 */
export function unframeSnappy(raw: Uint8Array, limit: number, encoding = 'x-snappy-framed'): Buffer {
  const bad = (why: string): Error => corrupt(encoding, why);
  if (!isSnappyFramed(raw)) throw bad('missing the stream identifier');
  const input = Buffer.from(raw.buffer, raw.byteOffset, raw.length);
  let total = 0;
  for (const chunk of dataChunks(input, bad)) {
    total += chunk.size;
    if (total > limit) throw tooLarge(limit);
  }
  const out = Buffer.allocUnsafe(total);
  let pos = 0;
  for (const { type, data, size, checksum } of dataChunks(input, bad)) {
    const plain = out.subarray(pos, pos + size);
    if (type === CHUNK_COMPRESSED) decodeSnappyBlock(data, MAX_CHUNK, encoding, plain);
    else data.copy(plain); // uncompressed chunks are views into the request body, which is not ours to keep
    if (maskedCrc32c(plain) !== checksum) throw bad('chunk checksum mismatch');
    pos += size;
  }
  return out;
}
