'use strict';
// An OpenTelemetry Collector config, written as for otelcol (v0.130 keys of the otlp receiver,
// otlp exporter, batch, memory_limiter, debug, file, health_check, file_storage,
// bearertokenauth), runs unchanged in the `tapio` CLI (tapio-core's components): `tapio validate`
// accepts it and names the settings that have no effect in Tapio with their file:line:col; the
// running collector serves the health check as configured, takes spans from the official SDK
// with a bearer token and delivers them, signed, to another OTLP receiver.
const assert = require('node:assert/strict');
const fs = require('node:fs');
const net = require('node:net');
const path = require('node:path');
const { tmpDir, writeFile, startTapio, tapioSync } = require('./lib/cli');

const ROOT = path.resolve(__dirname, '..');
const MANIFEST = path.join(ROOT, 'distributions/tapio-core/manifest.yaml');

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); });
  });
}

function collectorConfig(p) {
  return `
extensions:
  health_check:
    endpoint: 127.0.0.1:${p.health}
    path: /health/status
    response_body: { healthy: "I'm OK", unhealthy: "I'm not OK" }
    check_collector_pipeline: { enabled: false, interval: 5m, exporter_failure_threshold: 5 }
    response_headers: { Cache-Control: no-store }
    read_header_timeout: 10s
  file_storage:
    directory: ${p.dir}/storage
    create_directory: true
    directory_permissions: "0750"
    timeout: 1s
    compaction: { on_start: true, on_rebound: true, rebound_needed_threshold_mib: 100, rebound_trigger_threshold_mib: 10, check_interval: 5s, max_transaction_size: 65536 }
  bearertokenauth/server:
    tokens: ["\${env:INGEST_TOKEN}"]
  bearertokenauth/client:
    token: \${env:BACKEND_TOKEN}

receivers:
  otlp:
    protocols:
      grpc:
        endpoint: 127.0.0.1:${p.grpc}
        transport: tcp
        max_recv_msg_size_mib: 16
        read_buffer_size: 524288
        write_buffer_size: 524288
        include_metadata: true
        keepalive:
          server_parameters: { max_connection_idle: 11s, time: 30s, timeout: 5s }
          enforcement_policy: { min_time: 10s, permit_without_stream: true }
        auth: { authenticator: bearertokenauth/server }
      http:
        endpoint: 127.0.0.1:${p.http}
        include_metadata: true
        compression_algorithms: ["", gzip, zlib, deflate]
        response_headers: { X-Served-By: otelcol }
        read_header_timeout: 10s
        idle_timeout: 1m
        cors: { allowed_origins: ["https://*.example.com"] }

processors:
  memory_limiter:
    check_interval: 1s
    limit_percentage: 80
    spike_limit_percentage: 20
  batch:
    timeout: 200ms
    send_batch_size: 8192
    send_batch_max_size: 10000
    metadata_keys: [x-tenant]
    metadata_cardinality_limit: 1000

exporters:
  debug:
    verbosity: Basic
    sampling_initial: 5
    sampling_thereafter: 200
  otlp:
    endpoint: 127.0.0.1:${p.backend}
    compression: gzip
    headers: { X-Scope-OrgID: tenant-a }
    tls: { insecure: true }
    auth: { authenticator: bearertokenauth/client }
    read_buffer_size: 0
    write_buffer_size: 524288
    timeout: 10s
    retry_on_failure: { enabled: true, initial_interval: 1s, randomization_factor: 0.5, multiplier: 1.5, max_interval: 30s, max_elapsed_time: 300s }
    sending_queue:
      enabled: true
      num_consumers: 10
      queue_size: 100000
      sizer: items
      block_on_overflow: false
      storage: file_storage
      batch: { flush_timeout: 200ms, sizer: items, min_size: 8192, max_size: 10000 }
  file:
    path: ${p.dir}/spans.pb
    format: proto
    flush_interval: 1s

service:
  extensions: [health_check, file_storage, bearertokenauth/server, bearertokenauth/client]
  telemetry:
    logs: { level: INFO }
    metrics:
      level: detailed
      readers:
        - pull: { exporter: { prometheus: { host: 127.0.0.1, port: ${p.metrics} } } }
  pipelines:
    traces:
      receivers: [otlp]
      processors: [memory_limiter, batch]
      exporters: [otlp, file, debug]
`;
}

