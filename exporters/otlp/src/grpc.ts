import * as fs from 'node:fs';
import * as grpc from '@grpc/grpc-js';
import { createSendingExporter, parseDuration, PermanentError, RetryableError, type Batch, type ComponentContext, type Exporter } from '@tapio/core';
import { decodeRetryDelayMs, otlpProfile, SIGNAL_INFO, traceExported, traceExportStart } from '@tapio/receiver-otlp';
import type { OtlpGrpcExporterConfig } from './config';
import { encodeBatch, notePartialSuccess, readPartialSuccess, type SignalRequest } from './signals';

const identity = (b: Buffer): Buffer => b;

/** gRPC codes OTLP says to retry; RESOURCE_EXHAUSTED only when the server sent RetryInfo. */
const RETRYABLE = new Set([grpc.status.CANCELLED, grpc.status.DEADLINE_EXCEEDED, grpc.status.ABORTED, grpc.status.OUT_OF_RANGE, grpc.status.UNAVAILABLE, grpc.status.DATA_LOSS]);

export function createGrpcExporter(ctx: ComponentContext, cfg: OtlpGrpcExporterConfig): Exporter {
  const timeoutMs = parseDuration(cfg.timeout);
  const { target, secure } = parseTarget(cfg.endpoint, cfg.tls?.insecure);
  const creds = secure ? clientCredentials(cfg) : grpc.credentials.createInsecure();
  const options: grpc.ChannelOptions = {
    'grpc.max_send_message_length': -1,
    'grpc.max_receive_message_length': 16 * 1024 * 1024,
    'grpc-node.flow_control_window': 4 * 1024 * 1024,
    'grpc.default_compression_algorithm': cfg.compression === 'gzip' ? grpc.compressionAlgorithms.gzip : grpc.compressionAlgorithms.identity,
  };
  const clients: grpc.Client[] = [];
  let next = 0;
  const metadata = new grpc.Metadata();
  for (const [k, v] of Object.entries(cfg.headers ?? {})) metadata.set(k.toLowerCase(), v);

  function call(req: SignalRequest, signal?: AbortSignal): Promise<void> {
    const client = clients[next++ % clients.length]!;
    const t0 = otlpProfile.enabled ? process.hrtime.bigint() : 0n;
    return new Promise<void>((resolve, reject) => {
      const c = client.makeUnaryRequest(SIGNAL_INFO[req.signal].grpcPath, identity, identity, req.body, metadata.clone(), { deadline: timeoutMs ? Date.now() + timeoutMs : Infinity }, (err, res) => {
        // the call ended: grpc-js framed (copied) the body or never will
        req.release();
        if (otlpProfile.enabled) otlpProfile.sendNs += Number(process.hrtime.bigint() - t0);
        if (!err) {
          try {
            const { rejected, message } = readPartialSuccess(res ?? Buffer.alloc(0));
            notePartialSuccess(ctx, rejected, message);
            resolve();
          } catch (e) { reject(e); }
          return;
        }
        reject(classify(err));
      });
      // the helper aborts an attempt that timed out or an exporter that stops
      if (signal) signal.addEventListener('abort', () => c.cancel(), { once: true });
    });
  }

  return createSendingExporter(ctx, {
    timeoutMs: 0, // the gRPC deadline is the per-attempt timeout
    retry: cfg.retry_on_failure,
    queue: cfg.sending_queue,
    async start() {
      for (let i = 0; i < cfg.num_connections; i++) {
        // a distinct channel option keeps grpc-js from sharing one subchannel between clients
        clients.push(new grpc.Client(target, creds, { ...options, 'grpc.tapio_connection': i } as grpc.ChannelOptions));
      }
    },
    async shutdown() {
      for (const c of clients.splice(0)) c.close();
    },
    async send(batch: Batch, signal?: AbortSignal) {
      if (!clients.length) throw new RetryableError('exporter not started');
      const t0 = otlpProfile.enabled ? traceExportStart(batch.events) : 0;
      const reqs = encodeBatch(batch.events);
      await Promise.all(reqs.map((r) => call(r, signal)));
      if (otlpProfile.enabled) { otlpProfile.exported += batch.events.length; traceExported(t0); }
    },
  });
}

function classify(err: grpc.ServiceError): Error {
  const details = err.metadata?.get('grpc-status-details-bin')[0];
  const retryAfterMs = Buffer.isBuffer(details) ? decodeRetryDelayMs(details) : undefined;
  const message = `OTLP/gRPC export failed: ${grpc.status[err.code] ?? err.code} ${err.details}`;
  if (RETRYABLE.has(err.code) || (err.code === grpc.status.RESOURCE_EXHAUSTED && retryAfterMs !== undefined)) {
    return new RetryableError(message, { retryAfterMs });
  }
  return new PermanentError(message);
}

/** `host:port`, `http://host:port` (plain text) or `https://host:port`. */
function parseTarget(endpoint: string, insecure: boolean | undefined): { target: string; secure: boolean } {
  const m = /^(https?):\/\/([^/]+)\/?$/.exec(endpoint);
  if (m) return { target: m[2]!, secure: insecure === true ? false : m[1] === 'https' };
  const host = endpoint.replace(/:\d+$/, '');
  const local = host === 'localhost' || host === '127.0.0.1' || host === '[::1]';
  return { target: endpoint, secure: insecure === undefined ? !local : !insecure };
}

function clientCredentials(cfg: OtlpGrpcExporterConfig): grpc.ChannelCredentials {
  const t = cfg.tls ?? {};
  const read = (f?: string): Buffer | null => (f ? fs.readFileSync(f) : null);
  return grpc.credentials.createSsl(read(t.ca_file), read(t.key_file), read(t.cert_file),
    t.insecure_skip_verify ? { checkServerIdentity: () => undefined } : undefined);
}
