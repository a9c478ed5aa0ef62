import * as assert from 'node:assert/strict';
import { inspect } from 'node:util';
import {
  JsonLogsSerializer, JsonMetricsSerializer, JsonTraceSerializer, ProtobufLogsSerializer, ProtobufMetricsSerializer, ProtobufTraceSerializer,
} from '@opentelemetry/otlp-transformer';
import { AggregationTemporality } from '@opentelemetry/sdk-metrics';
import { cloneEvents, decodeBatch, encodeBatch, newEventId, RAW_WIRE_BYTES, type WithRawWireBytes } from '@tapio/core';
import {
  decodeLogs, decodeMetrics, decodeTraces, encodeLogs, encodeMetrics, encodeTraces, jsonToProto, MalformedError, OtlpSpanEvent, protoToJson,
} from '../src/index';
import { sdkLogs, sdkMetrics, sdkSpans } from './fixtures';
import { normalize, parseJson } from './normalize';

const NOW = 1_700_000_100e9;

function varint(n: number): Buffer {
  const out: number[] = [];
  while (n > 0x7f) { out.push((n & 0x7f) | 0x80); n >>>= 7; }
  out.push(n);
  return Buffer.from(out);
}

/** An AnyValue body of `depth` arrays, each holding the next: built as prefixes, outermost first. */
function nestedArrays(depth: number): Buffer {
  const prefixes: Buffer[] = [];
  let size = 0;
  for (let i = 0; i < depth; i++) {
    // AnyValue{array_value(5): ArrayValue{values(1): <inner AnyValue of `size` bytes>}}
    const item = Buffer.concat([Buffer.from([0x0a]), varint(size)]);
    const head = Buffer.concat([Buffer.from([0x2a]), varint(item.length + size), item]);
    prefixes.push(head);
    size += head.length;
  }
  return Buffer.concat(prefixes.reverse());
}

