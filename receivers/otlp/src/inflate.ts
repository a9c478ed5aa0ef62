import * as zlib from 'node:zlib';

/** A compressed body that could not be inflated: corrupt, or larger than allowed once inflated. */
export class InflateError extends Error {
  constructor(readonly tooLarge: boolean, message: string) { super(message); }
}

/**
 * Inflates a gzip or deflate body with a cap on the output, so a gzip bomb costs at most `limit`
 * bytes. Used by both fronts (HTTP Content-Encoding, gRPC grpc-encoding).
 */
export function inflateCapped(raw: Buffer, encoding: string, limit: number): Promise<Buffer> {
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
