'use strict';
// OTLP across processes: OpenTelemetry SDK → `tapio` CLI process A (otlp receiver → otlp gRPC
// exporter, plugins loaded with --plugin) → tapio B (an otlp receiver in this process). Every
// span arrives with every field; SIGTERM drains A and it exits cleanly.
const assert = require('node:assert/strict');
const net = require('node:net');
const path = require('node:path');
const fs = require('node:fs');
const { tmpDir, writeFile, startTapio } = require('./lib/cli');

const ROOT = path.resolve(__dirname, '..');
const built = ['receivers/otlp/dist/src/index.js', 'exporters/otlp/dist/src/index.js', 'receivers/otlp/dist/test/fixtures.js'].every((f) => fs.existsSync(path.join(ROOT, f)));

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); });
  });
}

describe('otlp across processes: SDK → tapio CLI (otlp → otlp) → tapio B', function () {
  this.timeout(60_000);
  let b;
  let a;
  let sink;
  let dir;
  before(async function () {
    if (!built) { this.skip(); return; }
    const core = require(path.join(ROOT, 'core/dist/src/testing/index.js'));
    const otlp = require(path.join(ROOT, 'receivers/otlp/dist/src/index.js'));
    sink = new core.SinkConsumer();
    const cfg = core.validConfig(otlp.default, { protocols: { grpc: { endpoint: '127.0.0.1:0' } } });
    b = await otlp.default.create(core.testContext('otlp/b', 'receiver'), cfg, sink);
    await b.start();
    dir = tmpDir('tapio-otlp-chain-');
  });
  after(async () => {
    if (a && a.child.exitCode === null) a.child.kill('SIGKILL');
    await b?.shutdown();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('delivers every SDK span intact and drains on SIGTERM', async () => {
    const grpcA = await freePort();
    const config = writeFile(dir, 'a.yaml', `
receivers:
  otlp:
    protocols:
      grpc: { endpoint: "127.0.0.1:${grpcA}" }
exporters:
  otlp:
    endpoint: "127.0.0.1:${b.grpc.port}"
    tls: { insecure: true }
service:
  telemetry: { metrics: { address: "127.0.0.1:0" } }
  pipelines:
    traces: { receivers: [otlp], exporters: [otlp] }
`);
    a = startTapio(['--plugin', path.join(ROOT, 'receivers/otlp'), '--plugin', path.join(ROOT, 'exporters/otlp'), '--config', config]);
    await a.waitForLog((l) => /OTLP\/gRPC receiver listening/.test(l.msg ?? ''));
    const { OTLPTraceExporter } = require('@opentelemetry/exporter-trace-otlp-grpc');
    const { JsonTraceSerializer } = require('@opentelemetry/otlp-transformer');
    const { sdkSpans } = require(path.join(ROOT, 'receivers/otlp/dist/test/fixtures.js'));
    const { normalize } = require(path.join(ROOT, 'receivers/otlp/dist/test/normalize.js'));
    const otlp = require(path.join(ROOT, 'receivers/otlp/dist/src/index.js'));
    const spans = sdkSpans();
    const exporter = new OTLPTraceExporter({ url: `http://127.0.0.1:${grpcA}` });
    await new Promise((resolve, reject) => exporter.export(spans, (r) => (r.code === 0 ? resolve() : reject(r.error))));
    await exporter.shutdown();
    await sink.waitFor(spans.length, 20_000);
    const got = normalize(otlp.protoToJson('ExportTraceServiceRequest', otlp.encodeTraces(sink.events)));
    const want = normalize(JSON.parse(Buffer.from(JsonTraceSerializer.serializeRequest(spans)).toString()));
    assert.deepEqual(got, want);
    a.child.kill('SIGTERM');
    const { code } = await a.exited;
    assert.equal(code, 0);
  });
});
