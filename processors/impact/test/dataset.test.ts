import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { createComponent, NopConsumer, testHost, validConfig } from '@tapio/core/testing';
import { newEventId, type Attributes, type UnifiedEvent } from '@tapio/core';
import factory, { type ImpactProcessor } from '../src/index';

// dist/test → repo root → ../shared/datasets (never copied into the repo).
const CASE = path.resolve(__dirname, '..', '..', '..', '..', '..', 'shared', 'datasets', 'nezha-ob-dev', '2022-08-22T05_09');

interface OtlpKv { key: string; value: { stringValue?: string; intValue?: string; doubleValue?: number; boolValue?: boolean } }
interface OtlpSpan { traceId: string; spanId: string; parentSpanId?: string; name: string; kind?: number; startTimeUnixNano: string; endTimeUnixNano: string; status?: { code?: number; message?: string }; attributes?: OtlpKv[] }
interface OtlpLine { resourceSpans: { resource: { attributes: OtlpKv[] }; scopeSpans: { spans: OtlpSpan[] }[] }[] }

function attrs(kvs: OtlpKv[] | undefined): Attributes {
  const out: Attributes = {};
  for (const kv of kvs ?? []) out[kv.key] = kv.value.stringValue ?? (kv.value.intValue !== undefined ? Number(kv.value.intValue) : kv.value.doubleValue ?? kv.value.boolValue ?? null);
  return out;
}

/** OTLP/JSON lines → span events shaped like the OTLP receiver's (the fields impact reads). */
function readSpans(file: string): UnifiedEvent[] {
  const out: UnifiedEvent[] = [];
  for (const line of zlib.gunzipSync(fs.readFileSync(file)).toString('utf8').split('\n')) {
    if (!line.trim()) continue;
    for (const rs of (JSON.parse(line) as OtlpLine).resourceSpans) {
      const resource = attrs(rs.resource.attributes);
      for (const ss of rs.scopeSpans) for (const s of ss.spans) {
        const start = Number(s.startTimeUnixNano);
        const failed = s.status?.code === 2;
        out.push({
          id: newEventId(), time: start, observedTime: start, kind: 'span', source: 'otlp', severity: failed ? 'error' : 'info',
          trace: { traceId: s.traceId, spanId: s.spanId, parentSpanId: s.parentSpanId || undefined },
          resource, attributes: attrs(s.attributes),
          span: { name: s.name, kind: s.kind, startTimeUnixNano: s.startTimeUnixNano, endTimeUnixNano: s.endTimeUnixNano, durationMs: (Number(s.endTimeUnixNano) - start) / 1e6, status: s.status },
        });
      }
    }
  }
  return out;
}

describe('impact on real traces (Nezha Online Boutique, case 2022-08-22T05_09)', function () {
  before(function () {
    if (!fs.existsSync(path.join(CASE, 'traces.otlp.jsonl.gz'))) this.skip(); // dataset not present on this machine
  });

  it('learns the Online Boutique call graph and carries customer impact from frontend to the backends', async () => {
    const spans = readSpans(path.join(CASE, 'traces.otlp.jsonl.gz'));
    assert.ok(spans.length > 1000, `read ${spans.length} spans`);
    const p = (await createComponent(factory, validConfig(factory, {}), new NopConsumer())) as ImpactProcessor;
    await p.start(testHost());
    for (let i = 0; i < spans.length; i += 512) await p.consume({ events: spans.slice(i, i + 512) });
    const graph = p.model.graph;
    // Who calls whom, derived here from the same spans: a CLIENT span's service → its SERVER child's service.
    const serviceOf = new Map(spans.filter((s) => s.span!.kind === 3).map((s) => [s.trace!.spanId!, s.resource['service.name'] as string]));
    const calls = new Set<string>();
    for (const s of spans) {
      const parent = s.trace?.parentSpanId ? serviceOf.get(s.trace.parentSpanId) : undefined;
      if (s.span!.kind === 2 && parent && parent !== s.resource['service.name']) calls.add(`${parent}→${s.resource['service.name']}`);
    }
    assert.ok(calls.size >= 5, `calls seen: ${[...calls].join(', ')}`);
    for (const c of calls) {
      const [caller, callee] = c.split('→') as [string, string];
      assert.ok(graph.upstream(callee).includes(caller), `${caller} should be upstream of ${callee}`);
    }
    assert.deepEqual(graph.upstream('frontend'), [], 'nothing calls the frontend');
    // A failure in a backend reached through the frontend is customer-facing, without any catalog.
    const backend = [...calls].map((c) => c.split('→')[1]!).find((s) => s !== 'frontend')!;
    const err: UnifiedEvent = {
      id: newEventId(), time: spans[spans.length - 1]!.time, observedTime: 0, kind: 'log', source: 'test', severity: 'error',
      resource: { 'service.name': backend }, attributes: {}, log: { body: 'failure' },
    };
    await p.consume({ events: [err] });
    assert.equal(err.impact?.customerFacing, true);
    assert.equal(err.impact?.guessed, true);
    assert.ok(err.impact!.cascadeRisk > 0);
    await p.shutdown();
  });
});
