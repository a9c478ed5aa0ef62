/**
 * Timestamps → unix nanoseconds (JS number, see core's Nanos). Layout types as in the
 * OpenTelemetry Collector's time_parser: `strptime`, `gotime`, `epoch`; plus `auto` (RFC 3339 /
 * ISO 8601, the common case for container runtimes and JSON loggers). Every layout compiles once
 * into one RegExp; parsing a value is one exec and Date.UTC.
 */
export type TimeParser = (value: unknown) => number;

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:[.,](\d{1,9}))?\d*\s*(Z|z|[+-]\d{2}(?::?\d{2})?)?$/;

/** RFC 3339 with up to nanosecond fractions (`2024-05-01T10:00:00.123456789Z`); NaN when it is not one. */
export function parseRfc3339Nanos(s: string): number {
  const m = RFC3339.exec(s);
  if (!m) return NaN;
  const ms = Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!);
  return ms * 1e6 + fractionNanos(m[7]) - offsetMinutes(m[8]) * 60e9;
}

function fractionNanos(frac: string | undefined): number {
  if (!frac) return 0;
  return Number(frac.length >= 9 ? frac.slice(0, 9) : frac + '000000000'.slice(frac.length));
}

function offsetMinutes(z: string | undefined): number {
  if (!z || z === 'Z' || z === 'z') return 0;
  const sign = z[0] === '-' ? -1 : 1;
  const digits = z.slice(1).replace(':', '');
  return sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2, 4) || '0'));
}

const EPOCH_SCALE: Record<string, number> = { s: 1e9, ms: 1e6, us: 1e3, ns: 1, 's.ms': 1e9, 's.us': 1e9, 's.ns': 1e9 };

function epochParser(layout: string): TimeParser {
  const scale = EPOCH_SCALE[layout];
  if (scale === undefined) throw new Error(`epoch layout must be one of ${Object.keys(EPOCH_SCALE).join(', ')}`);
  return (v) => {
    const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
    return n * scale;
  };
}

interface Directive { re: string; set?: (p: Parts, s: string) => void }
interface Parts { Y: number; M: number; D: number; h: number; m: number; s: number; ns: number; pm: number; off: number }

const DIRECTIVES: Record<string, Directive> = {
  Y: { re: '(\\d{4})', set: (p, s) => { p.Y = +s; } },
  y: { re: '(\\d{2})', set: (p, s) => { p.Y = 2000 + +s; } },
  m: { re: '(\\d{1,2})', set: (p, s) => { p.M = +s - 1; } },
  d: { re: '(\\d{1,2})', set: (p, s) => { p.D = +s; } },
  e: { re: '\\s?(\\d{1,2})', set: (p, s) => { p.D = +s; } },
  H: { re: '(\\d{1,2})', set: (p, s) => { p.h = +s; } },
  I: { re: '(\\d{1,2})', set: (p, s) => { p.h = +s % 12; } },
  p: { re: '([AaPp][Mm])', set: (p, s) => { p.pm = s[0] === 'P' || s[0] === 'p' ? 12 : 0; } },
  M: { re: '(\\d{2})', set: (p, s) => { p.m = +s; } },
  S: { re: '(\\d{2})', set: (p, s) => { p.s = +s; } },
  L: { re: '(\\d{3})', set: (p, s) => { p.ns = +s * 1e6; } },
  f: { re: '(\\d{1,9})\\d*', set: (p, s) => { p.ns = fractionNanos(s); } },
  s: { re: '(\\d+)', set: (p, s) => { const t = new Date(+s * 1000); p.Y = t.getUTCFullYear(); p.M = t.getUTCMonth(); p.D = t.getUTCDate(); p.h = t.getUTCHours(); p.m = t.getUTCMinutes(); p.s = t.getUTCSeconds(); } },
  z: { re: '(Z|[+-]\\d{2}:?\\d{2})', set: (p, s) => { p.off = offsetMinutes(s); } },
  Z: { re: '(UTC|GMT|Z|[A-Z]{3,4})', set: () => undefined },
  b: { re: '([A-Za-z]{3})', set: (p, s) => { p.M = MONTHS.indexOf(s.toLowerCase()); } },
  h: { re: '([A-Za-z]{3})', set: (p, s) => { p.M = MONTHS.indexOf(s.toLowerCase()); } },
  B: { re: '([A-Za-z]+)', set: (p, s) => { p.M = MONTHS.indexOf(s.slice(0, 3).toLowerCase()); } },
  a: { re: '[A-Za-z]{3}' },
  A: { re: '[A-Za-z]+' },
  '%': { re: '%' },
};
const EXPANSIONS: Record<string, string> = { T: '%H:%M:%S', F: '%Y-%m-%d', D: '%m/%d/%y', R: '%H:%M' };

