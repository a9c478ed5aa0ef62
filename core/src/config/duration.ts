const UNIT_MS: Record<string, number> = { ns: 1e-6, us: 1e-3, 'µs': 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const DURATION = /^(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)$/;

/** `200ms`, `5s`, `1.5m`, `1h` (Go-style, as in OpenTelemetry Collector configs) → milliseconds. */
export function parseDuration(value: string | number): number {
  if (typeof value === 'number') return value;
  let total = 0;
  let rest = value.trim();
  if (!rest) throw new Error(`empty duration`);
  // Compound durations like 1m30s.
  while (rest) {
    const m = /^(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/.exec(rest);
    if (!m) throw new Error(`"${value}" is not a duration like 200ms, 5s or 1m`);
    total += Number(m[1]) * UNIT_MS[m[2]!]!;
    rest = rest.slice(m[0].length);
  }
  return total;
}

export function isDuration(value: string): boolean {
  if (DURATION.test(value)) return true;
  try { parseDuration(value); return true; } catch { return false; }
}

const SIZE_UNITS: Record<string, number> = { b: 1, kb: 1e3, mb: 1e6, gb: 1e9, kib: 1024, mib: 1024 ** 2, gib: 1024 ** 3 };

/** `64MiB`, `10mb`, `1024` → bytes. */
export function parseByteSize(value: string | number): number {
  if (typeof value === 'number') return value;
  const m = /^(\d+(?:\.\d+)?)\s*([a-zA-Z]*)$/.exec(value.trim());
  const unit = (m?.[2] ?? '').toLowerCase() || 'b';
  if (!m || SIZE_UNITS[unit] === undefined) throw new Error(`"${value}" is not a size like 512KiB or 64MiB`);
  return Math.round(Number(m[1]) * SIZE_UNITS[unit]!);
}

export function isByteSize(value: string): boolean {
  try { parseByteSize(value); return true; } catch { return false; }
}
