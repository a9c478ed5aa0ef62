import { isPermanent, isRetryable, nowNanos, type ComponentContext, type Consumer } from '@tapio/core';
import { decodeLogs, decodeMetrics, decodeTraces, type DecodeResult } from './codec/decode';
import { MalformedError } from './codec/reader';
import type { OtlpSignal } from './codec/rpc';
import { DecodeWorkerError, type DecodePool } from './decode-pool';
import { cpuMicros, otlpProfile, SAMPLE_EVERY, traceDecoded, traceTurnWait, wallMs } from './profile';
import { endTurn, nextTurn } from './turns';

/** What became of one export request; the gRPC and HTTP fronts map it to their status codes. */
export type Outcome =
  | { status: 'ok'; rejected: number; message: string }
  /** malformed input: INVALID_ARGUMENT / 400 */
  | { status: 'invalid'; message: string }
  | { status: 'unavailable'; message: string; retryAfterMs: number }
  /** the pipeline refused valid data for good (PermanentError): INTERNAL / 500, not the client's fault */
  | { status: 'permanent'; message: string };

const DECODERS: Record<OtlpSignal, (buf: Buffer, source: string, observed: number) => DecodeResult> = {
  traces: decodeTraces, metrics: decodeMetrics, logs: decodeLogs,
};

/** A request's headers as client metadata (Batch.metadata): lower-case names → values. */
export type ClientMetadata = Readonly<Record<string, readonly string[]>>;

/**
 * Client metadata from request headers (node:http / node:http2, names already lower case):
 * every header but HTTP/2 pseudo-headers, as the Collector's include_metadata.
 */
export function clientMetadata(headers: Readonly<Record<string, string | string[] | undefined>>): ClientMetadata {
  const out: Record<string, readonly string[]> = {};
  for (const name of Object.keys(headers)) {
    const v = headers[name];
    if (v === undefined || name.charCodeAt(0) === 58 /* ':' */) continue;
    out[name] = Array.isArray(v) ? v : [v];
  }
  return out;
}

/** Default client back-off when the pipeline refuses data without saying for how long. */
export const DEFAULT_RETRY_AFTER_MS = 1000;

/** Retry hint for a request refused at admission: the pipeline is busy, come back soon. */
export const ADMISSION_RETRY_AFTER_MS = 1000;

/**
 * Decodes a protobuf Export*ServiceRequest and hands the events to the pipeline.
 *
 * Admission: request bytes being decoded or waiting on the pipeline are counted, and past
 * `requestLimitBytes` a request is refused before it is decoded. Without it, a blocking pipeline
 * under overload keeps accepting and decoding requests that then wait, so memory and latency
 * grow until something breaks; refused clients retry (OTLP's UNAVAILABLE / 503).
 */
export class ExportHandler {
  private readonly profiling = otlpProfile.enabled;
  private inflightBytes = 0;
  private readonly refusals: (n: number) => void;

  constructor(private readonly ctx: ComponentContext, private readonly next: Consumer, private readonly requestLimitBytes = Infinity,
    /** decode_workers: trace requests are checked there (see DecodePool) */
    private readonly pool?: DecodePool) {
    this.refusals = ctx.telemetry.counter('tapio_receiver_otlp_admission_refused_requests', 'Requests refused before decoding because admission.request_limit_mib was reached');
    ctx.telemetry.gauge('tapio_receiver_otlp_inflight_bytes', 'Request bytes being decoded or waiting on the pipeline', () => this.inflightBytes);
  }

  /** Request bytes being decoded or waiting on the pipeline right now. */
  get inflight(): number { return this.inflightBytes; }

  /**
   * Admission for a request whose size is known before its body is read (gRPC's length prefix):
   * reserves `bytes` of the limit, or refuses (counted) so the caller can answer UNAVAILABLE
   * without buffering the body. A reservation is handed to export() or given back (unreserve).
   * `held`: bytes the asking request has reserved already, which do not make it "not alone".
   */
  reserve(bytes: number, held = 0): boolean {
    if (!this.admits(bytes, held)) { this.refusals(1); return false; }
    this.inflightBytes += bytes;
    return true;
  }

  unreserve(bytes: number): void {
    this.inflightBytes -= bytes;
  }

  /** The answer to a request refused at admission. */
  busy(): Outcome {
    return { status: 'unavailable', message: `receiver busy: ${Math.round(this.inflightBytes / 1048576)} MiB of requests in flight (admission.request_limit_mib)`, retryAfterMs: ADMISSION_RETRY_AFTER_MS };
  }

  /** One request alone is always admitted, however large (the size limits apply to it instead). */
  private admits(bytes: number, held: number): boolean {
    return this.inflightBytes - held === 0 || this.inflightBytes + bytes <= this.requestLimitBytes;
  }

