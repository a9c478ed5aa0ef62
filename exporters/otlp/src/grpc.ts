import * as fs from 'node:fs';
import { createSendingExporter, parseDuration, PermanentError, RetryableError, type Batch, type ComponentContext, type Exporter } from '@tapio/core';
import { decodeRetryDelayMs, otlpProfile, SIGNAL_INFO, tlsVersion, traceExported, traceExportStart } from '@tapio/receiver-otlp';
import type { OtlpGrpcExporterConfig } from './config';
import { GrpcCallError, GrpcChannel, STATUS, STATUS_NAME, type ChannelOptions } from './grpc-channel';
import { encodeBatch, notePartialSuccess, readPartialSuccess, type SignalRequest } from './signals';

/** gRPC codes OTLP says to retry; RESOURCE_EXHAUSTED only when the server sent RetryInfo. */
const RETRYABLE = new Set<number>([STATUS.CANCELLED, STATUS.DEADLINE_EXCEEDED, STATUS.ABORTED, STATUS.OUT_OF_RANGE, STATUS.UNAVAILABLE, STATUS.DATA_LOSS]);

export function createGrpcExporter(ctx: ComponentContext, cfg: OtlpGrpcExporterConfig): Exporter {
  const timeoutMs = parseDuration(cfg.timeout);
  const { target, secure } = parseTarget(cfg.endpoint, cfg.tls?.insecure);
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(cfg.headers ?? {})) headers[k.toLowerCase()] = v;
  let channel: GrpcChannel | undefined;

  async function call(ch: GrpcChannel, req: SignalRequest, signal?: AbortSignal): Promise<void> {
    const t0 = otlpProfile.enabled ? process.hrtime.bigint() : 0n;
    let response: Buffer;
    try {
      response = await ch.unary(SIGNAL_INFO[req.signal].grpcPath, req.body, timeoutMs, signal, req.release);
    } catch (err) {
      throw classify(err);
    } finally {
      if (otlpProfile.enabled) otlpProfile.sendNs += Number(process.hrtime.bigint() - t0);
    }
    const { rejected, message } = readPartialSuccess(response);
    notePartialSuccess(ctx, rejected, message);
  }

  return createSendingExporter(ctx, {
    timeoutMs: 0, // the call's deadline is the per-attempt timeout
    retry: cfg.retry_on_failure,
    queue: cfg.sending_queue,
    async start() {
      const ka = cfg.keepalive;
      channel = new GrpcChannel({
        authority: target, secure, tls: secure ? tlsOptions(cfg) : undefined, headers, gzip: cfg.compression === 'gzip', connections: cfg.num_connections,
        keepalive: ka ? { timeMs: parseDuration(ka.time), timeoutMs: parseDuration(ka.timeout), withoutCalls: ka.permit_without_stream } : undefined,
      });
    },
    async shutdown() {
      channel?.close();
      channel = undefined;
    },
    async send(batch: Batch, signal?: AbortSignal) {
      const ch = channel;
      if (!ch) throw new RetryableError('exporter not started');
      const t0 = otlpProfile.enabled ? traceExportStart(batch.events) : 0;
      const reqs = encodeBatch(batch.events);
      await Promise.all(reqs.map((r) => call(ch, r, signal)));
      if (otlpProfile.enabled) { otlpProfile.exported += batch.events.length; traceExported(t0); }
    },
  });
}

function classify(err: unknown): Error {
  if (!(err instanceof GrpcCallError)) return new RetryableError(`OTLP/gRPC export failed: ${(err as Error).message}`);
  const retryAfterMs = err.statusDetails ? decodeRetryDelayMs(err.statusDetails) : undefined;
  const message = `OTLP/gRPC export failed: ${STATUS_NAME[err.code] ?? err.code} ${err.details}`;
  if (RETRYABLE.has(err.code) || (err.code === STATUS.RESOURCE_EXHAUSTED && retryAfterMs !== undefined)) {
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

function tlsOptions(cfg: OtlpGrpcExporterConfig): ChannelOptions['tls'] {
  const t = cfg.tls ?? {};
  const read = (f?: string): Buffer | undefined => (f ? fs.readFileSync(f) : undefined);
  return {
    ca: read(t.ca_file), cert: read(t.cert_file), key: read(t.key_file), rejectUnauthorized: !t.insecure_skip_verify,
    minVersion: tlsVersion(t.min_version), maxVersion: tlsVersion(t.max_version),
  };
}
