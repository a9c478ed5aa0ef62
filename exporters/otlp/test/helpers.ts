import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import * as http2 from 'node:http2';
import * as net from 'node:net';
import * as path from 'node:path';
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

/**
 * A self-signed certificate (it is its own CA) made with the openssl CLI, valid for `san`
 * (e.g. 'DNS:localhost,IP:127.0.0.1'); undefined when openssl is missing. Files go in `dir`.
 */
export function makeCert(dir: string, name: string, san: string, cn = 'localhost'): { cert: string; key: string; certPem: string; keyPem: string } | undefined {
  const cert = path.join(dir, `${name}.crt`);
  const key = path.join(dir, `${name}.key`);
  try {
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1',
      '-subj', `/CN=${cn}`, '-addext', `subjectAltName=${san}`], { stdio: 'ignore' });
  } catch {
    return undefined;
  }
  return { cert, key, certPem: fs.readFileSync(cert, 'utf8'), keyPem: fs.readFileSync(key, 'utf8') };
}

/** Problems (and no-effect notices) `tapio validate` reports for one exporter section: schema and the factory's own checks. */
export function exporterIssues(type: 'otlp' | 'otlphttp', section: string): { issues: string[]; notices: string[] } {
  const yaml = `receivers:\n  otlp:\n    protocols:\n      grpc: { endpoint: 127.0.0.1:0 }\nexporters:\n  ${type}:\n${section.replace(/^/gm, '    ')}\nservice:\n  pipelines:\n    traces: { receivers: [otlp], exporters: [${type}] }\n`;
  const r = resolveYaml(yaml, [receiverFactory, otlpExporterFactory, otlpHttpExporterFactory], 'test.yaml') as ReturnType<typeof resolveYaml> & { notices?: { path: string; message: string }[] };
  const text = (l: { path: string; message: string }[] = []): string[] => l.map((i) => `${i.path}: ${i.message}`);
  return { issues: text(r.issues), notices: text(r.notices) };
}

/** One call a GrpcOkServer answered: its headers (and :authority), the local address it came in on, and its message. */
export interface GrpcCall { headers: http2.IncomingHttpHeaders; authority: unknown; local: string; flag: number; message: Buffer }

/** A bare gRPC endpoint (node:http2) that records every call and answers OK. */
/** An HTTP/2 server answering every gRPC call OK, recording each; with `tls` (cert and key PEM), over TLS. */
export async function grpcOkServer(port = 0, host = '127.0.0.1', tls?: { cert: string; key: string }): Promise<{ port: number; calls: GrpcCall[]; close(): Promise<void> }> {
  const calls: GrpcCall[] = [];
  const server = tls ? http2.createSecureServer(tls) : http2.createServer();
  const sessions = new Set<http2.ServerHttp2Session>();
  server.on('session', (s) => { sessions.add(s); s.on('close', () => sessions.delete(s)); });
  server.on('stream', (stream, headers) => {
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => {
      const framed = Buffer.concat(chunks);
      calls.push({
        headers, authority: headers[':authority'], local: stream.session?.socket.localAddress ?? '',
        flag: framed[0] ?? 0, message: framed.length >= 5 ? framed.subarray(5, 5 + framed.readUInt32BE(1)) : Buffer.alloc(0),
      });
      stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
      stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
      stream.end();
    });
  });
  await new Promise<void>((r) => server.listen(port, host, r));
  return { port: (server.address() as net.AddressInfo).port, calls, close: () => new Promise((r) => { for (const s of sessions) s.destroy(); server.close(() => r()); }) };
}

/**
 * An HTTP proxy that tunnels (CONNECT), sending every tunnel to 127.0.0.1 whatever host it
 * names, so tests can use names that do not resolve; records the CONNECT targets. With `tls` it
 * is an https:// proxy, and it also answers absolute-form requests itself (200), recording their URLs.
 */
export async function connectProxy(tls?: { cert: string; key: string }): Promise<{ port: number; connects: string[]; requests: string[]; close(): Promise<void> }> {
  const connects: string[] = [];
  const requests: string[] = [];
  const answer = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    if (!tls) { res.writeHead(405).end(); return; }
    requests.push(req.url ?? '');
    req.resume();
    req.on('end', () => res.writeHead(200).end());
  };
  const proxy = tls ? https.createServer(tls, answer) : http.createServer(answer);
  proxy.on('connect', (req: http.IncomingMessage, client: net.Socket, head: Buffer) => {
    connects.push(req.url ?? '');
    const port = Number((req.url ?? '').replace(/^.*:/, ''));
    const upstream = net.connect(port, '127.0.0.1', () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      upstream.write(head);
      upstream.pipe(client); client.pipe(upstream);
    });
    upstream.on('error', () => client.destroy()); client.on('error', () => upstream.destroy());
  });
  await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
  return {
    port: (proxy.address() as net.AddressInfo).port, connects, requests,
    close: () => { proxy.closeAllConnections(); return new Promise((r) => proxy.close(() => r())); },
  };
}

const PROXY_VARIABLES = ['HTTP_PROXY', 'HTTPS_PROXY', 'NO_PROXY', 'http_proxy', 'https_proxy', 'no_proxy', 'REQUEST_METHOD'];

/** Unsets the proxy environment variables (a test sets its own); returns what was there for restoreEnvironment. */
export function clearProxyEnvironment(): Record<string, string | undefined> {
  const saved: Record<string, string | undefined> = {};
  for (const k of PROXY_VARIABLES) { saved[k] = process.env[k]; delete process.env[k]; }
  return saved;
}

export function restoreEnvironment(saved: Record<string, string | undefined>): void {
  for (const [k, v] of Object.entries(saved)) { if (v === undefined) delete process.env[k]; else process.env[k] = v; }
}
