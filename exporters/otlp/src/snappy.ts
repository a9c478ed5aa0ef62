import { compress as snappyBlock } from 'snappyjs';

/**
 * Snappy's framing format (github.com/google/snappy framing_format.txt), which is what the
 * Collector sends for `snappy` over HTTP (confighttp's default before the framedSnappy gate) and
 * over gRPC (go-grpc-compression's snappy codec), and its receivers read. The block compressor
 * is snappyjs; the frame around it is small enough to write here.
 */
const STREAM_IDENTIFIER = Buffer.from([0xff, 0x06, 0x00, 0x00, 0x73, 0x4e, 0x61, 0x50, 0x70, 0x59]); // "sNaPpY"
const CHUNK_COMPRESSED = 0x00;
const CHUNK_UNCOMPRESSED = 0x01;
/** The format's limit on uncompressed bytes per chunk. */
const MAX_CHUNK = 65536;

export function snappyFramed(data: Uint8Array): Buffer {
  const parts: Buffer[] = [STREAM_IDENTIFIER];
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

/** CRC-32C (Castagnoli), reflected polynomial 0x82F63B78. */
const TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

export function crc32c(data: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < data.length; i++) c = TABLE[(c ^ data[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** The framing format stores checksums rotated and offset, so a CRC of CRCs is not a CRC. */
function maskedCrc32c(data: Uint8Array): number {
  const c = crc32c(data);
  return (((c >>> 15) | (c << 17)) + 0xa282ead8) >>> 0;
}
