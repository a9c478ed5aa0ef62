import { PermanentError, type Batch, type ComponentContext, type Exporter, type PreparedBatch, type UnifiedEvent } from '@tapio/core';
import { cpuMicros, SAMPLE_EVERY, traceExported, traceExportStart, encodeLogs, encodeMetrics, encodeTraces, otlpProfile, Reader, splitBySignal, Writer, type OtlpSignal } from '@tapio/receiver-otlp';

/**
 * One request to send: the signal, its protobuf body and how many events it carries. `body` is
 * a view of a pooled writer's buffer, sent again as it is by every retry. Its holders count:
 * the encoder's caller holds it from the start, each transport that reads it calls `retain()`
 * first and `release()` once it is done with it (the call ended, or the body was compressed into
 * another buffer), and the buffer goes back to the pool when the last holder let go.
 */
export interface SignalRequest {
  signal: OtlpSignal;
  body: Buffer;
  events: number;
  retain(): void;
  release(): void;
}

/**
 * Writers whose buffers exports are encoded into and sent from, so an export allocates no new
 * request buffer: each one was a large external allocation (up to MBs), and at 200k spans/s
 * those allocations, not the JS heap, set how often V8 collects garbage (`--trace-gc`:
 * "external memory pressure"). A writer that grew past MAX_POOLED_BYTES is let go.
 */
const pool: Writer[] = [];
const MAX_POOLED = 16;
const MAX_POOLED_BYTES = 16 * 1024 * 1024;

function pooledRequest(signal: OtlpSignal, events: UnifiedEvent[], encode: (e: UnifiedEvent[], w: Writer) => Buffer): SignalRequest {
  const w = pool.pop() ?? new Writer(256 * 1024); // the encoders reset it
  let holders = 1;
  return {
    signal, events: events.length, body: encode(events, w),
    retain() { holders++; },
    release() {
      if (--holders !== 0) return;
      if (pool.length < MAX_POOLED && w.buf.length <= MAX_POOLED_BYTES) pool.push(w);
    },
  };
}

let encodeCalls = 0;

const ENCODERS = { traces: encodeTraces, logs: encodeLogs, metrics: encodeMetrics };

/** Splits a batch by OTLP signal and encodes each part (spans → traces, metric points → metrics, the rest → logs). */
export function encodeBatch(events: UnifiedEvent[]): SignalRequest[] {
  const t0 = otlpProfile.enabled ? process.hrtime.bigint() : 0n;
  const sampled = otlpProfile.enabled && (encodeCalls++ % SAMPLE_EVERY) === 0;
  const c0 = sampled ? cpuMicros() : 0;
  const { spans, logs, metrics } = splitBySignal(events);
  const out: SignalRequest[] = [];
  if (spans.length) out.push(pooledRequest('traces', spans, ENCODERS.traces));
  if (metrics.length) out.push(pooledRequest('metrics', metrics, ENCODERS.metrics));
  if (logs.length) out.push(pooledRequest('logs', logs, ENCODERS.logs));
  if (otlpProfile.enabled) {
    otlpProfile.encodeNs += Number(process.hrtime.bigint() - t0);
    if (sampled) {
      otlpProfile.encodeCpuUs += cpuMicros() - c0;
      otlpProfile.encodeSampledEvents += events.length;
    }
  }
  return out;
}

/**
 * A batch encoded once for the exporter helper (see PreparedBatch): every attempt sends the same
 * request bodies with `sendOne`, and the events are not needed any more once this returns.
 */
export function preparedRequests(batch: Batch, sendOne: (req: SignalRequest, signal: AbortSignal) => Promise<void>): PreparedBatch {
  const t0 = otlpProfile.enabled ? traceExportStart(batch.events) : 0;
  const events = batch.events.length;
  const reqs = encodeBatch(batch.events);
  return {
    async send(signal) {
      await Promise.all(reqs.map((r) => sendOne(r, signal)));
      if (otlpProfile.enabled) { otlpProfile.exported += events; traceExported(t0); }
    },
    release() { for (const r of reqs) r.release(); },
  };
}

/** Counts what the server rejected in a partial-success answer (data is not retried, per OTLP). */
export function notePartialSuccess(ctx: ComponentContext, rejected: number, message: string): void {
  if (rejected <= 0 && !message) return;
  if (rejected > 0) ctx.telemetry.dropped(rejected, 'rejected_by_server');
  ctx.logger.warn({ rejected, message }, 'OTLP server accepted the export partially');
}

/** Reads rejected count and message from an Export*ServiceResponse. */
export function readPartialSuccess(body: Buffer): { rejected: number; message: string } {
  let rejected = 0;
  let message = '';
  if (!body.length) return { rejected, message };
  try {
    // field 1: partial_success { 1: int64 rejected, 2: string error_message }
    const r = new Reader(body);
    while (r.pos < r.end) {
      const tag = r.uint32();
      if (tag !== 10) { r.skip(tag & 7); continue; }
      const end = r.len();
      while (r.pos < end) {
        const t = r.uint32();
        if (t === 8) rejected = Number(r.int64());
        else if (t === 18) message = r.string();
        else r.skip(t & 7);
      }
    }
  } catch (err) {
    throw new PermanentError(`unreadable OTLP response: ${(err as Error).message}`);
  }
  return { rejected, message };
}

/**
 * Makes the exporter queue, retry and count each OTLP signal of a mixed batch (an `events`
 * pipeline carries spans, logs and metrics together) on its own: sent as one, a backend that
 * refused only the logs had the spans it accepted sent again with every retry, and a permanent
 * refusal of one signal counted the delivered ones as dropped. The Collector's pipelines carry
 * one signal each, so its exporters never see a mixed batch.
 */
export function oneSignalPerBatch(exporter: Exporter): Exporter {
  const consume = exporter.consume.bind(exporter);
  exporter.consume = (batch: Batch): Promise<void> => {
    const { spans, logs, metrics } = splitBySignal(batch.events);
    if (spans.length === batch.events.length || logs.length === batch.events.length || metrics.length === batch.events.length) return consume(batch);
    const parts = [spans, metrics, logs].filter((events) => events.length > 0);
    return Promise.allSettled(parts.map((events) => consume(batch.metadata ? { events, metadata: batch.metadata } : { events }))).then((results) => {
      const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed) throw failed.reason;
    });
  };
  return exporter;
}