describe('an OpenTelemetry Collector config runs unchanged', function () {
  this.timeout(90_000);
  let dir;
  let backend;
  let tapio;
  const sink = [];
  const seenAuth = [];

  before(async () => {
    dir = tmpDir('tapio-collector-config-');
    // the backend: another OTLP receiver that records the Authorization header of every export
    const core = require(path.join(ROOT, 'core/dist/src/testing/index.js'));
    const otlp = require(path.join(ROOT, 'receivers/otlp/dist/src/index.js'));
    const consumer = { consume: async (b) => { sink.push(...b.events); seenAuth.push(b.metadata?.authorization?.[0]); } };
    const cfg = core.validConfig(otlp.default, { protocols: { grpc: { endpoint: '127.0.0.1:0', include_metadata: true } } });
    backend = await otlp.default.create(core.testContext('otlp/backend', 'receiver'), cfg, consumer);
    await backend.start();
  });
  after(async () => {
    if (tapio && tapio.child.exitCode === null) tapio.child.kill('SIGKILL');
    await backend?.shutdown();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('validates, with a warning for each setting that has no effect, and runs: health check, authenticated SDK spans in, signed export out', async () => {
    const ports = { health: await freePort(), grpc: await freePort(), http: await freePort(), metrics: await freePort(), backend: backend.grpc.port, dir };
    const config = writeFile(dir, 'otelcol.yaml', collectorConfig(ports));
    const env = { INGEST_TOKEN: 'ingest-secret', BACKEND_TOKEN: 'backend-secret' };

    const v = tapioSync(['validate', '--manifest', MANIFEST, '--config', config], { env });
    assert.equal(v.status, 0, v.stderr);
    assert.match(v.stdout, /config is valid: 1 pipeline\(s\): traces/);
    const lineOf = (needle) => collectorConfig(ports).split('\n').findIndex((l) => l.includes(needle)) + 1;
    assert.ok(v.stderr.includes(`warning: receivers.otlp.protocols.grpc.read_buffer_size (${config}:${lineOf('read_buffer_size: 524288')}:27): accepted for compatibility`), v.stderr);
    assert.ok(v.stderr.includes('warning: extensions.health_check.check_collector_pipeline'), v.stderr);
    assert.ok(!/error/i.test(v.stderr), v.stderr);

    tapio = startTapio(['--manifest', MANIFEST, '--config', config], { env });
    await tapio.waitForLog((l) => /everything is ready/.test(l.msg ?? ''), 30_000);

    const health = await fetch(`http://127.0.0.1:${ports.health}/health/status`);
    assert.equal(health.status, 200);
    assert.equal(await health.text(), "I'm OK");
    assert.equal(health.headers.get('cache-control'), 'no-store');

    const grpc = require('@grpc/grpc-js');
    const { OTLPTraceExporter } = require('@opentelemetry/exporter-trace-otlp-grpc');
    const { sdkSpans } = require(path.join(ROOT, 'receivers/otlp/dist/test/fixtures.js'));
    const spans = sdkSpans();
    const send = (token) => {
      const md = new grpc.Metadata();
      if (token) md.set('authorization', `Bearer ${token}`);
      md.set('x-tenant', 'acme');
      const exporter = new OTLPTraceExporter({ url: `http://127.0.0.1:${ports.grpc}`, metadata: md });
      return new Promise((resolve) => exporter.export(spans, (r) => { exporter.shutdown().then(() => resolve(r)); }));
    };
    const refused = await send('wrong');
    assert.notEqual(refused.code, 0, 'a wrong token is refused');
    const accepted = await send('ingest-secret');
    assert.equal(accepted.code, 0, String(accepted.error));

    const deadline = Date.now() + 20_000;
    while (sink.length < spans.length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    assert.equal(sink.length, spans.length, 'every span arrives once (the refused export sent nothing)');
    assert.deepEqual([...new Set(seenAuth)], ['Bearer backend-secret'], 'the export is signed by bearertokenauth/client');

    const metrics = await (await fetch(`http://127.0.0.1:${ports.metrics}/metrics`)).text();
    assert.match(metrics, /tapio_receiver_accepted_events_total\{[^}]*\} \d+/);

    tapio.child.kill('SIGTERM');
    assert.equal((await tapio.exited).code, 0, tapio.state.stderr.slice(-2000));
    // the file exporter's proto format: 4-byte big-endian length, then one ExportTraceServiceRequest
    const pb = fs.readFileSync(path.join(dir, 'spans.pb'));
    assert.ok(pb.length > 4 && pb.readUInt32BE(0) === pb.length - 4, `one length-prefixed request (${pb.length} bytes)`);
    const otlp = require(path.join(ROOT, 'receivers/otlp/dist/src/index.js'));
    assert.equal(otlp.decodeTraces(pb.subarray(4), 'file', 0).events.length, spans.length);
  });
});
