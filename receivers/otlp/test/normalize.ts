/**
 * Brings two OTLP/JSON documents to one comparable form: proto3 defaults (0, '', false, empty
 * lists and messages) are dropped, because absent and default are the same on the wire, and
 * integers are compared as decimal text, because OTLP/JSON allows 64-bit integers as either.
 */
export function normalize(x: unknown): unknown {
  if (x === null || x === undefined) return undefined;
  if (Array.isArray(x)) {
    if (!x.length) return undefined;
    return x.map((v) => normalize(v) ?? null);
  }
  if (typeof x === 'object') {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(x as Record<string, unknown>).sort()) {
      const v = normalize((x as Record<string, unknown>)[k]);
      if (v !== undefined) out[k] = v;
    }
    return Object.keys(out).length ? out : undefined;
  }
  if (typeof x === 'number') return Number.isInteger(x) ? (x === 0 ? undefined : String(x)) : x;
  if (typeof x === 'string') return x === '' || x === '0' ? undefined : x;
  if (typeof x === 'boolean') return x || undefined;
  return x;
}

/** OTLP/JSON text from an SDK serializer. */
export function parseJson(bytes: Uint8Array): unknown {
  return JSON.parse(Buffer.from(bytes).toString('utf8'));
}
