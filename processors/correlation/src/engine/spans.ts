/**
 * Span bookkeeping: joins children to parents inside the window and, once the watermark has
 * passed a span's end, turns it into per-request features: exclusive (self) time of the
 * service that handled the request, client↔server gap per call-graph edge, outgoing remote
 * calls per request, own errors. Spans are plain records; no closures per span.
 */
export interface SpanRec {
  spanId: string;
  parentId: string;
  service: string;
  op: string;
  kind: number;
  start: number; // ms
  end: number; // ms
  err: boolean;
  childErr: boolean;
  /** Child intervals as a flat [start, end, start, end, …] list (ms). */
  children: number[];
  /** The callee service of the first child that runs in another service. */
  remoteChild?: string;
  /** Peer named by attributes when the callee is not traced (peer.service, db.system, server.address). */
  peer?: string;
  /** The span where this service's handling of the request started. */
  entry: SpanRec;
  excl: number;
  calls: number;
  /** Services this request's handling called (on the entry span only). */
  callees?: string[];
  eventId: string;
  finalized: boolean;
}

export function newSpanRec(init: Omit<SpanRec, 'entry' | 'excl' | 'calls' | 'children' | 'childErr' | 'finalized'>): SpanRec {
  const r = init as SpanRec;
  r.children = [];
  r.childErr = false;
  r.excl = 0;
  r.calls = 0;
  r.finalized = false;
  r.entry = r;
  return r;
}

/** Links a child to its parent; the call graph edge is reported through onEdge. */
export function link(child: SpanRec, parent: SpanRec): void {
  if (parent.finalized) return;
  parent.children.push(child.start, child.end);
  if (child.err) parent.childErr = true;
  if (child.service !== parent.service) {
    if (parent.remoteChild === undefined) parent.remoteChild = child.service;
    const entry = parent.entry;
    entry.calls++;
    if (!entry.callees) entry.callees = [child.service];
    else if (!entry.callees.includes(child.service)) entry.callees.push(child.service);
    child.entry = child;
  } else {
    child.entry = parent.entry;
  }
}

/** Length of [start,end] not covered by the children's intervals. */
export function selfTime(r: SpanRec): number {
  const c = r.children;
  const dur = r.end - r.start;
  if (!c.length) return dur;
  if (c.length === 2) return Math.max(0, dur - (Math.min(c[1]!, r.end) - Math.max(c[0]!, r.start)));
  const n = c.length / 2;
  const idx = new Array<number>(n);
  for (let i = 0; i < n; i++) idx[i] = i;
  idx.sort((a, b) => c[2 * a]! - c[2 * b]!);
  let covered = 0; let curS = -Infinity; let curE = -Infinity;
  for (const i of idx) {
    const s = Math.max(c[2 * i]!, r.start); const e = Math.min(c[2 * i + 1]!, r.end);
    if (e <= s) continue;
    if (s > curE) { if (curE > curS) covered += curE - curS; curS = s; curE = e; } else if (e > curE) curE = e;
  }
  if (curE > curS) covered += curE - curS;
  return Math.max(0, dur - covered);
}
