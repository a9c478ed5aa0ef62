import * as fs from 'node:fs';
import * as grpc from '@grpc/grpc-js';
import { splitHostPort, type Logger } from '@tapio/core';
import { encodePartialSuccess, encodeRpcStatus, SIGNAL_INFO, type OtlpSignal } from './codec/rpc';
import type { GrpcServerConfig } from './config';
import type { ExportHandler } from './handler';

const identity = (b: Buffer): Buffer => b;

/** The three OTLP Export services over gRPC; requests stay raw Buffers until our own decoder reads them. */
export class OtlpGrpcServer {
  private server: grpc.Server | undefined;
  port = 0;

  constructor(private readonly cfg: GrpcServerConfig, private readonly handler: ExportHandler, private readonly logger: Logger) {}

  async start(): Promise<void> {
    const maxBytes = Math.floor(this.cfg.max_recv_msg_size_mib * 1024 * 1024);
    const options: grpc.ServerOptions = {
      'grpc.max_receive_message_length': maxBytes,
      'grpc.max_send_message_length': 4 * 1024 * 1024,
    };
    if (this.cfg.max_concurrent_streams) options['grpc.max_concurrent_streams'] = this.cfg.max_concurrent_streams;
    const server = new grpc.Server(options);
    for (const signal of ['traces', 'metrics', 'logs'] as OtlpSignal[]) {
      const info = SIGNAL_INFO[signal];
      const service: grpc.ServiceDefinition = {
        Export: {
          path: info.grpcPath, requestStream: false, responseStream: false,
          requestSerialize: identity, requestDeserialize: identity, responseSerialize: identity, responseDeserialize: identity,
        },
      };
      server.addService(service, { Export: (call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) => this.export(signal, call, cb) });
    }
    const { host, port } = splitHostPort(this.cfg.endpoint);
    const creds = serverCredentials(this.cfg);
    this.port = await new Promise<number>((resolve, reject) => {
      server.bindAsync(`${host.includes(':') ? `[${host}]` : host}:${port}`, creds, (err, bound) => (err ? reject(err) : resolve(bound)));
    });
    if (this.cfg.initial_window_size) setFlowControlWindows(server, this.cfg.initial_window_size);
    this.server = server;
    this.logger.info({ endpoint: `${host}:${this.port}` }, 'OTLP/gRPC receiver listening');
  }

  private export(signal: OtlpSignal, call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>): void {
    this.handler.export(signal, call.request).then((o) => {
      switch (o.status) {
        case 'ok': cb(null, encodePartialSuccess(o.rejected, o.message)); return;
        case 'invalid': cb({ code: grpc.status.INVALID_ARGUMENT, details: o.message }); return;
        case 'permanent': cb({ code: grpc.status.INVALID_ARGUMENT, details: o.message }); return;
        case 'unavailable': {
          const metadata = new grpc.Metadata();
          metadata.set('grpc-status-details-bin', encodeRpcStatus(grpc.status.UNAVAILABLE, o.message, o.retryAfterMs));
          cb({ code: grpc.status.UNAVAILABLE, details: o.message, metadata });
        }
      }
    }, (err: unknown) => {
      this.logger.error({ err: (err as Error).message }, 'OTLP/gRPC export failed unexpectedly');
      cb({ code: grpc.status.INTERNAL, details: (err as Error).message });
    });
  }

  async shutdown(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    // Let in-flight calls finish (the pipeline is draining behind us), then cut what is left.
    await new Promise<void>((resolve) => {
      const t = setTimeout(() => { server.forceShutdown(); resolve(); }, 5000);
      server.tryShutdown(() => { clearTimeout(t); resolve(); });
    });
  }
}

function serverCredentials(cfg: GrpcServerConfig): grpc.ServerCredentials {
  if (!cfg.tls) return grpc.ServerCredentials.createInsecure();
  const ca = cfg.tls.client_ca_file ? fs.readFileSync(cfg.tls.client_ca_file) : null;
  return grpc.ServerCredentials.createSsl(ca, [{ cert_chain: fs.readFileSync(cfg.tls.cert_file!), private_key: fs.readFileSync(cfg.tls.key_file!) }], ca !== null);
}

/**
 * grpc-js has no server option for the HTTP/2 receive window (it stays at Node's 64 KiB), so
 * `initial_window_size` is applied to each new session of its http2 servers. With 64 KiB a
 * client must wait for a WINDOW_UPDATE every 64 KiB, and each one waits for our (busy) event
 * loop: a 1.7 MB batch from another collector needed ~27 such round trips. Measured in
 * test/bench/otlp.bench.js, a 16 MiB window on the receiving side cut the export leg's p50
 * latency ~5x (505 → 88 ms); for 200 KiB requests it made no measurable difference
 * (test/bench/otlp-grpc-window.js even favoured 64 KiB for bare 200 KiB requests).
 */
function setFlowControlWindows(server: grpc.Server, windowSize: number): void {
  const internals = (server as unknown as { http2Servers?: Map<unknown, unknown> }).http2Servers;
  if (!(internals instanceof Map)) return;
  for (const key of internals.keys()) {
    const h2 = key as { on?: (ev: string, fn: (s: import('node:http2').ServerHttp2Session) => void) => void };
    if (typeof h2?.on !== 'function') continue;
    h2.on('session', (session) => {
      try {
        session.settings({ initialWindowSize: windowSize });
        session.setLocalWindowSize(windowSize);
      } catch {
        // a session that closed before we got to it
      }
    });
  }
}
