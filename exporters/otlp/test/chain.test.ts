import * as assert from 'node:assert/strict';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-grpc';
import { OTLPLogExporter } from '@opentelemetry/exporter-logs-otlp-proto';
import { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-http';
import { JsonLogsSerializer, JsonMetricsSerializer, JsonTraceSerializer } from '@opentelemetry/otlp-transformer';
import type { Collector } from '@tapio/core';
import { sdkLogs, sdkMetrics, sdkSpans } from '@tapio/receiver-otlp/dist/test/fixtures';
import { asOtlp, freePort, normalize, sdkExport, startCollector, startDownstream } from './helpers';

const parse = (b: Uint8Array | undefined): unknown => JSON.parse(Buffer.from(b!).toString('utf8'));

/** Exporter settings under test: every transport and encoding the chain can take. */
const VARIANTS: { name: string; exporter: (b: { grpcPort: number; httpPort: number }) => string }[] = [
  { name: 'otlp (gRPC, gzip)', exporter: (b) => `otlp:\n    endpoint: 127.0.0.1:${b.grpcPort}\n    tls: { insecure: true }` },
  { name: 'otlp (gRPC, no compression, 2 connections)', exporter: (b) => `otlp:\n    endpoint: 127.0.0.1:${b.grpcPort}\n    compression: none\n    num_connections: 2\n    tls: { insecure: true }` },
  { name: 'otlphttp (protobuf, gzip)', exporter: (b) => `otlphttp:\n    endpoint: http://127.0.0.1:${b.httpPort}` },
  { name: 'otlphttp (JSON)', exporter: (b) => `otlphttp:\n    endpoint: http://127.0.0.1:${b.httpPort}\n    encoding: json\n    compression: none` },
];

describe('chain: OpenTelemetry SDK → tapio A (otlp receiver → otlp exporter) → tapio B', () => {
  for (const v of VARIANTS) {
    describe(v.name, () => {
      let b: Awaited<ReturnType<typeof startDownstream>>;
      let a: Collector;
      let grpcA: number;
      let httpA: number;
      before(async () => {
        b = await startDownstream();
        grpcA = await freePort();
        httpA = await freePort();
        const exporterId = v.exporter(b).split(':')[0];
        a = await startCollector(`
receivers:
  otlp:
    protocols:
      grpc: { endpoint: 127.0.0.1:${grpcA} }
      http: { endpoint: 127.0.0.1:${httpA} }
exporters:
  ${v.exporter(b)}
service:
  telemetry: { metrics: { address: localhost:0 } }
  pipelines:
    traces: { receivers: [otlp], exporters: [${exporterId}] }
    logs: { receivers: [otlp], exporters: [${exporterId}] }
    metrics: { receivers: [otlp], exporters: [${exporterId}] }
`);
      });
      after(async () => {
        await a?.shutdown();
        await b?.receiver.shutdown();
      });
      beforeEach(() => b.sink.reset());

      it('every span arrives at B with every field intact (SDK gRPC exporter into A)', async () => {
        const spans = sdkSpans();
        const exporter = new OTLPTraceExporter({ url: `http://127.0.0.1:${grpcA}` });
        await sdkExport(exporter, spans);
        await exporter.shutdown();
        await b.sink.waitFor(spans.length);
        assert.deepEqual(asOtlp('traces', b.sink.events), normalize(parse(JsonTraceSerializer.serializeRequest(spans))));
      });

      it('every log record arrives at B with every field intact (SDK HTTP/protobuf exporter into A)', async () => {
        const logs = sdkLogs();
        const exporter = new OTLPLogExporter({ url: `http://127.0.0.1:${httpA}/v1/logs` });
        await sdkExport(exporter, logs);
        await exporter.shutdown();
        await b.sink.waitFor(logs.length);
        assert.deepEqual(asOtlp('logs', b.sink.events), normalize(parse(JsonLogsSerializer.serializeRequest(logs))));
      });

      it('every metric point arrives at B with every field intact (SDK HTTP/JSON exporter into A)', async () => {
        const rm = await sdkMetrics();
        const exporter = new OTLPMetricExporter({ url: `http://127.0.0.1:${httpA}/v1/metrics` });
        await sdkExport(exporter, rm);
        await exporter.shutdown();
        const points = rm.scopeMetrics.reduce((n, s) => n + s.metrics.reduce((m, x) => m + x.dataPoints.length, 0), 0);
        await b.sink.waitFor(points);
        assert.deepEqual(asOtlp('metrics', b.sink.events), normalize(parse(JsonMetricsSerializer.serializeRequest(rm))));
      });
    });
  }
});
