import * as http2 from 'node:http2';
import { maskedCrc32c, snappyBlock } from '../src/index';
import { TRACES_PATH } from './helpers';

/**
 * Hand-built compressed bodies for the decoders' safety tests: bombs that are small on the wire
 * and huge once decompressed, built without ever holding the huge output in the test process.
 */

const ZSTD_MAGIC = Buffer.from([0x28, 0xb5, 0x2f, 0xfd]);
const BLOCK = 128 * 1024;

/**
 * A valid zstd frame of `total` bytes of 'A' made of RLE blocks (4 bytes each per 128 KiB): 1 GiB
 * is 32 KiB. `declare`: with its content size in the header (as ZSTD_compress writes), else
 * without (as streaming encoders such as Go's write large frames).
 */
export function zstdRleBomb(total: number, declare: boolean): Buffer {
  const parts: Buffer[] = [ZSTD_MAGIC];
  // frame header descriptor: FCS field 8 bytes (flag 3) or none; not single-segment, so a window descriptor follows
  parts.push(Buffer.from([declare ? 0xc0 : 0x00, (17 - 10) << 3])); // window 128 KiB
  if (declare) { const fcs = Buffer.alloc(8); fcs.writeBigUInt64LE(BigInt(total)); parts.push(fcs); }
  for (let left = total; left > 0; left -= BLOCK) {
    const size = Math.min(BLOCK, left);
    const last = left <= BLOCK ? 1 : 0;
    const h = (size << 3) | (1 << 1) | last; // type 1: RLE
    parts.push(Buffer.from([h & 0xff, (h >>> 8) & 0xff, (h >>> 16) & 0xff, 0x41]));
  }
  return Buffer.concat(parts);
}

/**
 * The same zstd frame without its Frame_Content_Size (no dictionary assumed), as Go's streaming
 * encoder writes large bodies: the receiver must then size the output from the block headers.
 */
export function zstdWithoutContentSize(frame: Buffer): Buffer {
  const fhd = frame[4]!;
  if (fhd & 3) throw new Error('frames with a dictionary id are not handled here');
  const fcsFlag = fhd >>> 6;
  const single = (fhd >>> 5) & 1;
  const fcsBytes = [single ? 1 : 0, 2, 4, 8][fcsFlag]!;
  const headerEnd = 5 + (single ? 0 : 1) + fcsBytes;
  // a single-segment frame has no window descriptor: give it one as large as the content (at most 128 MiB)
  const content = single ? frame.readUIntLE(5, fcsBytes) + (fcsBytes === 2 ? 256 : 0) : 0;
  const wd = single ? (Math.max(10, Math.ceil(Math.log2(Math.max(content, 1)))) - 10) << 3 : frame[5]!;
  return Buffer.concat([ZSTD_MAGIC, Buffer.from([fhd & 0x04, wd]), frame.subarray(headerEnd)]);
}

/** A snappy block that declares `declared` bytes (a varint) but holds only a few. */
export function snappyBlockDeclaring(declared: number): Buffer {
  const varint: number[] = [];
  for (let v = declared; ; v = Math.floor(v / 128)) {
    if (v < 128) { varint.push(v); break; }
    varint.push((v % 128) | 0x80);
  }
  // one literal byte, then one copy of 64 bytes at offset 1
  return Buffer.from([...varint, 0x00, 0x41, (63 << 2) | 2, 0x01, 0x00]);
}

/** Snappy's framing format holding `chunks` chunks of 64 KiB of zeros (~3 KiB each on the wire). */
export function snappyFramedBomb(chunks: number): Buffer {
  const zeros = Buffer.alloc(65536);
  const block = snappyBlock(zeros);
  const header = Buffer.alloc(8);
  header[0] = 0x00; // compressed chunk
  header.writeUIntLE(block.length + 4, 1, 3);
  header.writeUInt32LE(maskedCrc32c(zeros), 4);
  const chunk = Buffer.concat([header, block]);
  const out = Buffer.allocUnsafe(10 + chunk.length * chunks);
  Buffer.from([0xff, 0x06, 0x00, 0x00, 0x73, 0x4e, 0x61, 0x50, 0x70, 0x59]).copy(out, 0);
  for (let i = 0; i < chunks; i++) chunk.copy(out, 10 + i * chunk.length);
  return out;
}

/** One gRPC call over node:http2 with one message marked compressed and the given grpc-encoding. */
export function grpcCompressedCall(port: number, message: Buffer, encoding: string, path = TRACES_PATH): Promise<{ grpcStatus?: string; grpcMessage?: string }> {
  return new Promise((resolve, reject) => {
    const session = http2.connect(`http://127.0.0.1:${port}`);
    session.on('error', reject);
    const req = session.request({ ':method': 'POST', ':path': path, 'content-type': 'application/grpc', te: 'trailers', 'grpc-encoding': encoding });
    let grpcStatus: string | undefined, grpcMessage: string | undefined;
    req.on('response', (h) => { grpcStatus = h['grpc-status'] as string | undefined; grpcMessage = h['grpc-message'] as string | undefined; });
    req.on('trailers', (t) => { grpcStatus = t['grpc-status'] as string; grpcMessage = t['grpc-message'] as string | undefined; });
    req.on('data', () => {});
    req.on('close', () => { session.close(); resolve({ grpcStatus, grpcMessage: grpcMessage && decodeURIComponent(grpcMessage) }); });
    req.on('error', () => {});
    const prefix = Buffer.alloc(5);
    prefix[0] = 1;
    prefix.writeUInt32BE(message.length, 1);
    req.write(prefix);
    req.end(message);
  });
}
