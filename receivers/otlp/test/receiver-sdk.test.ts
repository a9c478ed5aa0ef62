import * as assert from 'node:assert/strict';
import { OTLPTraceExporter as TraceGrpc } from '@opentelemetry/exporter-trace-otlp-grpc';
import { OTLPTraceExporter as TraceHttpJson } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as TraceProto } from '@opentelemetry/exporter-trace-otlp-proto';
import { OTLPLogExporter as LogsGrpc } from '@opentelemetry/exporter-logs-otlp-grpc';
import { OTLPLogExporter as LogsHttpJson } from '@opentelemetry/exporter-logs-otlp-http';
import { OTLPLogExporter as LogsProto } from '@opentelemetry/exporter-logs-otlp-proto';
import { OTLPMetricExporter as MetricsGrpc } from '@opentelemetry/exporter-metrics-otlp-grpc';
import { OTLPMetricExporter as MetricsHttpJson } from '@opentelemetry/exporter-metrics-otlp-http';
import { OTLPMetricExporter as MetricsProto } from '@opentelemetry/exporter-metrics-otlp-proto';
import { JsonLogsSerializer, JsonMetricsSerializer, JsonTraceSerializer } from '@opentelemetry/otlp-transformer';
import { conformance } from '@tapio/core/testing';
import factory from '../src/index';
import { sdkLogs, sdkMetrics, sdkSpans } from './fixtures';
import { asOtlp, sdkExport, startReceiver, type Running } from './helpers';
import { normalize, parseJson } from './normalize';

conformance(factory, { config: { protocols: { grpc: { endpoint: '127.0.0.1:0' }, http: { endpoint: '127.0.0.1:0' } } } });

type Transport = 'grpc' | 'http/json' | 'http/protobuf';
const TRANSPORTS: Transport[] = ['grpc', 'http/json', 'http/protobuf'];

function url(r: Running, t: Transport, path: string): string {
  return t === 'grpc' ? `http://127.0.0.1:${r.grpcPort}` : `http://127.0.0.1:${r.httpPort}${path}`;
}

describe('otlp receiver with the official OpenTelemetry JS SDK exporters as clients', () => {
  let r: Running;
  before(async () => { r = await startReceiver(); });
  after(async () => { await r.receiver.shutdown(); });
  beforeEach(() => r.sink.reset());

  for (const t of TRANSPORTS) {
    for (const compression of ['none', 'gzip'] as const) {
      describe(`${t}, compression ${compression}`, () => {
        it('traces arrive with every field intact', async () => {
          const spans = sdkSpans();
          const Exporter = t === 'grpc' ? TraceGrpc : t === 'http/json' ? TraceHttpJson : TraceProto;
          const exporter = new Exporter({ url: url(r, t, '/v1/traces'), compression: compression as never });
          await sdkExport(exporter, spans);
          await exporter.shutdown();
          assert.equal(r.sink.events.length, spans.length);
          assert.ok(r.sink.events.every((e) => e.kind === 'span' && e.source === 'otlp'));
          assert.deepEqual(asOtlp('traces', r.sink.events), normalize(parseJson(JsonTraceSerializer.serializeRequest(spans)!)));
        });

        it('logs arrive with every field intact', async () => {
          const logs = sdkLogs();
          const Exporter = t === 'grpc' ? LogsGrpc : t === 'http/json' ? LogsHttpJson : LogsProto;
          const exporter = new Exporter({ url: url(r, t, '/v1/logs'), compression: compression as never });
          await sdkExport(exporter, logs);
          await exporter.shutdown();
          assert.equal(r.sink.events.length, logs.length);
          assert.deepEqual(asOtlp('logs', r.sink.events), normalize(parseJson(JsonLogsSerializer.serializeRequest(logs)!)));
        });

        it('metric points arrive with every field intact', async () => {
          const rm = await sdkMetrics();
          const Exporter = t === 'grpc' ? MetricsGrpc : t === 'http/json' ? MetricsHttpJson : MetricsProto;
          const exporter = new Exporter({ url: url(r, t, '/v1/metrics'), compression: compression as never });
          await sdkExport(exporter, rm);
          await exporter.shutdown();
          const points = rm.scopeMetrics.reduce((n, s) => n + s.metrics.reduce((m, x) => m + x.dataPoints.length, 0), 0);
          assert.equal(r.sink.events.length, points);
          assert.deepEqual(asOtlp('metrics', r.sink.events), normalize(parseJson(JsonMetricsSerializer.serializeRequest(rm)!)));
        });
      });
    }
  }
});
