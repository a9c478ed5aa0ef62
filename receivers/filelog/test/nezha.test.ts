import * as assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as readline from 'node:readline';
import * as zlib from 'node:zlib';
import type { OperatorConfig } from '../src/index';
import { run, sleep, tempDir } from './helpers';

const DATASET = path.resolve(__dirname, '../../../..', '../shared/datasets/nezha-ob-dev');
const CASE = '2022-08-22T03_53';

interface Span { traceId: string; spanId: string; name: string; startTimeUnixNano: string; pod: string; service: string; namespace: string }

/** The first OTLP/JSON trace requests of a case, flattened to spans with their pod. */
async function readSpans(file: string, maxLines: number): Promise<Span[]> {
  const rl = readline.createInterface({ input: fs.createReadStream(file).pipe(zlib.createGunzip()), crlfDelay: Infinity });
  const spans: Span[] = [];
  let n = 0;
  for await (const line of rl) {
    const req = JSON.parse(line) as { resourceSpans: { resource: { attributes: { key: string; value: { stringValue?: string } }[] }; scopeSpans: { spans: Span[] }[] }[] };
    for (const rs of req.resourceSpans) {
      const attr = (k: string): string => rs.resource.attributes.find((a) => a.key === k)?.value.stringValue ?? '';
      for (const ss of rs.scopeSpans) for (const s of ss.spans) spans.push({ ...s, pod: attr('k8s.pod.name'), service: attr('service.name'), namespace: attr('k8s.namespace.name') });
    }
    if (++n >= maxLines) break;
  }
  rl.close();
  return spans;
}

function podUid(pod: string): string {
  const h = createHash('sha1').update(pod).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

function rfc3339(nanos: string): string {
  const ms = Number(BigInt(nanos) / 1_000_000n);
  return new Date(ms).toISOString().slice(0, 19) + '.' + nanos.slice(-9) + 'Z';
}

/**
 * Our reconstruction of what the services would have written for a span (the dev split has no
 * log records): Go/Node services log JSON (message, severity, timestamp + trace fields), the Java
 * adservice logs text with `trace_id=… span_id=…`. Each line goes into a CRI record; long
 * messages are split into a `P` and an `F` record as containerd does.
 */
function criLines(s: Span, i: number): string[] {
  const t = rfc3339(s.startTimeUnixNano);
  const app = s.service === 'adservice'
    ? `${t.replace('T', ' ').slice(0, 23)} INFO [main] ${s.name} served ads (call ${i}) trace_id=${s.traceId} span_id=${s.spanId}`
    : JSON.stringify({ message: `${s.name} handled (call ${i})`, severity: i % 5 === 0 ? 'warning' : 'info', timestamp: t, trace_id: s.traceId, span_id: s.spanId, 'http.req.id': `req-${i}` });
  if (i % 7 !== 3) return [`${t} stdout F ${app}`];
  const cut = Math.floor(app.length / 2);
  return [`${t} stdout P ${app.slice(0, cut)}`, `${t} stdout F ${app.slice(cut)}`];
}

const OPERATORS: OperatorConfig[] = [
  { type: 'container', format: 'containerd' },
  { type: 'json_parser', on_error: 'send_quiet', severity: { parse_from: 'attributes.severity' } },
  { type: 'regex_parser', on_error: 'send_quiet', regex: '^\\S+ \\S+ (?P<level>[A-Z]+) \\[(?P<op>[^\\]]+)\\] (?P<message>.*) trace_id=(?P<trace_id>[0-9a-f]{32}) span_id=(?P<span_id>[0-9a-f]{16})$', severity: { parse_from: 'attributes.level' } },
  { type: 'trace_parser' },
  { type: 'move', from: 'attributes.message', to: 'body' },
];

describe('filelog: Online Boutique container logs (Nezha dataset)', function () {
  this.timeout(30_000);
  let dir: string;
  afterEach(() => { if (dir) fs.rmSync(dir, { recursive: true, force: true }); });

  it('parses CRI files rebuilt from the dataset, with Kubernetes metadata, and their trace ids join the traces', async function () {
    const traces = path.join(DATASET, CASE, 'traces.otlp.jsonl.gz');
    if (!fs.existsSync(traces)) this.skip(); // dataset not present: ../shared/datasets/nezha-ob-dev (see its README)
    const spans = await readSpans(traces, 4);
    // A few spans per service, so every service's log shape is covered.
    const perService = new Map<string, Span[]>();
    for (const s of spans) { const l = perService.get(s.service) ?? []; if (l.length < 6) l.push(s); perService.set(s.service, l); }
    const chosen = [...perService.values()].flat();
    assert.ok(perService.size >= 3, `several services in the sample (${[...perService.keys()].join(', ')})`);

    dir = tempDir('filelog-nezha-');
    const files = new Map<string, string[]>();
    chosen.forEach((s, i) => {
      const f = path.join(dir, 'pods', `${s.namespace}_${s.pod}_${podUid(s.pod)}`, 'server', '0.log');
      const l = files.get(f) ?? [];
      l.push(...criLines(s, i));
      files.set(f, l);
    });
    for (const [f, lines] of files) { fs.mkdirSync(path.dirname(f), { recursive: true }); fs.writeFileSync(f, lines.join('\n') + '\n'); }

    const r = await run({ include: [path.join(dir, 'pods', '*', '*', '*.log')], operators: OPERATORS });
    try {
      await r.sink.waitFor(chosen.length);
      await sleep(100);
      assert.equal(r.sink.events.length, chosen.length, 'one entry per record (partial lines joined)');
      const bySpan = new Map(spans.map((s) => [`${s.traceId}/${s.spanId}`, s]));
      for (const e of r.sink.events) {
        assert.ok(e.trace, `trace context parsed from ${String(e.log?.body).slice(0, 60)}`);
        const span = bySpan.get(`${e.trace.traceId}/${e.trace.spanId}`);
        assert.ok(span, `log joins a span of the dataset (${e.trace.traceId})`);
        assert.equal(e.resource['k8s.pod.name'], span.pod, 'the log comes from the pod that ran the span');
        assert.equal(e.resource['k8s.namespace.name'], 'hipster');
        assert.equal(e.resource['k8s.pod.uid'], podUid(span.pod));
        assert.equal(e.resource['k8s.container.name'], 'server');
        assert.ok(Math.abs(e.time - Number(span.startTimeUnixNano)) < 1e6, 'time from the CRI record (ns precision)');
        assert.ok(String(e.log?.body).includes(span.name), 'the body is the application message');
      }
      assert.ok(r.sink.events.some((e) => e.severity === 'warn'), 'JSON severity mapped');
    } finally { await r.stop(); }
  });
});
