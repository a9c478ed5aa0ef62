import { createEvent, type UnifiedEvent } from '@tapio/core';

/** Deterministic pseudo-random numbers (tests must not flake). */
export function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => { s = (Math.imul(s, 1664525) + 1013904223) >>> 0; return s / 2 ** 32; };
}

const hex = (n: number, len: number): string => n.toString(16).padStart(len, '0').slice(-len);

export interface Fault {
  /** Service whose own work slows down ('self') or whose network gets slower ('network'). */
  service: 'checkout' | 'payment' | 'catalog' | 'frontend';
  mode: 'self' | 'network';
  addMs: number;
  /** Event time (ms) the fault starts and (optionally) ends. */
  fromMs: number;
  toMs?: number;
}

/**
 * A small shop: frontend → {catalog, checkout}; checkout → payment. Returns span events for
 * `requests` requests starting at t0Ms, one every `everyMs`, with an optional fault.
 */
export function shopTraffic(t0Ms: number, requests: number, everyMs: number, fault?: Fault, seed = 1): UnifiedEvent[] {
  const rand = rng(seed);
  const out: UnifiedEvent[] = [];
  let spanSeq = seed * 1_000_000;
  const active = (svc: string, mode: Fault['mode'], t: number): number =>
    fault && fault.service === svc && fault.mode === mode && t >= fault.fromMs && (fault.toMs === undefined || t < fault.toMs) ? fault.addMs : 0;
  const span = (traceId: string, parent: string, svc: string, name: string, kind: number, start: number, end: number): string => {
    const id = hex(++spanSeq, 16);
    out.push(createEvent({
      kind: 'span', source: 'test', time: start * 1e6,
      trace: { traceId, spanId: id, parentSpanId: parent || undefined },
      resource: { 'service.name': svc, 'k8s.pod.name': `${svc}-5d9c7b8f6-abcde`, 'k8s.namespace.name': 'shop' },
      span: { name, kind, startTimeUnixNano: String(Math.round(start * 1e6)), endTimeUnixNano: String(Math.round(end * 1e6)), durationMs: end - start },
    }));
    return id;
  };
  /** A remote call from `caller` to `callee` starting at t; returns its end. */
  const call = (traceId: string, parent: string, caller: string, callee: string, op: string, t: number, work: (p: string, t: number) => number): number => {
    const net = 0.3 + rand() * 0.2 + active(callee, 'network', t) / 2 + active(caller, 'network', t) / 2;
    // Reserve the client span id first so the server span can point at it.
    const clientIdx = out.length;
    const clientId = span(traceId, parent, caller, op, 3, t, t); // end fixed below
    const serverStart = t + net;
    const serverEnd = work(span(traceId, clientId, callee, op, 2, serverStart, serverStart), serverStart);
    const serverEv = out[clientIdx + 1]!;
    serverEv.span!.endTimeUnixNano = String(Math.round(serverEnd * 1e6));
    serverEv.span!.durationMs = serverEnd - serverStart;
    const end = serverEnd + net;
    const clientEv = out[clientIdx]!;
    clientEv.span!.endTimeUnixNano = String(Math.round(end * 1e6));
    clientEv.span!.durationMs = end - t;
    return end;
  };
  const busy = (svc: string, base: number, t: number): number => base * (0.8 + rand() * 0.4) + active(svc, 'self', t);
  for (let i = 0; i < requests; i++) {
    const t = t0Ms + i * everyMs;
    const traceId = hex(seed, 8) + hex(i, 24);
    const rootIdx = out.length;
    span(traceId, '', 'frontend', 'GET /checkout', 2, t, t);
    const rootId = out[rootIdx]!.trace!.spanId!;
    let cur = t + busy('frontend', 1, t);
    cur = call(traceId, rootId, 'frontend', 'catalog', 'GetProduct', cur, (_p, s) => s + busy('catalog', 2, s));
    cur = call(traceId, rootId, 'frontend', 'checkout', 'PlaceOrder', cur, (p, s) => {
      let c = s + busy('checkout', 3, s);
      c = call(traceId, p, 'checkout', 'payment', 'Charge', c, (_q, u) => u + busy('payment', 4, u));
      return c + busy('checkout', 1, c);
    });
    const end = cur + busy('frontend', 0.5, cur);
    out[rootIdx]!.span!.endTimeUnixNano = String(Math.round(end * 1e6));
    out[rootIdx]!.span!.durationMs = end - t;
  }
  return out.sort((a, b) => a.time - b.time);
}

export function batches<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
