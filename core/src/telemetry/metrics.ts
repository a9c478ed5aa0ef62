import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Meter } from '@opentelemetry/api';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import { resourceFromAttributes } from '@opentelemetry/resources';

export interface SelfTelemetryOptions {
  /** host:port for the Prometheus endpoint; '' or level none disables it. Port 0 picks a free port. */
  address: string;
  level: 'none' | 'basic' | 'normal' | 'detailed';
  serviceName: string;
  serviceVersion: string;
}

/**
 * The collector's own metrics, built on the OpenTelemetry JS SDK and scraped as Prometheus text
 * at /metrics. One instance lives for the whole process, so counters continue across reloads.
 */
export class SelfTelemetry {
  readonly meter: Meter;
  private readonly provider: MeterProvider;
  private readonly exporter: PrometheusExporter;
  private server?: http.Server;

  constructor(private readonly options: SelfTelemetryOptions) {
    this.exporter = new PrometheusExporter({ preventServerStart: true, withoutScopeInfo: true, withoutTargetInfo: true });
    this.provider = new MeterProvider({
      resource: resourceFromAttributes({ 'service.name': options.serviceName, 'service.version': options.serviceVersion }),
      readers: [this.exporter],
    });
    this.meter = this.provider.getMeter('tapio');
  }

  /** Starts the /metrics endpoint; resolves with the bound address (useful with port 0). */
  async listen(): Promise<string | undefined> {
    if (this.options.level === 'none' || !this.options.address) return undefined;
    const { host, port } = splitHostPort(this.options.address);
    const handler = this.exporter.getMetricsRequestHandler.bind(this.exporter);
    this.server = http.createServer((req, res) => {
      if (req.url === '/metrics' || req.url?.startsWith('/metrics?')) handler(req, res);
      else { res.statusCode = 404; res.end('not found: try /metrics\n'); }
    });
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(port, listenHost(host), () => resolve());
    });
    const addr = this.server.address() as AddressInfo;
    return `${addr.address.includes(':') ? `[${addr.address}]` : addr.address}:${addr.port}`;
  }

  async shutdown(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (server) await new Promise<void>((resolve) => { server.close(() => resolve()); server.closeAllConnections(); });
    await this.provider.shutdown().catch(() => undefined);
  }
}

/** `host:port` or `[v6]:port`; no host (':4317') gives host ''. Pass the host to listen() through listenHost(). */
export function splitHostPort(address: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(address);
  if (!m) throw new Error(`not a host:port address: ${address}`);
  return { host: m[1] ?? m[2] ?? '', port: Number(m[3]) };
}

/**
 * The host to give listen(): none for no host or a wildcard ('', 0.0.0.0, ::), which Node binds
 * to every address of both families where the system has IPv6 — as Go's net.Listen("tcp", ...)
 * does for all three (so `0.0.0.0:4317` takes IPv6 clients in the Collector too).
 */
export function listenHost(host: string): string | undefined {
  return host === '' || host === '0.0.0.0' || host === '::' ? undefined : host;
}
