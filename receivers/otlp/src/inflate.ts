import * as zlib from 'node:zlib';
import { InflateError } from './compression/error';
import { inflateOffload } from './compression/offload';

export { InflateError };

/**
 * Decompresses a body with a cap on the output, so a compression bomb costs at most `limit`
 * bytes. Used by both fronts (HTTP Content-Encoding, gRPC grpc-encoding). Encodings:
 * - gzip; deflate and zlib (both RFC 1950, as confighttp): zlib's maxOutputLength;
 * - zstd: the output buffer is sized from the frames' declared sizes and block headers, never
 *   over `limit` (compression/zstd.ts);
 * - snappy: as confighttp, the framing format when the body starts with its stream identifier,
 *   else the block format (its declared length is checked before anything is allocated);
 * - x-snappy-framed: the framing format only (also gRPC's `snappy`).
 * Corrupt input and too large output both reject with InflateError; a worker that died with an
 * owned body, with DecodeWorkerError (retryable). None of them runs on the
 * event loop except small zstd / snappy bodies (compression/offload.ts).
 */
/** The encodings inflateCapped decodes (besides identity). Not lz4: no maintained JavaScript/WASM decoder of its frame format. */
export const INFLATABLE: ReadonlySet<string> = new Set(['gzip', 'zstd', 'zlib', 'snappy', 'deflate', 'x-snappy-framed']); // in confighttp's order

/** `owned`: the caller gives `raw` up, so its bytes may be moved to the worker without a copy (raw is then detached). */
export async function inflateCapped(raw: Buffer, encoding: string, limit: number, owned = false): Promise<Buffer> {
  switch (encoding) {
    case 'gzip': case 'deflate': case 'zlib':
      return zlibCapped(raw, encoding, limit);
    case 'zstd': case 'snappy': case 'x-snappy-framed':
      return inflateOffload.decode(raw, encoding, limit, owned);
    default:
      throw new InflateError(false, `unsupported encoding "${encoding}"`);
  }
}

function zlibCapped(raw: Buffer, encoding: string, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const done = (err: Error | null, out: Buffer): void => {
      if (!err) { resolve(out); return; }
      if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE' || err instanceof RangeError) reject(new InflateError(true, `decompressed body exceeds the limit of ${limit} bytes`));
      else reject(new InflateError(false, `cannot decompress ${encoding} body: ${err.message}`));
    };
    if (encoding === 'gzip') zlib.gunzip(raw, { maxOutputLength: limit }, done);
    else zlib.inflate(raw, { maxOutputLength: limit }, done); // deflate and zlib: RFC 1950
  });
}