  /**
   * `owned`: the caller gives `body` away (nothing reads it afterwards), so a decode worker may
   * take it without a copy. `reserved`: bytes this request reserved already (reserve(), from its
   * size on the wire); they count until it is done instead of the body's own size, unless the
   * body inflated to more: then the difference must be admitted too, or the request is refused.
   */
  async export(signal: OtlpSignal, body: Buffer, owned = false, reserved = 0, metadata?: ClientMetadata): Promise<Outcome> {
    if (!reserved) {
      if (!this.reserve(body.length)) return this.busy();
      reserved = body.length; // taken now: a body moved to a decode worker reads as empty afterwards
    }
    try {
      const extra = body.length - reserved;
      if (extra > 0) {
        if (!this.reserve(extra, reserved)) return this.busy();
        reserved = body.length;
      }
      return await this.decodeAndConsume(signal, body, owned, metadata);
    } finally {
      this.unreserve(reserved);
    }
  }

  private async decodeAndConsume(signal: OtlpSignal, body: Buffer, owned: boolean, metadata: ClientMetadata | undefined): Promise<Outcome> {
    const inWorker = signal === 'traces' && this.pool !== undefined && this.pool.usable;
    if (inWorker) return this.decodeAndConsumeHeld(signal, body, owned, metadata, true, undefined);
    // On the main thread the decode and the hand-over run in a decode turn (see turns.ts). The
    // turn is given back once the pipeline has the events, or on any way out: a turn never given
    // back would stop every later decode.
    const asked = this.profiling ? wallMs() : 0;
    await nextTurn();
    if (this.profiling) traceTurnWait(wallMs() - asked);
    const turn = { held: true };
    try {
      return await this.decodeAndConsumeHeld(signal, body, owned, metadata, false, turn);
    } finally {
      if (turn.held) endTurn();
    }
  }

  /** `turn`: the decode turn this request holds; released as soon as the pipeline was handed the events. */
  private async decodeAndConsumeHeld(signal: OtlpSignal, body: Buffer, owned: boolean, metadata: ClientMetadata | undefined, inWorker: boolean, turn: { held: boolean } | undefined): Promise<Outcome> {
    let decoded: DecodeResult;
    const t0 = this.profiling ? process.hrtime.bigint() : 0n;
    // the pool notes its own (main-thread) decode time; process CPU would count the workers too
    const sampled = this.profiling && !inWorker && otlpProfile.requests % SAMPLE_EVERY === 0;
    const c0 = sampled ? cpuMicros() : 0;
    try {
      decoded = inWorker ? await this.pool!.decodeTraces(body, owned, this.ctx.id, nowNanos()) : DECODERS[signal](body, this.ctx.id, nowNanos());
    } catch (err) {
      if (err instanceof MalformedError || err instanceof RangeError) return { status: 'invalid', message: err.message };
      if (err instanceof DecodeWorkerError) return { status: 'unavailable', message: err.message, retryAfterMs: DEFAULT_RETRY_AFTER_MS };
      throw err;
    }
    if (decoded.rejected) this.ctx.telemetry.dropped(decoded.rejected, 'invalid_otlp');
    const t1 = this.profiling ? process.hrtime.bigint() : 0n;
    if (this.profiling && decoded.events.length) traceDecoded(decoded.events[0]!);
    if (sampled) {
      otlpProfile.decodeCpuUs += cpuMicros() - c0;
      otlpProfile.decodeSampledEvents += decoded.events.length;
    }
    try {
      // the pipeline's synchronous part (batching; an export's encoding) still belongs to the turn
      const consumed = decoded.events.length ? this.next.consume(metadata ? { events: decoded.events, metadata } : { events: decoded.events }) : undefined;
      if (turn?.held) { turn.held = false; endTurn(); }
      await consumed;
    } catch (err) {
      const message = (err as Error).message ?? String(err);
      if (isPermanent(err)) return { status: 'permanent', message };
      const hint = isRetryable(err) ? (err as { retryAfterMs?: number }).retryAfterMs : undefined;
      return { status: 'unavailable', message, retryAfterMs: hint ?? DEFAULT_RETRY_AFTER_MS };
    } finally {
      if (this.profiling) {
        const t2 = process.hrtime.bigint();
        otlpProfile.decodeNs += Number(t1 - t0);
        otlpProfile.pipelineNs += Number(t2 - t1);
        otlpProfile.requests++;
        otlpProfile.events += decoded.events.length;
      }
    }
    return { status: 'ok', rejected: decoded.rejected, message: decoded.errorMessage };
  }
}
