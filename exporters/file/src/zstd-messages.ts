import { jsonLines, lengthPrefixed, otlpMessages, toBytes, type LineEncoder, type MessageEncoder } from './format';
import type { FileExporterConfig } from './config';

/** The part of @tapio/receiver-otlp's zstd codec this exporter uses. */
interface ZstdCodec { compress(data: Uint8Array): Buffer }

/**
 * `compression: zstd`, as the Collector's file exporter (without its alpha nativeCompression
 * gate): every message is compressed on its own into one zstd frame (libzstd's default level,
 * as klauspost's default encoder) and written after its compressed length as a 4-byte
 * big-endian integer, for `proto` and also for the json formats (no line ends: the length
 * frames them). The Collector's messages are its export requests, so `otlp_json` and `proto`
 * write one frame per signal and batch; Tapio's own `json` writes one per batch (its lines).
 * The zstd WASM must be compiled first: `ready` resolves once it is, before anything is encoded.
 */
export function zstdMessages(format: FileExporterConfig['format'], load: () => unknown = loadOtlpPackage): { encode: LineEncoder; ready: Promise<void> } {
  const messages: MessageEncoder = format === 'json' ? (events) => [toBytes(jsonLines(events))] : otlpMessages(format, load);
  let zstd: ZstdCodec | undefined;
  const ready = loadZstd(load).then((z) => { zstd = z; });
  ready.catch(() => undefined); // reported by start(), which awaits it
  return {
    ready,
    encode: (events) => {
      if (!zstd) throw new Error('file exporter: zstd is not loaded yet');
      return lengthPrefixed(messages(events).map((m) => zstd!.compress(m)));
    },
  };
}

async function loadZstd(load: () => unknown): Promise<ZstdCodec> {
  let pkg: { loadZstd?: () => Promise<ZstdCodec> };
  try {
    pkg = load() as typeof pkg;
  } catch (err) {
    throw new Error(`compression zstd needs the package @tapio/receiver-otlp (its zstd codec): ${(err as Error).message}`);
  }
  if (typeof pkg.loadZstd !== 'function') throw new Error('compression zstd: @tapio/receiver-otlp does not export loadZstd');
  return pkg.loadZstd();
}

function loadOtlpPackage(): unknown {
  return require('@tapio/receiver-otlp');
}
