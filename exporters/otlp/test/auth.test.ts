import * as assert from 'node:assert/strict';
import * as http from 'node:http';
import { Metadata } from '@grpc/grpc-js';
import { OTLPTraceExporter as GrpcTraceExporter } from '@opentelemetry/exporter-trace-otlp-grpc';
import { OTLPLogExporter } from '@opentelemetry/exporter-logs-otlp-proto';
import { JsonTraceSerializer } from '@opentelemetry/otlp-transformer';
import type { Collector } from '@tapio/core';
import { testSinkExporterFactory, testSinks } from '@tapio/core/testing';
import basicAuthFactory from '@tapio/extension-basicauth';
import bearerTokenAuthFactory from '@tapio/extension-bearertokenauth';
import { sdkLogs, sdkSpans } from '@tapio/receiver-otlp/dist/test/fixtures';
import { asOtlp, freePort, normalize, sdkExport, startCollector } from './helpers';

const AUTH_FACTORIES = [bearerTokenAuthFactory, basicAuthFactory, testSinkExporterFactory];
const TOKEN = 'tok-3f9a1c';
const basic = (user: string, password: string): string => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

/** "tapio B": gRPC wants a bearer token, HTTP wants Basic credentials; what passes lands in testsink. */
async function startB(grpcPort: number, httpPort: number): Promise<Collector> {
  return startCollector(`
extensions:
  bearertokenauth/in: { token: ${TOKEN} }
  basicauth/in:
    htpasswd: { inline: "collector-a:pa55 word" }
receivers:
  otlp:
    protocols:
      grpc: { endpoint: 127.0.0.1:${grpcPort}, auth: { authenticator: bearertokenauth/in } }
      http: { endpoint: 127.0.0.1:${httpPort}, auth: { authenticator: basicauth/in }, cors: { allowed_origins: ["https://app.example.com"] } }
exporters:
  testsink: {}
service:
  extensions: [bearertokenauth/in, basicauth/in]
  telemetry: { metrics: { address: localhost:0 } }
  pipelines:
    traces: { receivers: [otlp], exporters: [testsink] }
    logs: { receivers: [otlp], exporters: [testsink] }
`, AUTH_FACTORIES);
}

function request(port: number, method: string, headers: Record<string, string>, body = ''): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path: '/v1/logs', method, headers: { ...headers, 'content-length': Buffer.byteLength(body) } }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => { text += c.toString(); });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** The SDK's exporters report failures through a callback; the error, or undefined on success. */
async function exportError(run: () => Promise<void>): Promise<Error & { code?: number } | undefined> {
  try { await run(); return undefined; } catch (err) { return err as Error & { code?: number }; }
}

