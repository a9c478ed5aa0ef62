import { InflateError } from './error';
import { decodeSnappyBlock } from './snappy-block';
import { isSnappyFramed, unframeSnappy } from './snappy-framed';
import { loadZstd, type ZstdCodec } from './zstd';

/** zstd, snappy (framed or block) or x-snappy-framed, capped at `limit`; throws InflateError. */
export function decodeSync(raw: Buffer, encoding: string, limit: number, zstd: ZstdCodec): Buffer {
  switch (encoding) {
    case 'zstd': return zstd.decompress(raw, limit);
    case 'snappy': return isSnappyFramed(raw) ? unframeSnappy(raw, limit, 'snappy') : decodeSnappyBlock(raw, limit);
    case 'x-snappy-framed': return unframeSnappy(raw, limit);
    default: throw new InflateError(false, `unsupported encoding "${encoding}"`);
  }
}

/** decodeSync on this thread, loading the zstd codec first if needed. */
export async function decodeHere(raw: Buffer, encoding: string, limit: number): Promise<Buffer> {
  return decodeSync(raw, encoding, limit, await loadZstd());
}
