'use strict';
// What decoded spans cost while they wait (in batches, queues, exports in flight): heap bytes per
// live OtlpSpanEvent, and the young-generation GC work when a backlog of them is alive. In one
// process, no network, so the figures are steadier than the end-to-end OTLP bench's.
// Usage: node --expose-gc test/bench/span-residency.bench.js   (needs `npm run build` first)
const path = require('node:path');
const { PerformanceObserver, constants } = require('node:perf_hooks');
const otlp = require(path.join(__dirname, '../../receivers/otlp/dist/src/index.js'));

const SPANS = 500;
const RUN_MS = 5000;

/** A 500-span request like the load generator's: 5 attributes, status, one resource and scope. */
function request() {
  const spans = [];
  for (let i = 0; i < SPANS; i++) {
    spans.push({
      traceId: '5b8efff798038103d269b633813fc60c', spanId: (0xeee19b7ec3c1b000 + i).toString(16).padStart(16, '0').slice(-16), parentSpanId: i % 4 ? 'eee19b7ec3c1b173' : '',
      name: 'GET /api/v1/items/{id}', kind: 2, startTimeUnixNano: String(1700000000000000000n + BigInt(i)), endTimeUnixNano: '1700000000001234567',
      attributes: [
        { key: 'http.request.method', value: { stringValue: 'GET' } }, { key: 'http.route', value: { stringValue: '/api/v1/items/{id}' } },
        { key: 'http.response.status_code', value: { intValue: 200 } }, { key: 'url.path', value: { stringValue: `/api/v1/items/${i}` } },
        { key: 'user_agent.original', value: { stringValue: 'Mozilla/5.0 bench' } },
      ],
      status: { code: i % 50 ? 0 : 2 },
    });
  }
  return otlp.jsonToProto('ExportTraceServiceRequest', {
    resourceSpans: [{ resource: { attributes: [{ key: 'service.name', value: { stringValue: 'items' } }] }, scopeSpans: [{ scope: { name: 'http', version: '1' }, spans }] }],
  });
}

/** Heap bytes one live event costs (its request buffer is outside the heap and not counted). */
function heapPerEvent(buf) {
  const gc = global.gc;
  if (!gc) return NaN;
  const keep = [];
  gc(); gc();
  const before = process.memoryUsage().heapUsed;
  for (let i = 0; i < 200; i++) keep.push(otlp.decodeTraces(buf, 'otlp', 1).events);
  gc(); gc();
  const after = process.memoryUsage().heapUsed;
  return keep.length ? (after - before) / (200 * SPANS) : NaN;
}

/** Decodes requests back to back while the last `live` requests' events stay alive. */
function residency(buf, live) {
  return new Promise((resolve) => {
    let minorMs = 0, scavenges = 0, longest = 0;
    const obs = new PerformanceObserver((l) => {
      for (const e of l.getEntries()) {
        if (e.detail?.kind === constants.NODE_PERFORMANCE_GC_MAJOR) continue;
        minorMs += e.duration; scavenges++; if (e.duration > longest) longest = e.duration;
      }
    });
    obs.observe({ entryTypes: ['gc'] });
    const ring = new Array(live);
    let k = 0, requests = 0;
    const t0 = performance.now();
    const step = () => {
      for (let i = 0; i < 100; i++) { ring[k++ % live] = otlp.decodeTraces(Buffer.from(buf), 'otlp', 1).events; requests++; }
      if (performance.now() - t0 < RUN_MS) { setImmediate(step); return; }
      // GC entries arrive asynchronously: let the last ones in before reading the totals
      setTimeout(() => {
        obs.disconnect();
        const s = (performance.now() - t0) / 1000;
        resolve({ live_events: live * SPANS, spans_per_s: Math.round((requests * SPANS) / s), scavenges_per_s: +(scavenges / s).toFixed(1), scavenge_ms_per_s: +(minorMs / s).toFixed(1), longest_scavenge_ms: +longest.toFixed(1) });
      }, 50);
    };
    step();
  });
}

async function main() {
  const buf = request();
  const perEvent = heapPerEvent(buf);
  process.stdout.write(`heap per live span event: ${perEvent.toFixed(0)} bytes (request buffer not counted)\n`);
  const rows = [];
  for (const live of [20, 60]) {
    const r = await residency(buf, live);
    rows.push(r);
    process.stdout.write(`${String(r.live_events).padStart(6)} events alive: ${r.spans_per_s} spans/s decoded, ${r.scavenges_per_s} scavenges/s, ${r.scavenge_ms_per_s} ms of scavenge per s, longest ${r.longest_scavenge_ms} ms\n`);
  }
  process.stdout.write(`BENCH ${JSON.stringify({ heap_bytes_per_live_span: Math.round(perEvent), ...Object.fromEntries(rows.flatMap((r) => Object.entries(r).filter(([k]) => k !== 'live_events').map(([k, v]) => [`${k}_${r.live_events}_alive`, v]))) })}\n`);
}

main().catch((err) => { process.stderr.write(`${err.stack}\n`); process.exit(1); });
