import * as net from 'node:net';
import { Collector, createLogger, type AnyFactory, type UnifiedEvent } from '@tapio/core';
import { resolveYaml, SinkConsumer, testContext, validConfig } from '@tapio/core/testing';
import receiverFactory, { encodeLogs, encodeMetrics, encodeTraces, protoToJson, type OtlpReceiver } from '@tapio/receiver-otlp';
import { normalize } from '@tapio/receiver-otlp/dist/test/normalize';
import { otlpExporterFactory, otlpHttpExporterFactory } from '../src/index';

export { normalize };

/** A downstream OTLP endpoint ("tapio B"): an otlp receiver feeding a sink. */
export async function startDownstream(): Promise<{ receiver: OtlpReceiver; sink: SinkConsumer; grpcPort: number; httpPort: number }> {
  const sink = new SinkConsumer();
  const cfg = validConfig(receiverFactory, { protocols: { grpc: { endpoint: '127.0.0.1:0' }, http: { endpoint: '127.0.0.1:0' } } });
  const receiver = (await receiverFactory.create(testContext('otlp/b', 'receiver'), cfg as never, sink)) as OtlpReceiver;
  await receiver.start();
  return { receiver, sink, grpcPort: receiver.grpc!.port, httpPort: receiver.http!.port };
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

/** A whole collector ("tapio A") from YAML, with the OTLP components (and `extra`) registered. */
export async function startCollector(yaml: string, extra: AnyFactory[] = []): Promise<Collector> {
  const { config, issues } = resolveYaml(yaml, [receiverFactory, otlpExporterFactory, otlpHttpExporterFactory, ...extra], 'chain.yaml');
  if (!config) throw new Error(issues.map((i) => `${i.path}: ${i.message}`).join('\n'));
  const collector = new Collector({ logger: createLogger((process.env.TAPIO_TEST_LOG ?? 'silent') as 'silent') });
  await collector.start(config);
  return collector;
}

export function asOtlp(signal: 'traces' | 'logs' | 'metrics', events: UnifiedEvent[]): unknown {
  if (signal === 'traces') return normalize(protoToJson('ExportTraceServiceRequest', encodeTraces(events)));
  if (signal === 'logs') return normalize(protoToJson('ExportLogsServiceRequest', encodeLogs(events)));
  return normalize(protoToJson('ExportMetricsServiceRequest', encodeMetrics(events)));
}

export function sdkExport<T>(exporter: { export(items: T, cb: (r: { code: number; error?: Error }) => void): void }, items: T): Promise<void> {
  return new Promise((resolve, reject) => {
    exporter.export(items, (r) => (r.code === 0 ? resolve() : reject(r.error ?? new Error('export failed'))));
  });
}
