import * as zlib from 'node:zlib';
import { promisify } from 'node:util';
import { loadZstd, snappyFramed } from '@tapio/receiver-otlp';

/** configcompression's names. `""` and `none` send the body as it is. */
export const HTTP_COMPRESSIONS = ['', 'none', 'gzip', 'deflate', 'zlib', 'zstd', 'snappy', 'x-snappy-framed', 'lz4'] as const;
/** What configgrpc accepts: gRPC-Go has codecs for these only. */
export const GRPC_COMPRESSIONS = ['', 'none', 'gzip', 'zstd', 'snappy'] as const;
export type CompressionName = (typeof HTTP_COMPRESSIONS)[number];

export const LZ4_UNSUPPORTED = 'lz4 is not supported by Tapio: there is no maintained JavaScript/WASM encoder of the LZ4 frame format; use zstd (similar speed, better ratio), snappy or gzip';

/** A body encoder and the name that goes in Content-Encoding / grpc-encoding. */
export interface Compressor {
  encoding: string;
  compress(body: Buffer): Promise<Buffer>;
}

const gzip = promisify(zlib.gzip);
const deflate = promisify(zlib.deflate);

/** zlib options for configcompression's level: 0 / unset = default, -2 = Huffman only, else -1..9. */
function zlibOptions(level: number | undefined): zlib.ZlibOptions {
  if (!level) return {};
  if (level === -2) return { strategy: zlib.constants.Z_HUFFMAN_ONLY };
  return { level };
}

/** undefined for no compression. Async because zstd's WASM must be compiled first. */
export async function createCompressor(name: CompressionName | undefined, level?: number): Promise<Compressor | undefined> {
  switch (name) {
    case undefined: case '': case 'none':
      return undefined;
    case 'gzip': {
      const o = zlibOptions(level);
      return { encoding: 'gzip', compress: (b) => gzip(b, o) };
    }
    case 'deflate': case 'zlib': {
      // as confighttp: both are zlib-wrapped DEFLATE (RFC 1950, which is what HTTP's "deflate"
      // means), and the header carries the configured name
      const o = zlibOptions(level);
      return { encoding: name, compress: (b) => deflate(b, o) };
    }
    case 'zstd': {
      const z = await loadZstd();
      // libzstd's own default (3) when unset; it clamps out-of-range levels itself
      const lvl = level ? Math.min(22, level) : undefined;
      // runs on the event loop (WASM is synchronous): at level 3 a 1 MB export takes a few ms
      return { encoding: 'zstd', compress: async (b) => z.compress(b, lvl) };
    }
    case 'snappy': case 'x-snappy-framed':
      return { encoding: name, compress: async (b) => snappyFramed(b) };
    case 'lz4':
      throw new Error(LZ4_UNSUPPORTED);
  }
}

/** configcompression's ValidateParams: which levels each algorithm takes. */
export function levelProblem(name: CompressionName | undefined, level: number | undefined): string | undefined {
  if (!level || !name || name === 'none') return undefined; // as the Collector: only checked when compressing
  if (name === 'gzip' || name === 'deflate' || name === 'zlib') {
    return level === -1 || level === -2 || (level >= 1 && level <= 9) ? undefined : `level ${level} is not valid for ${name}: use -1 (default), -2 (Huffman only) or 1..9`;
  }
  if (name === 'zstd') return undefined;
  return `compression_params.level is not supported for compression "${name ?? ''}"`;
}