function escapeRe(s: string): string { return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'); }

export function strptimeParser(layout: string): TimeParser {
  for (const [k, v] of Object.entries(EXPANSIONS)) layout = layout.split('%' + k).join(v);
  let re = '^';
  const setters: ((p: Parts, s: string) => void)[] = [];
  for (let i = 0; i < layout.length; i++) {
    const c = layout[i]!;
    if (c !== '%') { re += c === ' ' ? '\\s+' : escapeRe(c); continue; }
    const d = layout[++i];
    const dir = d === undefined ? undefined : DIRECTIVES[d];
    if (!dir) throw new Error(`unsupported strptime directive %${d ?? ''} in "${layout}"`);
    re += dir.re;
    if (dir.set) setters.push(dir.set);
  }
  const rx = new RegExp(re + '$');
  return (v) => {
    if (typeof v !== 'string') return NaN;
    const m = rx.exec(v.trim());
    if (!m) return NaN;
    const p: Parts = { Y: new Date().getUTCFullYear(), M: 0, D: 1, h: 0, m: 0, s: 0, ns: 0, pm: 0, off: 0 };
    for (let i = 0; i < setters.length; i++) setters[i]!(p, m[i + 1]!);
    if (p.M < 0) return NaN;
    return Date.UTC(p.Y, p.M, p.D, p.h + p.pm, p.m, p.s) * 1e6 + p.ns - p.off * 60e9;
  };
}

// Go reference-time tokens, longest first, → strptime.
const GO_TOKENS: [string, string][] = [
  ['January', '%B'], ['Monday', '%A'], ['Z07:00', '%z'], ['-07:00', '%z'], ['Z0700', '%z'], ['-0700', '%z'],
  ['2006', '%Y'], ['Jan', '%b'], ['Mon', '%a'], ['MST', '%Z'], ['.000000000', '.%f'], ['.999999999', '.%f'],
  ['.000000', '.%f'], ['.999999', '.%f'], ['.000', '.%f'], ['.999', '.%f'], ['_2', '%e'], ['01', '%m'],
  ['02', '%d'], ['15', '%H'], ['03', '%I'], ['04', '%M'], ['05', '%S'], ['06', '%y'], ['PM', '%p'],
];

export function gotimeToStrptime(layout: string): string {
  let out = '';
  outer: for (let i = 0; i < layout.length;) {
    for (const [tok, rep] of GO_TOKENS) {
      if (layout.startsWith(tok, i)) { out += rep; i += tok.length; continue outer; }
    }
    out += layout[i] === '%' ? '%%' : layout[i];
    i++;
  }
  return out;
}

function autoParser(): TimeParser {
  return (v) => {
    if (typeof v === 'number') return v > 1e17 ? v : v > 1e14 ? v * 1e3 : v > 1e11 ? v * 1e6 : v * 1e9;
    if (typeof v !== 'string') return NaN;
    const n = parseRfc3339Nanos(v);
    if (!Number.isNaN(n)) return n;
    const ms = Date.parse(v);
    return Number.isNaN(ms) ? NaN : ms * 1e6;
  };
}

export function compileTimeParser(layoutType: string | undefined, layout: string | undefined): TimeParser {
  switch (layoutType ?? (layout ? 'strptime' : 'auto')) {
    case 'auto': return autoParser();
    case 'epoch': return epochParser(layout ?? 's');
    case 'strptime': if (!layout) throw new Error('strptime needs a layout'); return strptimeParser(layout);
    case 'gotime': if (!layout) throw new Error('gotime needs a layout'); return strptimeParser(gotimeToStrptime(layout));
    default: throw new Error(`layout_type must be strptime, gotime, epoch or auto, not "${layoutType}"`);
  }
}
