import * as fs from 'node:fs';
import type * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import type * as grpc from '@grpc/grpc-js';
import { listenHost, splitHostPort, type ComponentContext, type Extension, type UnifiedEvent } from '@tapio/core';
import { resolveToken, storeOptions, type ApiConfig } from './config';
import { bindGrpc, createGrpcServer } from './grpc';
import { createHttpServer } from './http';
import { ApiService } from './service';

/** What the tapio exporter asks of the extension it names. */
export interface TapioStoreSink {
  ingest(events: UnifiedEvent[]): void;
}

export function isTapioStoreSink(x: unknown): x is TapioStoreSink {
  return typeof x === 'object' && x !== null && typeof (x as TapioStoreSink).ingest === 'function';
}

const EXPIRE_EVERY_MS = 60_000;

export class ApiExtension implements Extension, TapioStoreSink {
  api: ApiService | undefined;
  private httpServer: http.Server | undefined;
  private grpcServer: grpc.Server | undefined;
  private grpcPort = 0;
  private expireTimer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(private readonly ctx: ComponentContext, private readonly config: ApiConfig) {}

  async start(): Promise<void> {
    try {
      await this.open();
    } catch (err) {
      // Whatever did open (the store, one of the servers) must not outlive a failed start.
      await this.shutdown();
      throw err;
    }
  }

  private async open(): Promise<void> {
    const c = this.config;
    const token = resolveToken(c);
    const tls = c.tls ? { cert: fs.readFileSync(c.tls.cert_file), key: fs.readFileSync(c.tls.key_file) } : undefined;
    const api = ApiService.open(storeOptions(c), c.max_page_size, { maxClients: c.streams.max_clients, queueSize: c.streams.client_queue_size }, this.ctx);
    this.api = api;
    const stats = api.store.stats();
    this.ctx.logger.info({ path: c.storage.path, events: stats.events, incidents: stats.incidents }, 'tapio store opened');
    this.ctx.telemetry.gauge('tapio_api_store_events', 'Events in the Tapio store', () => api.store.stats().events);
    this.ctx.telemetry.gauge('tapio_api_stream_clients', 'Connected stream clients', () => api.events.size + api.incidents.size);

    if (c.http) {
      const server = createHttpServer(api, { token, tls, dashboard: c.dashboard.enabled, logger: this.ctx.logger });
      const { host, port } = splitHostPort(c.http.endpoint);
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, listenHost(host), () => { server.off('error', reject); resolve(); });
      });
      server.on('error', (err) => this.ctx.logger.error({ err: err.message }, 'API HTTP server error'));
      this.httpServer = server;
      this.ctx.logger.info({ address: this.httpAddress() }, 'Tapio API (REST, SSE, dashboard) listening');
    }
    if (c.grpc) {
      this.grpcServer = createGrpcServer(api, { token, logger: this.ctx.logger });
      this.grpcPort = await bindGrpc(this.grpcServer, c.grpc.endpoint, tls);
      this.ctx.logger.info({ address: this.grpcAddress() }, 'Tapio API (gRPC) listening');
    }
    this.expireTimer = setInterval(() => {
      try { api.store.expire(Date.now() * 1e6); } catch (err) { this.ctx.logger.warn({ err: (err as Error).message }, 'retention sweep failed'); }
    }, EXPIRE_EVERY_MS);
    this.expireTimer.unref();
  }

  ingest(events: UnifiedEvent[]): void {
    if (!this.api || this.stopped) throw new Error('tapio_api is not running');
    this.api.ingest(events);
  }

  /** `http://host:port` actually bound (port 0 resolved), or undefined. */
  httpAddress(): string | undefined {
    const a = this.httpServer?.address() as AddressInfo | null | undefined;
    if (!a) return undefined;
    const host = a.family === 'IPv6' ? `[${a.address}]` : a.address;
    return `${this.config.tls ? 'https' : 'http'}://${host}:${a.port}`;
  }

  grpcAddress(): string | undefined {
    if (!this.grpcServer || !this.config.grpc) return undefined;
    return `${splitHostPort(this.config.grpc.endpoint).host}:${this.grpcPort}`;
  }

  async shutdown(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    clearInterval(this.expireTimer);
    const http = this.httpServer;
    if (http) await new Promise<void>((resolve) => { http.close(() => resolve()); http.closeAllConnections(); });
    const g = this.grpcServer;
    // Streams never end on their own, so waiting for them (tryShutdown) would only delay the stop.
    g?.forceShutdown();
    this.api?.close();
  }
}
