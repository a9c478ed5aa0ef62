import * as assert from 'node:assert/strict';
import { JsonLogsSerializer, JsonMetricsSerializer, JsonTraceSerializer } from '@opentelemetry/otlp-transformer';
import { sdkLogs, sdkMetrics, sdkSpans } from './fixtures';
import { asOtlp, post, startReceiver, type Running } from './helpers';
import { normalize, parseJson } from './normalize';

const JSON_CT = { 'Content-Type': 'application/json' };

const SEVERITIES = ['UNSPECIFIED', ...['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'FATAL'].flatMap((l) => [l, `${l}2`, `${l}3`, `${l}4`])];

/** Each OTLP enum field's names by number, as opentelemetry-proto spells them. */
const ENUM_NAMES: Record<string, string[]> = {
  kind: ['UNSPECIFIED', 'INTERNAL', 'SERVER', 'CLIENT', 'PRODUCER', 'CONSUMER'].map((n) => `SPAN_KIND_${n}`),
  code: ['UNSET', 'OK', 'ERROR'].map((n) => `STATUS_CODE_${n}`),
  severityNumber: SEVERITIES.map((n) => `SEVERITY_NUMBER_${n}`),
  aggregationTemporality: ['UNSPECIFIED', 'DELTA', 'CUMULATIVE'].map((n) => `AGGREGATION_TEMPORALITY_${n}`),
};

/** An OTLP/JSON document with every enum given by its name instead of its number; counts what it renamed per field. */
function enumsByName(doc: unknown, renamed: Record<string, number> = {}): { doc: unknown; renamed: Record<string, number> } {
  const walk = (x: unknown): unknown => {
    if (Array.isArray(x)) return x.map(walk);
    if (x === null || typeof x !== 'object') return x;
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(x)) {
      const names = ENUM_NAMES[k];
      if (names && typeof v === 'number') { out[k] = names[v]; renamed[k] = (renamed[k] ?? 0) + 1; } else out[k] = walk(v);
    }
    return out;
  };
  return { doc: walk(doc), renamed };
}

describe('otlp receiver: OTLP/JSON as the protobuf JSON mapping', () => {
  let r: Running;
  before(async () => { r = await startReceiver({ grpc: undefined }); });
  after(async () => { await r.receiver.shutdown(); });
  beforeEach(() => r.sink.reset());

  it('enums by name (span kind, status code, severity number, aggregation temporality) deliver what their numbers do', async () => {
    const metrics = await sdkMetrics();
    const cases = [
      { signal: 'traces', json: parseJson(JsonTraceSerializer.serializeRequest(sdkSpans())!), fields: ['kind', 'code'] },
      { signal: 'logs', json: parseJson(JsonLogsSerializer.serializeRequest(sdkLogs())!), fields: ['severityNumber'] },
      { signal: 'metrics', json: parseJson(JsonMetricsSerializer.serializeRequest(metrics)!), fields: ['aggregationTemporality'] },
    ] as const;
    for (const { signal, json, fields } of cases) {
      r.sink.reset();
      const { doc, renamed } = enumsByName(json);
      for (const field of fields) assert.ok(renamed[field], `the ${signal} document has a ${field} to give by name`);
      const a = await post(r.httpPort, `/v1/${signal}`, JSON.stringify(doc), JSON_CT);
      assert.equal(a.status, 200, a.body.toString());
      assert.deepEqual(asOtlp(signal, r.sink.events), normalize(json), signal);
    }
  });

  it('an enum as decimal text still counts as its number', async () => {
    const a = await post(r.httpPort, '/v1/traces', JSON.stringify(oneSpan({ kind: '3', status: { code: '2' } })), JSON_CT);
    assert.equal(a.status, 200, a.body.toString());
    const span = (asOtlp('traces', r.sink.events) as { resourceSpans: { scopeSpans: { spans: Record<string, unknown>[] }[] }[] }).resourceSpans[0]!.scopeSpans[0]!.spans[0]!;
    assert.equal(span.kind, '3');
    assert.deepEqual(span.status, { code: '2' });
  });

  it('an unknown enum name is a 400 naming the field; nothing is delivered', async () => {
    for (const [span, problem] of [
      [{ kind: 'SPAN_KIND_SERVR' }, /spans\[0\]\.kind: unknown SpanKind "SPAN_KIND_SERVR"/],
      [{ kind: 'constructor' }, /spans\[0\]\.kind: unknown SpanKind "constructor"/],
      [{ status: { code: 'ERROR' } }, /spans\[0\]\.status\.code: unknown StatusCode "ERROR"/],
      [{ kind: 2.5 }, /spans\[0\]\.kind: expected an integer/],
    ] as const) {
      const a = await post(r.httpPort, '/v1/traces', JSON.stringify(oneSpan(span)), JSON_CT);
      assert.equal(a.status, 400);
      assert.match((JSON.parse(a.body.toString()) as { message: string }).message, problem);
    }
    assert.equal(r.sink.events.length, 0);
  });

  it('64-bit integers written as JSON numbers arrive exact, even past 2^53 (and digits inside strings are left alone)', async () => {
    // written by hand: JSON.stringify could not even produce these numbers
    const body = `{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"4bf92f3577b34da6a3ce929d0e0e4736","spanId":"00f067aa0ba902b7","name":"id: 12345678901234567890",
      "startTimeUnixNano":1700000000000000001,"endTimeUnixNano": 1700000000100000003,
      "attributes":[{"key":"big","value":{"intValue":9007199254740993}},{"key":"neg","value":{"intValue":-9223372036854775807}},{"key":"list","value":{"arrayValue":{"values":[{"intValue":[1][0]}]}}}]}]}]}]}`;
    const bad = await post(r.httpPort, '/v1/traces', body, JSON_CT);
    assert.equal(bad.status, 400, 'still JSON, still validated: [1][0] is not JSON');
    const good = body.replace('[1][0]', '12345678901234567');
    const a = await post(r.httpPort, '/v1/traces', good, JSON_CT);
    assert.equal(a.status, 200, a.body.toString());
    const span = (asOtlp('traces', r.sink.events) as { resourceSpans: { scopeSpans: { spans: Record<string, unknown>[] }[] }[] }).resourceSpans[0]!.scopeSpans[0]!.spans[0]! as { name: string; startTimeUnixNano: string; endTimeUnixNano: string; attributes: { key: string; value: Record<string, unknown> }[] };
    assert.equal(span.name, 'id: 12345678901234567890');
    assert.deepEqual([span.startTimeUnixNano, span.endTimeUnixNano], ['1700000000000000001', '1700000000100000003']);
    assert.deepEqual(span.attributes.map((kv) => kv.value), [{ intValue: '9007199254740993' }, { intValue: '-9223372036854775807' }, { arrayValue: { values: [{ intValue: '12345678901234567' }] } }]);
  });
});

/** An ExportTraceServiceRequest with one span, plus `fields`. */
function oneSpan(fields: Record<string, unknown>): unknown {
  const span = { traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7', name: 'GET /', startTimeUnixNano: '1700000000000000000', endTimeUnixNano: '1700000000100000000', ...fields };
  return { resourceSpans: [{ scopeSpans: [{ spans: [span] }] }] };
}
