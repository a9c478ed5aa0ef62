import { createSendingExporter, tlsOptionsSource, parseDuration, PermanentError, resolveClientAuthenticator, RetryableError, type ComponentContext, type Exporter } from '@tapio/core';
import { decodeRetryDelayMs, GRPC_STATUS, GRPC_STATUS_NAME, otlpProfile, SIGNAL_INFO } from '@tapio/receiver-otlp';
import * as dns from 'node:dns';
import { createCompressor } from './compression';
import type { OtlpGrpcExporterConfig } from './config';
import { GrpcCallError, GrpcChannel, splitTarget } from './grpc-channel';
import { proxyFromEnvironment } from './proxy-env';
import { notePartialSuccess, oneSignalPerBatch, preparedRequests, readPartialSuccess, type SignalRequest } from './signals';

/** gRPC codes OTLP says to retry; RESOURCE_EXHAUSTED only when the server sent RetryInfo. */
const RETRYABLE = new Set<number>([GRPC_STATUS.CANCELLED, GRPC_STATUS.DEADLINE_EXCEEDED, GRPC_STATUS.ABORTED, GRPC_STATUS.OUT_OF_RANGE, GRPC_STATUS.UNAVAILABLE, GRPC_STATUS.DATA_LOSS]);

export function createGrpcExporter(ctx: ComponentContext, cfg: OtlpGrpcExporterConfig): Exporter {
  const timeoutMs = parseDuration(cfg.timeout);
  const { target, secure } = parseTarget(cfg.endpoint, cfg.tls?.insecure);
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(cfg.headers ?? {})) headers[k.toLowerCase()] = v;
  let channel: GrpcChannel | undefined;
  // gRPC-Go asks ProxyFromEnvironment about https://<endpoint>, whether or not TLS is used
  const { host: targetHost, port: targetPort } = splitTarget(target, secure);
  const proxy = proxyFromEnvironment({ protocol: 'https:', hostname: targetHost, port: targetPort });

  async function call(ch: GrpcChannel, req: SignalRequest, signal?: AbortSignal): Promise<void> {
    const t0 = otlpProfile.enabled ? process.hrtime.bigint() : 0n;
    let response: Buffer;
    try {
      req.retain();
      response = await ch.unary(SIGNAL_INFO[req.signal].grpcPath, req.body, timeoutMs, signal, req.release);
    } catch (err) {
      throw classify(err);
    } finally {
      if (otlpProfile.enabled) otlpProfile.sendNs += Number(process.hrtime.bigint() - t0);
    }
    const { rejected, message } = readPartialSuccess(response);
    notePartialSuccess(ctx, rejected, message);
  }

  return oneSignalPerBatch(createSendingExporter(ctx, {
    timeoutMs: 0, // the call's deadline is the per-attempt timeout
    retry: cfg.retry_on_failure,
    queue: cfg.sending_queue,
    batcher: cfg.batcher,
    async start(host) {
      const ka = cfg.keepalive;
      const auth = resolveClientAuthenticator(host, cfg.auth, 'auth');
      // NOTE: the Collector refuses this (gRPC per-RPC credentials require transport security);
      // Tapio warns instead, so configs and tests on loopback without certificates keep working
      if (auth && !secure) ctx.logger.warn({ authenticator: cfg.auth?.authenticator, endpoint: cfg.endpoint }, 'auth credentials are sent in plain text (tls.insecure); the OpenTelemetry Collector refuses this configuration');
      const roundRobin = cfg.balancer_name === 'round_robin';
      // as gRPC-Go: the :authority is `authority`, else the TLS server name override (no port), else the endpoint
      const tls = secure ? tlsOptionsSource(cfg.tls, (err) => ctx.logger.warn({ err: err.message }, 'TLS files could not be read again; keeping the previous ones')) : undefined;
      channel = new GrpcChannel({
        target, authority: cfg.authority ?? (secure ? cfg.tls?.server_name_override : undefined), secure, tls, headers, compressor: await createCompressor(cfg.compression), connections: cfg.num_connections,
        roundRobin, waitForReady: cfg.wait_for_ready, proxy,
        callHeaders: auth && (() => auth.requestHeaders()),
        keepalive: ka ? { timeMs: parseDuration(ka.time), timeoutMs: parseDuration(ka.timeout), withoutCalls: ka.permit_without_stream } : undefined,
      });
      if (roundRobin && !proxy) {
        // one connection per backend address at least, as gRPC's round_robin has one per address
        const addrs = await dns.promises.lookup(targetHost, { all: true }).catch(() => []);
        channel.resize(Math.max(cfg.num_connections, addrs.length));
      }
    },
    async shutdown() {
      channel?.close();
      channel = undefined;
    },
    prepare: (batch) => preparedRequests(batch, (r, signal) => {
      const ch = channel;
      if (!ch) throw new RetryableError('exporter not started');
      return call(ch, r, signal);
    }),
  }));
}

function classify(err: unknown): Error {
  if (!(err instanceof GrpcCallError)) return new RetryableError(`OTLP/gRPC export failed: ${(err as Error).message}`);
  const retryAfterMs = err.statusDetails ? decodeRetryDelayMs(err.statusDetails) : undefined;
  const message = `OTLP/gRPC export failed: ${GRPC_STATUS_NAME[err.code] ?? err.code} ${err.details}`;
  if (RETRYABLE.has(err.code) || (err.code === GRPC_STATUS.RESOURCE_EXHAUSTED && retryAfterMs !== undefined)) {
    return new RetryableError(message, { retryAfterMs });
  }
  return new PermanentError(message);
}

/**
 * `host:port`, `http://host:port` (plain text), `https://host:port`, or gRPC's name syntax
 * `dns:///host:port` / `dns://authority/host:port` / `dns:host:port` (the name is resolved by
 * the system either way; a DNS server named as authority is not used).
 */
export function parseTarget(endpoint: string, insecure: boolean | undefined): { target: string; secure: boolean } {
  const m = /^(https?):\/\/([^/]+)\/?$/.exec(endpoint);
  if (m) return { target: m[2]!, secure: insecure === true ? false : m[1] === 'https' };
  const dnsName = /^dns:(?:\/\/[^/]*\/)?(.+)$/.exec(endpoint);
  if (dnsName) endpoint = dnsName[1]!;
  const host = endpoint.replace(/:\d+$/, '');
  const local = host === 'localhost' || host === '127.0.0.1' || host === '[::1]';
  return { target: endpoint, secure: insecure === undefined ? !local : !insecure };
}