describe('OTLP codec', () => {
  describe('traces: SDK protobuf → UnifiedEvents → protobuf is lossless', () => {
    const spans = sdkSpans();
    const pb = Buffer.from(ProtobufTraceSerializer.serializeRequest(spans)!);
    const reference = normalize(parseJson(JsonTraceSerializer.serializeRequest(spans)!));

    it('decodes one span event per span, following the event-model conventions', () => {
      const { events, rejected } = decodeTraces(pb, 'otlp', NOW);
      assert.equal(rejected, 0);
      assert.equal(events.length, spans.length);
      const root = events.find((e) => e.span!.name === 'POST /checkout')!;
      assert.equal(root.kind, 'span');
      assert.equal(root.severity, 'error');
      assert.equal(root.span!.startTimeUnixNano, '1700000000123456789');
      assert.equal(root.span!.durationMs, 400);
      assert.equal(root.resource['service.name'], 'checkout');
      assert.deepEqual(root.resource['k8s.pod.labels'], ['app=checkout', 'tier=web']);
      assert.equal(root.attributes['http.response.status_code'], 500);
      assert.match(root.trace!.traceId, /^[0-9a-f]{32}$/);
      const child = events.find((e) => e.span!.name === 'SELECT orders')!;
      assert.equal(child.trace!.parentSpanId, root.trace!.spanId);
      assert.equal(child.span!.droppedEventsCount, 2);
      assert.ok((child.span!.droppedAttributesCount as number) > 0);
    });

    it('re-encodes to the same OTLP document the SDK produces', () => {
      const { events } = decodeTraces(pb, 'otlp', NOW);
      const ours = normalize(protoToJson('ExportTraceServiceRequest', encodeTraces(events)));
      assert.deepEqual(ours, reference);
    });

    it('copies the original bytes of untouched spans, but encodes an enriched span again with its tapio.* attributes', () => {
      const { events } = decodeTraces(pb, 'otlp', NOW);
      events[0]!.semantic = { intent: 'http_5xx', category: 'availability', tags: [], narrative: 'n', confidence: 0.9, suggestedActions: [] };
      const doc = protoToJson('ExportTraceServiceRequest', encodeTraces(events)) as { resourceSpans: { scopeSpans: { spans: { name: string; attributes?: { key: string }[] }[] }[] }[] };
      const spans = doc.resourceSpans.flatMap((r) => r.scopeSpans.flatMap((s) => s.spans));
      const enriched = spans.find((s) => s.name === events[0]!.span!.name)!;
      assert.ok(enriched.attributes?.some((a) => a.key === 'tapio.semantic'), 'the enrichment is exported');
      assert.equal(spans.filter((s) => s.attributes?.some((a) => a.key === 'tapio.semantic')).length, 1, 'the other spans are copied unchanged');
    });

    it('survives the runtime\'s deep copy (cloneEvents, as on fan-out to a mutating consumer)', () => {
      const { events } = decodeTraces(pb, 'otlp', NOW);
      const copies = cloneEvents(events);
      assert.equal(Object.getPrototypeOf(copies[0]), Object.prototype, 'copies are plain objects');
      const ours = normalize(protoToJson('ExportTraceServiceRequest', encodeTraces(copies)));
      assert.deepEqual(ours, reference);
    });

    it("survives Tapio's own batch codec (what a persistent sending queue stores)", () => {
      const { events } = decodeTraces(pb, 'otlp', NOW);
      const stored = decodeBatch(encodeBatch({ events })).events;
      assert.notEqual(stored[0]!.resource, stored[1]!.resource, 'object sharing is gone after storage');
      assert.deepEqual(normalize(protoToJson('ExportTraceServiceRequest', encodeTraces(stored))), reference);
    });
  });

  describe('logs', () => {
    const logs = sdkLogs();
    const pb = Buffer.from(ProtobufLogsSerializer.serializeRequest(logs)!);
    const reference = normalize(parseJson(JsonLogsSerializer.serializeRequest(logs)!));

    it('decodes log records with body, severity and trace context', () => {
      const { events } = decodeLogs(pb, 'otlp', NOW);
      assert.equal(events.length, 3);
      assert.equal(events[0]!.severity, 'warn');
      assert.equal(events[0]!.log!.body, 'payment declined');
      assert.deepEqual(events[1]!.log!.body, { reason: 'card_expired', codes: [51, 54], nested: { ok: false } });
      assert.equal(events[1]!.log!.eventName, 'payment.failed');
      assert.equal(events[2]!.trace!.traceId, '4bf92f3577b34da6a3ce929d0e0e4736');
    });

    it('re-encodes to the same OTLP document the SDK produces', () => {
      const { events } = decodeLogs(pb, 'otlp', NOW);
      assert.deepEqual(normalize(protoToJson('ExportLogsServiceRequest', encodeLogs(events))), reference);
    });
  });

  describe('metrics', () => {
    for (const temporality of [AggregationTemporality.CUMULATIVE, AggregationTemporality.DELTA]) {
      it(`gauge, sums, histogram and exponential histogram (${AggregationTemporality[temporality]}) re-encode losslessly`, async () => {
        const rm = await sdkMetrics(temporality);
        const pb = Buffer.from(ProtobufMetricsSerializer.serializeRequest(rm)!);
        const reference = normalize(parseJson(JsonMetricsSerializer.serializeRequest(rm)!));
        const { events } = decodeMetrics(pb, 'otlp', NOW);
        const types = new Set(events.map((e) => e.metric!.type));
        assert.deepEqual([...types].sort(), ['exponentialHistogram', 'gauge', 'histogram', 'sum']);
        const orders = events.filter((e) => e.metric!.name === 'orders.placed');
        assert.deepEqual(orders.map((e) => e.metric!.value).sort(), [2, 3]);
        assert.equal(orders[0]!.metric!.isMonotonic, true);
        assert.deepEqual(normalize(protoToJson('ExportMetricsServiceRequest', encodeMetrics(events))), reference);
      });
    }
  });

  describe('what the SDK cannot produce (summary, exemplars, bytes, int64 beyond 2^53, entity refs)', () => {
    const doc = {
      resourceMetrics: [{
        resource: { attributes: [{ key: 'service.name', value: { stringValue: 'edge' } }], droppedAttributesCount: 2, entityRefs: [{ type: 'service', idKeys: ['service.name'] }] },
        schemaUrl: 'https://example.com/r',
        scopeMetrics: [{
          scope: { name: 's', version: '1', attributes: [{ key: 'x', value: { doubleValue: 1 } }], droppedAttributesCount: 1 },
          schemaUrl: 'https://example.com/s',
          metrics: [
            {
              name: 'rpc.latency', description: 'd', unit: 's', metadata: [{ key: 'm', value: { stringValue: 'v' } }],
              summary: { dataPoints: [{ attributes: [{ key: 'blob', value: { bytesValue: 'AAEC/w==' } }], startTimeUnixNano: '1700000000000000001', timeUnixNano: '1700000000000000002', count: '9007199254740993', sum: 12.5, quantileValues: [{ quantile: 0.5, value: 1 }, { quantile: 0.99, value: 4.5 }], flags: 1 }] },
            },
            {
              name: 'bytes.in', sum: {
                aggregationTemporality: 1, isMonotonic: true,
                dataPoints: [{
                  asInt: '-9007199254740993', timeUnixNano: '1700000000000000003',
                  attributes: [{ key: 'big', value: { intValue: '9223372036854775807' } }, { key: 'mixed', value: { arrayValue: { values: [{ intValue: '1' }, { doubleValue: 2 }, { bytesValue: 'AQ==' }] } } }],
                  exemplars: [{ filteredAttributes: [{ key: 'user', value: { stringValue: 'u1' } }], timeUnixNano: '1700000000000000004', asDouble: 3.25, spanId: '00f067aa0ba902b7', traceId: '4bf92f3577b34da6a3ce929d0e0e4736' }],
                }],
              },
            },
            {
              name: 'h', histogram: {
                aggregationTemporality: 2,
                dataPoints: [{ count: '3', sum: 0, bucketCounts: ['0', '3', '0'], explicitBounds: [1, 2], min: 0, max: 0, exemplars: [{ asInt: '7', timeUnixNano: '1' }] }],
              },
            },
            {
              name: 'e', exponentialHistogram: {
                aggregationTemporality: 1,
                dataPoints: [{ count: '5', sum: 1.5, scale: -3, zeroCount: '1', zeroThreshold: 0.001, positive: { offset: -2, bucketCounts: ['1', '0', '3'] }, negative: { offset: 4, bucketCounts: ['0'] }, flags: 1, min: -1, max: 9 }],
              },
            },
          ],
        }],
      }],
    };

    it('round-trips through JSON → protobuf → events → protobuf → JSON unchanged', () => {
      const pb = jsonToProto('ExportMetricsServiceRequest', doc);
      const { events } = decodeMetrics(pb, 'otlp', NOW);
      assert.equal(events.length, 4);
      const again = protoToJson('ExportMetricsServiceRequest', encodeMetrics(events));
      assert.deepEqual(normalize(again), normalize(doc));
    });

    it('keeps the difference between 1 (int) and 1.0 (double), and bytes as bytes', () => {
      const pb = jsonToProto('ExportMetricsServiceRequest', doc);
      const { events } = decodeMetrics(pb, 'otlp', NOW);
      const scope = (events[0]!.metric!.scope as { attributes: Record<string, unknown> });
      assert.equal(scope.attributes.x, 1);
      const again = protoToJson('ExportMetricsServiceRequest', encodeMetrics(events)) as typeof doc;
      assert.deepEqual(again.resourceMetrics[0]!.scopeMetrics[0]!.scope.attributes[0]!.value, { doubleValue: 1 });
      assert.deepEqual(again.resourceMetrics[0]!.scopeMetrics[0]!.metrics[0]!.summary!.dataPoints[0]!.attributes[0]!.value, { bytesValue: 'AAEC/w==' });
    });
  });

  describe('span attributes decoded on first read', () => {
    const spans = sdkSpans();
    const pb = Buffer.from(ProtobufTraceSerializer.serializeRequest(spans)!);
    const reference = normalize(parseJson(JsonTraceSerializer.serializeRequest(spans)!));

    it('read like a field, in JSON too, also after the runtime dropped the wire bytes', () => {
      const lazy = decodeTraces(pb, 'otlp', NOW).events;
      for (const e of lazy) (e as WithRawWireBytes)[RAW_WIRE_BYTES] = undefined;
      const plain = cloneEvents(decodeTraces(pb, 'otlp', NOW).events);
      assert.deepEqual(lazy.map((e) => e.attributes), plain.map((e) => e.attributes));
      assert.ok(Object.keys(lazy[0]!.attributes).length > 0);
      const json = (e: unknown): unknown => JSON.parse(JSON.stringify(e));
      assert.deepEqual(lazy.map((e) => ({ ...json(e) as object, id: 0 })), plain.map((e) => ({ ...json(e) as object, id: 0 })));
      assert.doesNotMatch(inspect(lazy[0]), /request|wireBytesValid/, 'console.log shows the event, not its backing fields');
      assert.match(inspect(lazy[0]), /attributes/);
      // without the wire bytes the exporter encodes from the fields: still the SDK's request
      assert.deepEqual(normalize(protoToJson('ExportTraceServiceRequest', encodeTraces(lazy))), reference);
    });

    it('forwarding untouched spans decodes none of it: the exporter copies the original bytes', () => {
      const events = decodeTraces(pb, 'otlp', NOW).events as OtlpSpanEvent[];
      const out = encodeTraces(events);
      assert.ok(events.every((e) => !e.spanMaterialized), 'span payloads still undecoded');
      assert.deepEqual(normalize(protoToJson('ExportTraceServiceRequest', out)), reference);
      assert.equal(events[0]!.span.name, spans[0]!.name, 'and they read correctly afterwards');
      assert.ok(events[0]!.spanMaterialized);
    });

    it('copies back-to-back spans as one run, and breaks runs where spans were reordered, enriched, changed or came from another request', () => {
      const many = [...spans, ...sdkSpans(), ...sdkSpans()];
      const bigPb = Buffer.from(ProtobufTraceSerializer.serializeRequest(many)!);
      const a = decodeTraces(bigPb, 'otlp', NOW).events;
      const b = decodeTraces(bigPb, 'otlp', NOW).events;
      assert.ok(a.length >= 9);
      // interleave two requests, reverse a stretch, enrich one span, drop another's wire bytes
      const mixed = [a[0]!, a[1]!, b[0]!, a[2]!, ...a.slice(3, 6).reverse(), ...a.slice(6), ...b.slice(1)];
      mixed[4]!.entity = { kind: 'pod', name: 'checkout-1', namespace: 'shop' };
      a[7]!.semantic = { intent: 'checkout', category: 'business', tags: [], narrative: 'n', confidence: 1, suggestedActions: [] }; // inside a run: a[6], a[7], a[8] lie back to back
      (mixed[5] as WithRawWireBytes)[RAW_WIRE_BYTES] = undefined;
      mixed[5]!.attributes = { ...mixed[5]!.attributes, 'changed.by': 'processor' };
      // the reference: the same events made plain (no original bytes), encoded field by field
      const plain = cloneEvents(mixed);
      for (const e of plain) delete (e as WithRawWireBytes)[RAW_WIRE_BYTES];
      assert.ok(plain.every((e) => !(e instanceof OtlpSpanEvent)));
      assert.deepEqual(normalize(protoToJson('ExportTraceServiceRequest', encodeTraces(mixed))), normalize(protoToJson('ExportTraceServiceRequest', encodeTraces(plain))));
      const doc = protoToJson('ExportTraceServiceRequest', encodeTraces(mixed)) as { resourceSpans: { scopeSpans: { spans: { name: string; attributes?: { key: string }[] }[] }[] }[] };
      const out = doc.resourceSpans.flatMap((r) => r.scopeSpans.flatMap((x) => x.spans));
      assert.equal(out.length, mixed.length);
      assert.ok(out.some((x) => x.attributes?.some((kv) => kv.key === 'changed.by')));
    });

    it('the id is made on first read: unique, stable, in the runtime\'s format, and can be replaced', () => {
      const events = decodeTraces(pb, 'otlp', NOW).events;
      const other = decodeTraces(pb, 'otlp', NOW).events;
      const ids = [...events, ...other].map((e) => e.id);
      assert.equal(new Set(ids).size, ids.length);
      assert.equal(events[0]!.id, ids[0], 'the same string on every read');
      assert.match(ids[0]!, new RegExp(`^${newEventId().split('-')[0]}-[0-9a-z]+$`), 'same shape as newEventId()');
      assert.equal(JSON.parse(JSON.stringify(events[1]))['id'], ids[1]);
      events[2]!.id = 'dedup-key-7';
      assert.equal(events[2]!.id, 'dedup-key-7');
      assert.equal(cloneEvents([events[2]!])[0]!.id, 'dedup-key-7');
    });

    it('lets go of the request buffer once everything is decoded and the wire bytes are stale', () => {
      const [e] = decodeTraces(pb, 'otlp', NOW).events as OtlpSpanEvent[];
      const held = (): number => (e as unknown as { request: Buffer }).request.length; // private: what keeps the request alive
      assert.equal(held(), pb.length);
      void e!.attributes; void e!.trace; void e!.span;
      assert.equal(held(), pb.length, 'still needed for the pass-through copy');
      (e as WithRawWireBytes)[RAW_WIRE_BYTES] = undefined; // what the runtime does before a mutating processor
      assert.equal(held(), 0);
      assert.equal(e!.span.name, spans[0]!.name);
    });

    it('a processor can change or replace them before or after reading', () => {
      const [a, b] = decodeTraces(pb, 'otlp', NOW).events;
      a!.attributes['added'] = 'yes';
      b!.attributes = { only: 1 };
      for (const e of [a, b]) (e as WithRawWireBytes)[RAW_WIRE_BYTES] = undefined;
      const out = protoToJson('ExportTraceServiceRequest', encodeTraces([a!, b!])) as any;
      const got = out.resourceSpans.flatMap((r: any) => r.scopeSpans.flatMap((sc: any) => sc.spans));
      assert.ok(got[0].attributes.some((kv: any) => kv.key === 'added' && kv.value.stringValue === 'yes'));
      assert.deepEqual(got[1].attributes.filter((kv: any) => !kv.key.startsWith('tapio.')), [{ key: 'only', value: { intValue: '1' } }]);
    });

    it('the trace context reads like a field and can be replaced or removed', () => {
      const [a, b, c] = decodeTraces(pb, 'otlp', NOW).events;
      assert.equal(a!.trace!.traceId, spans[0]!.spanContext().traceId);
      assert.equal(a!.trace!.spanId, spans[0]!.spanContext().spanId);
      b!.trace = { traceId: 'ab'.repeat(16), spanId: 'cd'.repeat(8) };
      c!.trace = undefined;
      assert.equal(b!.trace!.traceId, 'ab'.repeat(16));
      assert.equal(c!.trace, undefined);
      assert.equal('trace' in (JSON.parse(JSON.stringify(c)) as object), false);
      assert.equal((cloneEvents([b!])[0]!.trace as { spanId: string }).spanId, 'cd'.repeat(8));
    });

    it('a malformed attribute still fails the whole request at once', () => {
      const bad = { resourceSpans: [{ scopeSpans: [{ spans: [{ traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331', name: 's', attributes: [{ key: 'k', value: { kvlistValue: { values: [{ key: 'in', value: { stringValue: 'xxxxxxxx' } }] } } }] }] }] }] };
      const ok = jsonToProto('ExportTraceServiceRequest', bad);
      const at = ok.indexOf(Buffer.from('xxxxxxxx'));
      const broken = Buffer.from(ok);
      broken[at - 1] = 40; // the inner string's length now runs past its AnyValue
      assert.equal(decodeTraces(ok, 'otlp', NOW).events.length, 1);
      assert.throws(() => decodeTraces(broken, 'otlp', NOW), MalformedError);
    });
  });

  describe('malformed input', () => {
    const spans = sdkSpans();
    const pb = Buffer.from(ProtobufTraceSerializer.serializeRequest(spans)!);

    it('rejects every truncation of a valid request with MalformedError, never another error', () => {
      let malformed = 0;
      for (let cut = 1; cut < pb.length; cut += 7) {
        try {
          decodeTraces(pb.subarray(0, cut), 'otlp', NOW);
        } catch (err) {
          assert.ok(err instanceof MalformedError, `cut at ${cut}: ${(err as Error).name}: ${(err as Error).message}`);
          malformed++;
        }
      }
      assert.ok(malformed > 0);
    });

    it('rejects random bytes with MalformedError or decodes them to nothing', () => {
      let seed = 7;
      const rand = (): number => { seed = (seed * 1103515245 + 12345) & 0x7fffffff; return seed; };
      for (let i = 0; i < 300; i++) {
        const junk = Buffer.alloc(1 + (rand() % 200));
        for (let j = 0; j < junk.length; j++) junk[j] = rand() & 0xff;
        try {
          const r = decodeTraces(junk, 'otlp', NOW);
          assert.ok(Array.isArray(r.events));
        } catch (err) {
          assert.ok(err instanceof MalformedError, `${(err as Error).name}: ${(err as Error).message}`);
        }
      }
    });

    it('keeps an attribute named __proto__ as an attribute, and deep nesting is a MalformedError', () => {
      const attrs = [{ key: '__proto__', value: { stringValue: 'x' } }, { key: 'ok', value: { boolValue: true } }];
      const doc = { resourceLogs: [{ scopeLogs: [{ logRecords: [{ attributes: attrs }] }] }] };
      const { events } = decodeLogs(jsonToProto('ExportLogsServiceRequest', doc), 'otlp', NOW);
      assert.equal(Object.getPrototypeOf(events[0]!.attributes), Object.prototype);
      assert.deepEqual(Object.keys(events[0]!.attributes), ['__proto__', 'ok']);
      assert.equal(normalize(protoToJson('ExportLogsServiceRequest', encodeLogs(events))) !== undefined, true);
      // 100k nested arrays: recursion runs out of stack, which must surface as a bad request
      const request = (depth: number): Buffer => {
        const nested = nestedArrays(depth);
        const kv = Buffer.concat([Buffer.from([0x0a, 0x01, 0x6b, 0x12]), varint(nested.length), nested]);
        const log = Buffer.concat([Buffer.from([0x32]), varint(kv.length), kv]);
        const scope = Buffer.concat([Buffer.from([0x12]), varint(log.length), log]);
        const rl = Buffer.concat([Buffer.from([0x12]), varint(scope.length), scope]);
        return Buffer.concat([Buffer.from([0x0a]), varint(rl.length), rl]);
      };
      const v = decodeLogs(request(3), 'otlp', NOW).events[0]!.attributes.k;
      assert.deepEqual(v, [[[null]]]);
      assert.throws(() => decodeLogs(request(100_000), 'otlp', NOW), (err) => err instanceof MalformedError && /stack/.test(err.message));
    });

    it('counts spans with invalid ids as rejected (partial success) and keeps the rest', () => {
      const doc = parseJson(JsonTraceSerializer.serializeRequest(spans)!) as { resourceSpans: { scopeSpans: { spans: { traceId: string }[] }[] }[] };
      doc.resourceSpans[0]!.scopeSpans[0]!.spans[0]!.traceId = 'abcd';
      const r = decodeTraces(jsonToProto('ExportTraceServiceRequest', doc), 'otlp', NOW);
      assert.equal(r.rejected, 1);
      assert.equal(r.events.length, spans.length - 1);
      assert.match(r.errorMessage, /trace_id/);
    });
  });
});
