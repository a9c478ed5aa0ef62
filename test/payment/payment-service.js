'use strict';
// The instrumented "payment" service: POST /pay {user, amount} queries the database stand-in
// (DB_HOST:DB_PORT, line protocol) and answers 200, or 500 when the database cannot be reached.
// Traces and logs go to the collector with the official OpenTelemetry JS SDK over OTLP/HTTP
// (OTLP_ENDPOINT, e.g. http://127.0.0.1:4318). Prints {"listening": {port}, "pid"} once bound.
//
// The SDK's trace packages here are @opentelemetry/sdk-trace-base 2.x (BasicTracerProvider) and
// sdk-logs 0.223 — what the repo already has; parent spans are passed explicitly, so no async
// context manager (sdk-trace-node) is needed.
const http = require('node:http');
const net = require('node:net');
const { trace, context, SpanKind, SpanStatusCode } = require('@opentelemetry/api');
const { SeverityNumber } = require('@opentelemetry/api-logs');
const { resourceFromAttributes } = require('@opentelemetry/resources');
const { BasicTracerProvider, BatchSpanProcessor } = require('@opentelemetry/sdk-trace-base');
const { LoggerProvider, BatchLogRecordProcessor } = require('@opentelemetry/sdk-logs');
const { OTLPTraceExporter } = require('@opentelemetry/exporter-trace-otlp-http');
const { OTLPLogExporter } = require('@opentelemetry/exporter-logs-otlp-http');

const otlp = process.env.OTLP_ENDPOINT ?? 'http://127.0.0.1:4318';
const dbHost = process.env.DB_HOST ?? '127.0.0.1';
const dbPort = Number(process.env.DB_PORT);
const resource = resourceFromAttributes({ 'service.name': 'payment', 'service.version': '2.1.0', 'deployment.environment.name': 'test' });
// Short export delays: the collector correlates in event time, so spans should not trail the kernel's events by long.
const batch = { scheduledDelayMillis: 200, maxExportBatchSize: 256 };
const tracerProvider = new BasicTracerProvider({ resource, spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter({ url: `${otlp}/v1/traces` }), batch)] });
// sdk-logs 0.223 takes the exporter inside the options object
const loggerProvider = new LoggerProvider({ resource, processors: [new BatchLogRecordProcessor({ exporter: new OTLPLogExporter({ url: `${otlp}/v1/logs` }), ...batch })] });
const tracer = tracerProvider.getTracer('payment-service', '2.1.0');
const logger = loggerProvider.getLogger('payment-service', '2.1.0');

/** One query over a fresh connection (no pool: every request shows the database's state). */
function query(text, parentCtx) {
  const span = tracer.startSpan('SELECT payments', {
    kind: SpanKind.CLIENT,
    attributes: { 'db.system': 'other_sql', 'db.operation.name': 'SELECT', 'db.collection.name': 'payments', 'server.address': dbHost, 'server.port': dbPort },
  }, parentCtx);
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: dbHost, port: dbPort });
    socket.setEncoding('utf8');
    socket.setTimeout(2000, () => socket.destroy(Object.assign(new Error(`query timed out after 2000ms on ${dbHost}:${dbPort}`), { code: 'ETIMEDOUT' })));
    let reply = '';
    socket.on('connect', () => socket.write(`QUERY ${text}\n`));
    socket.on('data', (d) => {
      reply += d;
      if (reply.includes('\n')) { socket.end(); span.end(); resolve(reply.trim()); }
    });
    socket.on('error', (err) => {
      span.recordException(err);
      span.setAttribute('error.type', err.code ?? 'Error');
      span.setStatus({ code: SpanStatusCode.ERROR, message: err.message });
      span.end();
      reject(err);
    });
  });
}

function pay(req, res, body) {
  let order;
  try { order = JSON.parse(body || '{}'); } catch { order = {}; }
  const user = String(order.user ?? 'anonymous');
  const span = tracer.startSpan('POST /pay', {
    kind: SpanKind.SERVER,
    attributes: { 'http.request.method': 'POST', 'http.route': '/pay', 'url.path': '/pay', 'url.scheme': 'http', 'enduser.id': user },
  });
  const ctx = trace.setSpan(context.active(), span);
  const { traceId } = span.spanContext();
  query(`SELECT status FROM payments WHERE user = '${user}' AND amount = ${Number(order.amount) || 0}`, ctx)
    .then(() => {
      span.setAttribute('http.response.status_code', 200);
      span.end();
      res.writeHead(200, { 'content-type': 'application/json', 'x-trace-id': traceId });
      res.end(JSON.stringify({ ok: true, traceId }));
    })
    .catch((err) => {
      logger.emit({
        severityNumber: SeverityNumber.ERROR, severityText: 'ERROR', context: ctx,
        body: `payment failed for user ${user}: database ${dbHost}:${dbPort} unreachable: ${err.message} trace_id=${traceId}`,
        attributes: { 'enduser.id': user, 'error.type': err.code ?? 'Error', 'exception.message': err.message },
      });
      span.setAttribute('http.response.status_code', 500);
      span.setAttribute('error.type', '500');
      span.setStatus({ code: SpanStatusCode.ERROR, message: `database unreachable: ${err.code ?? err.message}` });
      span.end();
      res.writeHead(500, { 'content-type': 'application/json', 'x-trace-id': traceId });
      res.end(JSON.stringify({ ok: false, error: 'payment database unreachable', traceId }));
    });
}

const server = http.createServer((req, res) => {
  if (req.method === 'POST' && req.url === '/pay') {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (d) => { body += d; });
    req.on('end', () => pay(req, res, body));
    return;
  }
  res.writeHead(404).end();
});

async function shutdown() {
  server.close();
  await Promise.allSettled([tracerProvider.shutdown(), loggerProvider.shutdown()]);
  process.exit(0);
}
process.on('SIGTERM', () => { shutdown().catch(() => process.exit(1)); });

server.listen(0, '127.0.0.1', () => {
  process.stdout.write(JSON.stringify({ listening: { port: server.address().port }, pid: process.pid }) + '\n');
});
