import type { Batch } from '../event/types';
import type { ComponentContext, Exporter, Host } from '../component/types';
import { isPermanent, PermanentError } from '../errors';
import { retrySettings, type RawRetry, type RetrySettings } from './settings';

export interface SendingExporterOptions {
  /** Deliver one batch. Reject with RetryableError (may carry retryAfterMs) or PermanentError. */
  send(batch: Batch): Promise<void>;
  start?(host: Host): Promise<void>;
  shutdown?(): Promise<void>;
  retry?: RawRetry | RetrySettings;
  /** Per-attempt timeout in ms (0: none). */
  timeoutMs?: number;
  mutatesData?: boolean;
}

/**
 * The exporter helper every exporter uses: per-attempt timeout, retry with exponential backoff
 * and jitter (honouring a server's retry hint), and counting of sent / failed / dropped events.
 * Permanent errors are dropped and counted, never retried.
 *
 * TODO(issue 3): the sending queue (in-memory and persistent via file_storage) sits in front of
 * this; until then consume() awaits delivery, which is itself back-pressure.
 */
export function createSendingExporter(ctx: ComponentContext, o: SendingExporterOptions): Exporter {
  const retry: RetrySettings = 'initialIntervalMs' in (o.retry ?? {}) ? o.retry as RetrySettings : retrySettings(o.retry as RawRetry | undefined);
  const sent = ctx.telemetry.counter('tapio_exporter_sent_events', 'Events an exporter delivered');
  const failed = ctx.telemetry.counter('tapio_exporter_send_failed_events', 'Events whose delivery attempt failed (they may be retried)');
  let stopping = false;
  const abort = new AbortController();

  async function attempt(batch: Batch): Promise<void> {
    if (!o.timeoutMs) return o.send(batch);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`send timed out after ${o.timeoutMs} ms`)), o.timeoutMs);
    });
    try { await Promise.race([o.send(batch), timeout]); } finally { clearTimeout(timer); }
  }

  return {
    capabilities: { mutatesData: o.mutatesData ?? false },
    start: async (host) => { await o.start?.(host); },
    async shutdown() {
      if (stopping) return;
      stopping = true;
      abort.abort();
      await o.shutdown?.();
    },
    async consume(batch: Batch): Promise<void> {
      const n = batch.events.length;
      const startedAt = Date.now();
      let interval = retry.initialIntervalMs;
      for (;;) {
        try {
          await attempt(batch);
          sent(n);
          return;
        } catch (err) {
          failed(n);
          const elapsed = Date.now() - startedAt;
          const giveUp = isPermanent(err) || !retry.enabled || stopping || (retry.maxElapsedMs > 0 && elapsed >= retry.maxElapsedMs);
          if (giveUp) {
            const reason = isPermanent(err) ? 'permanent_error' : 'retries_exhausted';
            ctx.telemetry.dropped(n, reason);
            ctx.logger.warn({ err: (err as Error).message, events: n, reason }, 'dropping data that could not be exported');
            throw isPermanent(err) ? err : new PermanentError(`export failed after ${elapsed} ms: ${(err as Error).message}`, { cause: err });
          }
          const hint = (err as { retryAfterMs?: number }).retryAfterMs;
          const jitter = 1 + retry.randomizationFactor * (Math.random() * 2 - 1);
          const wait = Math.min(hint ?? interval * jitter, retry.maxIntervalMs);
          ctx.logger.debug({ err: (err as Error).message, waitMs: Math.round(wait) }, 'export failed; retrying');
          await sleep(wait, abort.signal);
          interval = Math.min(interval * retry.multiplier, retry.maxIntervalMs);
        }
      }
    },
  };
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const t = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => { clearTimeout(t); resolve(); }, { once: true });
  });
}
