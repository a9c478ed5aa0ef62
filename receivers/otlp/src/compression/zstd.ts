import { corrupt, InflateError, tooLarge } from './error';
import { zstdOutputBound } from './zstd-frames';

/**
 * zstd through @hpcc-js/wasm-zstd (libzstd compiled to WASM). Its public decompress() picks the
 * output size itself (a frame's declared size, else max(20 x input, 1 MiB): too small for OTLP
 * that compresses better than 20:1, and a declared size is allocated unchecked) and copies
 * results out through a spread JS array (`[...heapView]`, ~10x the bytes in JS heap). So we
 * call libzstd's one-shot functions (ZSTD_compress / ZSTD_decompress, bound by the package's
 * embind class) with buffers we size, and copy out with one memcpy. The package keeps those in
 * private fields: checked when loaded, so a release that renames them fails loudly at start.
 */
interface HeapBlock { ptr: number; size: number }
interface WasmHeap {
  malloc(size: number): HeapBlock;
  free(block: HeapBlock): void;
  dataToHeap(data: Uint8Array): HeapBlock;
  heapView(block: HeapBlock): Uint8Array;
}
interface LibZstd {
  compress(dst: number, dstCapacity: number, src: number, srcSize: number, level: number): number;
  decompress(dst: number, dstCapacity: number, src: number, srcSize: number): number;
  compressBound(size: number): number;
  isError(code: number): number;
  getErrorName(code: number): string;
  defaultCLevel(): number;
}

export interface ZstdCodec {
  /** One frame with its content size declared, as ZSTD_compress writes. */
  compress(data: Uint8Array, level?: number): Buffer;
  /** Throws InflateError: corrupt, or the output would pass `limit` (nothing past `limit` is ever written). */
  decompress(raw: Buffer, limit: number): Buffer;
}

let loading: Promise<ZstdCodec> | undefined;

/** The zstd codec, its WASM compiled once per process on first use. */
export function loadZstd(): Promise<ZstdCodec> {
  // an ES module: Node16 module output keeps this import() as a real dynamic import
  loading ??= import('@hpcc-js/wasm-zstd').then((m) => m.Zstd.load()).then(wrap);
  return loading;
}

function wrap(instance: unknown): ZstdCodec {
  const inner = instance as { _mainModule?: Partial<WasmHeap>; _zstdClass?: Partial<LibZstd> };
  const heap = inner._mainModule;
  const lib = inner._zstdClass;
  if (!heap?.malloc || !heap.free || !heap.dataToHeap || !heap.heapView || !lib?.compress || !lib.decompress || !lib.compressBound || !lib.isError || !lib.getErrorName) {
    throw new Error('@hpcc-js/wasm-zstd changed its internals (_mainModule, _zstdClass); use the version in package.json');
  }
  return new WasmZstd(heap as WasmHeap, lib as LibZstd);
}

/** Synchronous (WASM), so calls on one thread never interleave on its heap; each thread loads its own instance. */
class WasmZstd implements ZstdCodec {
  constructor(private readonly heap: WasmHeap, private readonly lib: LibZstd) {}

  compress(data: Uint8Array, level?: number): Buffer {
    const src = this.heap.dataToHeap(data);
    const capacity = this.lib.compressBound(data.length);
    const dst = this.heap.malloc(capacity);
    try {
      const n = this.lib.compress(dst.ptr, capacity, src.ptr, data.length, level ?? this.lib.defaultCLevel());
      if (this.lib.isError(n)) throw new Error(`zstd compression failed: ${this.lib.getErrorName(n)}`);
      return this.copyOut(dst, n);
    } finally {
      this.heap.free(dst);
      this.heap.free(src);
    }
  }

  decompress(raw: Buffer, limit: number): Buffer {
    const { bound, exact } = zstdOutputBound(raw);
    // declared sizes are checked by libzstd against the output, so a frame that declares more than the limit can be refused unread
    if (exact && bound > limit) throw tooLarge(limit);
    const capacity = Math.min(bound, limit);
    const src = this.heap.dataToHeap(raw);
    const dst = this.heap.malloc(Math.max(1, capacity));
    try {
      if (!src.ptr || !dst.ptr) throw new InflateError(true, `no memory to decompress ${capacity} bytes of zstd`);
      const n = this.lib.decompress(dst.ptr, capacity, src.ptr, raw.length);
      if (this.lib.isError(n)) {
        const name = this.lib.getErrorName(n);
        // libzstd stops at the buffer's end: with the buffer at the limit, "too small" means over the limit
        if (/too small/i.test(name) && capacity === limit) throw tooLarge(limit);
        throw corrupt('zstd', name);
      }
      return this.copyOut(dst, n);
    } finally {
      this.heap.free(dst);
      this.heap.free(src);
    }
  }

  /** One copy out of the WASM heap (views must be taken after the last malloc: growth replaces the heap). */
  private copyOut(block: HeapBlock, size: number): Buffer {
    return Buffer.from(this.heap.heapView({ ptr: block.ptr, size }));
  }
}
