import { SpanKind, SpanStatusCode, context, trace, type Link } from '@opentelemetry/api';
import { SeverityNumber } from '@opentelemetry/api-logs';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { InMemoryLogRecordExporter, LoggerProvider, SimpleLogRecordProcessor, type ReadableLogRecord } from '@opentelemetry/sdk-logs';
import { AggregationTemporality, AggregationType, MeterProvider, MetricReader, type ResourceMetrics } from '@opentelemetry/sdk-metrics';

/** A resource with every AnyValue kind the SDK can produce. */
export const RESOURCE = resourceFromAttributes({
  'service.name': 'checkout',
  'service.version': '1.2.3',
  'host.cpu.count': 8,
  'process.runtime.load': 0.75,
  'deployment.canary': true,
  'k8s.pod.labels': ['app=checkout', 'tier=web'],
});

/** Spans covering every field: kinds, status, events, links, trace state, dropped counts, arrays, doubles. */
export function sdkSpans(): ReadableSpan[] {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({
    resource: RESOURCE,
    spanProcessors: [new SimpleSpanProcessor(exporter)],
    spanLimits: { attributeCountLimit: 6, eventCountLimit: 3, linkCountLimit: 2 },
  });
  const tracer = provider.getTracer('checkout-tracer', '0.9.1', { schemaUrl: 'https://opentelemetry.io/schemas/1.24.0' });
  const root = tracer.startSpan('POST /checkout', {
    kind: SpanKind.SERVER,
    attributes: { 'http.request.method': 'POST', 'http.response.status_code': 500, 'server.duration': 12.5, 'user.roles': ['admin', 'ops'], 'retry.ok': false, 'ratio.integral': 2 },
    startTime: [1_700_000_000, 123_456_789],
  });
  root.addEvent('exception', { 'exception.type': 'TimeoutError', 'exception.message': 'upstream timed out' }, [1_700_000_000, 223_456_789]);
  root.setStatus({ code: SpanStatusCode.ERROR, message: 'upstream timed out' });
  const ctx = trace.setSpan(context.active(), root);
  const links: Link[] = [
    { context: { traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331', traceFlags: 1, traceState: undefined }, attributes: { 'link.reason': 'batch' } },
  ];
  const child = tracer.startSpan('SELECT orders', { kind: SpanKind.CLIENT, links, attributes: { 'db.system': 'postgresql', 'db.rows': 42 }, startTime: [1_700_000_000, 150_000_000] }, ctx);
  for (let i = 0; i < 5; i++) child.addEvent(`retry ${i}`, { attempt: i });
  for (let i = 0; i < 8; i++) child.setAttribute(`extra.${i}`, i * 1.5);
  child.end([1_700_000_000, 190_000_001]);
  root.end([1_700_000_000, 523_456_789]);
  const internal = provider.getTracer('internal').startSpan('cache.get', { kind: SpanKind.INTERNAL, startTime: [1_700_000_001, 0] });
  internal.setStatus({ code: SpanStatusCode.OK });
  internal.end([1_700_000_001, 5_000]);
  return exporter.getFinishedSpans();
}

export function sdkLogs(): ReadableLogRecord[] {
  const exporter = new InMemoryLogRecordExporter();
  const provider = new LoggerProvider({ resource: RESOURCE, processors: [new SimpleLogRecordProcessor({ exporter })] });
  const logger = provider.getLogger('payment-logger', '2.0.0', { schemaUrl: 'https://opentelemetry.io/schemas/1.24.0' });
  logger.emit({ body: 'payment declined', severityNumber: SeverityNumber.WARN, severityText: 'WARN', attributes: { 'payment.id': 'p-1', 'amount.cents': 1999, 'fraud.score': 0.93 }, timestamp: [1_700_000_002, 1] });
  logger.emit({ body: { reason: 'card_expired', codes: [51, 54], nested: { ok: false } }, severityNumber: SeverityNumber.ERROR, eventName: 'payment.failed', timestamp: [1_700_000_002, 2], observedTimestamp: [1_700_000_002, 3] });
  const span = trace.wrapSpanContext({ traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7', traceFlags: 1 });
  logger.emit({ body: 42, severityNumber: SeverityNumber.INFO, context: trace.setSpan(context.active(), span) });
  return exporter.getFinishedLogRecords();
}

class ManualReader extends MetricReader {
  protected async onForceFlush(): Promise<void> { /* nothing buffered */ }
  protected async onShutdown(): Promise<void> { /* nothing to close */ }
}

/** Gauge, sum (monotonic and not, int and double), histogram, exponential histogram, with exemplars off. */
export async function sdkMetrics(temporality: AggregationTemporality = AggregationTemporality.CUMULATIVE): Promise<ResourceMetrics> {
  const reader = new ManualReader({ aggregationTemporalitySelector: () => temporality });
  const provider = new MeterProvider({
    resource: RESOURCE,
    readers: [reader],
    views: [{ instrumentName: 'rpc.exp.duration', aggregation: { type: AggregationType.EXPONENTIAL_HISTOGRAM, options: { maxSize: 32 } } }],
  });
  const meter = provider.getMeter('orders-meter', '3.1.0', { schemaUrl: 'https://opentelemetry.io/schemas/1.24.0' });
  const counter = meter.createCounter('orders.placed', { unit: '{order}', description: 'Orders placed' });
  counter.add(3, { region: 'eu' });
  counter.add(2, { region: 'us' });
  const updown = meter.createUpDownCounter('queue.depth', { valueType: 1 /* INT */ });
  updown.add(10);
  updown.add(-4);
  const hist = meter.createHistogram('http.server.duration', { unit: 'ms', advice: { explicitBucketBoundaries: [5, 10, 25, 50] } });
  for (const v of [1, 7, 7, 30, 120]) hist.record(v, { route: '/pay' });
  const exp = meter.createHistogram('rpc.exp.duration', { unit: 's' });
  for (const v of [0.001, 0.02, 0.02, 3, -0, 0]) exp.record(v);
  const gauge = meter.createGauge('cpu.temperature', { unit: 'Cel' });
  gauge.record(71.5, { core: 0 });
  gauge.record(70, { core: 1 });
  const { resourceMetrics } = await reader.collect();
  await provider.shutdown();
  return resourceMetrics;
}