describe('auth: bearertokenauth and basicauth on the otlp receiver and exporters', () => {
  let b: Collector;
  let grpcB: number;
  let httpB: number;
  const sink = () => testSinks.get('testsink')!;
  before(async () => {
    grpcB = await freePort();
    httpB = await freePort();
    b = await startB(grpcB, httpB);
  });
  after(async () => { await b?.shutdown(); });
  beforeEach(() => sink().reset());

  it('gRPC: the SDK exporter with the bearer token is served; without it or with a wrong one, UNAUTHENTICATED and nothing arrives', async () => {
    const spans = sdkSpans();
    const withToken = new Metadata();
    withToken.set('authorization', `Bearer ${TOKEN}`);
    const wrong = new Metadata();
    wrong.set('authorization', 'Bearer guessed');
    const good = new GrpcTraceExporter({ url: `http://127.0.0.1:${grpcB}`, metadata: withToken });
    const none = new GrpcTraceExporter({ url: `http://127.0.0.1:${grpcB}` });
    const bad = new GrpcTraceExporter({ url: `http://127.0.0.1:${grpcB}`, metadata: wrong });
    // all three at once: the refused clients do not disturb the served one
    const [eGood, eNone, eBad] = await Promise.all([good, none, bad].map((x) => exportError(() => sdkExport(x, spans))));
    await Promise.all([good, none, bad].map((x) => x.shutdown()));
    assert.equal(eGood, undefined);
    for (const e of [eNone, eBad]) {
      assert.ok(e, 'refused');
      assert.equal(e.code, 16, `gRPC UNAUTHENTICATED, got ${e.message}`);
    }
    assert.match(eNone!.message, /missing the Authorization header/);
    await sink().waitFor(spans.length);
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(sink().events.length, spans.length, 'only the authenticated export arrived');
  });

  it('HTTP: Basic credentials are served; a wrong password gets 401 and nothing arrives', async () => {
    const logs = sdkLogs();
    const good = new OTLPLogExporter({ url: `http://127.0.0.1:${httpB}/v1/logs`, headers: { Authorization: basic('collector-a', 'pa55 word') } });
    const bad = new OTLPLogExporter({ url: `http://127.0.0.1:${httpB}/v1/logs`, headers: { Authorization: basic('collector-a', 'pa55') } });
    const [eGood, eBad] = await Promise.all([good, bad].map((x) => exportError(() => sdkExport(x, logs))));
    await Promise.all([good, bad].map((x) => x.shutdown()));
    assert.equal(eGood, undefined);
    assert.ok(eBad, 'refused');
    assert.match(eBad.message, /401|Unauthorized/i);
    await sink().waitFor(logs.length);
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(sink().events.length, logs.length);
  });

  it('tapio A signs with bearertokenauth (otlp) and basicauth (otlphttp): every span arrives at B intact', async () => {
    const spans = sdkSpans();
    for (const exporter of [
      `otlp: { endpoint: 127.0.0.1:${grpcB}, tls: { insecure: true }, auth: { authenticator: bearertokenauth/out } }`,
      `otlphttp: { endpoint: "http://127.0.0.1:${httpB}", auth: { authenticator: basicauth/out } }`,
    ]) {
      sink().reset();
      const grpcA = await freePort();
      const id = exporter.split(':')[0];
      const a = await startCollector(`
extensions:
  bearertokenauth/out: { token: ${TOKEN} }
  basicauth/out:
    client_auth: { username: collector-a, password: "pa55 word" }
receivers:
  otlp:
    protocols:
      grpc: { endpoint: 127.0.0.1:${grpcA} }
exporters:
  ${exporter}
service:
  extensions: [bearertokenauth/out, basicauth/out]
  telemetry: { metrics: { address: localhost:0 } }
  pipelines:
    traces: { receivers: [otlp], exporters: [${id}] }
`, AUTH_FACTORIES);
      try {
        const sdk = new GrpcTraceExporter({ url: `http://127.0.0.1:${grpcA}` });
        await sdkExport(sdk, spans);
        await sdk.shutdown();
        await sink().waitFor(spans.length);
        assert.deepEqual(asOtlp('traces', sink().events), normalize(JSON.parse(Buffer.from(JsonTraceSerializer.serializeRequest(spans)!).toString('utf8'))), id);
      } finally {
        await a.shutdown();
      }
    }
  });

  it('a browser\'s CORS preflight needs no credentials; its unauthenticated POST gets 401 it can read', async () => {
    const origin = 'https://app.example.com';
    const preflight = await request(httpB, 'OPTIONS', { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type, authorization' });
    assert.equal(preflight.status, 204);
    assert.equal(preflight.headers['access-control-allow-origin'], origin);
    const post = await request(httpB, 'POST', { origin, 'content-type': 'application/json' }, '{"resourceLogs":[]}');
    assert.equal(post.status, 401);
    assert.equal(post.headers['access-control-allow-origin'], origin, 'the browser may read the refusal');
    assert.deepEqual(JSON.parse(post.body), { code: 16, message: 'missing the Authorization header' });
  });

  it('an extension set up for the other direction fails the start with the reason', async () => {
    const port = await freePort();
    const yaml = (receiverAuth: string, exporterAuth: string): string => `
extensions:
  basicauth/in:
    htpasswd: { inline: "u:p" }
  basicauth/out:
    client_auth: { username: u, password: p }
receivers:
  otlp:
    protocols:
      http: { endpoint: 127.0.0.1:${port}, auth: { authenticator: ${receiverAuth} } }
exporters:
  otlphttp: { endpoint: "http://127.0.0.1:${httpB}", auth: { authenticator: ${exporterAuth} } }
service:
  extensions: [basicauth/in, basicauth/out]
  telemetry: { metrics: { address: localhost:0 } }
  pipelines:
    logs: { receivers: [otlp], exporters: [otlphttp] }
`;
    await assert.rejects(startCollector(yaml('basicauth/out', 'basicauth/out'), AUTH_FACTORIES), /protocols\.http\.auth\.authenticator: extension "basicauth\/out" cannot authenticate incoming requests: it has no htpasswd section/);
    await assert.rejects(startCollector(yaml('basicauth/in', 'basicauth/in'), AUTH_FACTORIES), /auth\.authenticator: extension "basicauth\/in" cannot sign outgoing requests: it has no client_auth section/);
  });

  it('an authenticator that is not in service.extensions is a config error with the config path', async () => {
    const port = await freePort();
    await assert.rejects(startCollector(`
extensions:
  bearertokenauth/in: { token: x }
receivers:
  otlp:
    protocols:
      grpc: { endpoint: 127.0.0.1:${port}, auth: { authenticator: bearertokenauth/typo } }
exporters:
  testsink: {}
service:
  extensions: [bearertokenauth/in]
  telemetry: { metrics: { address: localhost:0 } }
  pipelines:
    traces: { receivers: [otlp], exporters: [testsink] }
`, AUTH_FACTORIES), /receivers\.otlp\.protocols\.grpc\.auth\.authenticator: no extension "bearertokenauth\/typo" is defined under extensions; did you mean "bearertokenauth\/in"\?/);
  });
});
