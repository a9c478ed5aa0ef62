import { resolveServerAuthenticator, type AuthConfig, type ComponentContext, type Consumer, type Host, type Receiver, type ServerAuthenticator } from '@tapio/core';
import type { GrpcServerConfig, HttpServerConfig, OtlpReceiverConfig } from './config';
import { OtlpGrpcServer } from './grpc';
import { DecodePool } from './decode-pool';
import { ExportHandler } from './handler';
import { OtlpHttpServer } from './http';

export const GRPC_DEFAULTS: GrpcServerConfig = { endpoint: 'localhost:4317', max_recv_msg_size_mib: 4, initial_window_size: 16 * 1024 * 1024 };
export const HTTP_DEFAULTS: HttpServerConfig = {
  endpoint: 'localhost:4318', max_request_body_size: '20MiB', traces_url_path: '/v1/traces', metrics_url_path: '/v1/metrics', logs_url_path: '/v1/logs',
};

/** The otlp receiver: one handler (decode → pipeline) behind a gRPC and/or an HTTP front. */
export class OtlpReceiver implements Receiver {
  readonly handler: ExportHandler;
  readonly grpc: OtlpGrpcServer | undefined;
  readonly http: OtlpHttpServer | undefined;
  /** decode_workers' threads, if any */
  readonly pool: DecodePool | undefined;
  private stopped = false;

  constructor(ctx: ComponentContext, config: OtlpReceiverConfig, next: Consumer) {
    this.pool = DecodePool.create(config.decode_workers ?? 0, ctx.logger);
    this.handler = new ExportHandler(ctx, next, (config.admission?.request_limit_mib ?? 32) * 1024 * 1024, this.pool);
    const p = config.protocols ?? {};
    // `grpc:` with no value in YAML is null: the protocol with its defaults.
    if ('grpc' in p) this.grpc = new OtlpGrpcServer({ ...GRPC_DEFAULTS, ...(p.grpc ?? {}) }, this.handler, ctx.logger);
    if ('http' in p) this.http = new OtlpHttpServer({ ...HTTP_DEFAULTS, ...(p.http ?? {}) }, this.handler, ctx.logger);
  }

  async start(host?: Host): Promise<void> {
    try {
      // extensions start first, so the authenticators are there to be found
      if (this.grpc) this.grpc.authenticator = authenticatorFor(host, this.grpc.cfg.auth, 'protocols.grpc.auth');
      if (this.http) this.http.authenticator = authenticatorFor(host, this.http.cfg.auth, 'protocols.http.auth');
      await this.grpc?.start();
      await this.http?.start();
    } catch (err) {
      await this.shutdown();
      throw err;
    }
  }

  async shutdown(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    await Promise.all([this.grpc?.shutdown(), this.http?.shutdown()]);
    await this.pool?.close();
  }
}

function authenticatorFor(host: Host | undefined, auth: AuthConfig | undefined, where: string): ServerAuthenticator | undefined {
  if (!auth) return undefined;
  // never serve unauthenticated because the caller had no extensions to offer
  if (!host) throw new Error(`${where}: the authenticator needs the collector's extensions (start(host))`);
  return resolveServerAuthenticator(host, auth, where);
}
