import { setMaxListeners } from 'node:events';
import type { Batch } from '../event/types';
import type { ComponentContext, Exporter, Host } from '../component/types';
import { ErrorCodes, isPermanent, PermanentError, RetryableError } from '../errors';
import { isStorageExtension, type StorageClient } from '../storage';
import { batcherAsQueueBatch, queueConfigIssues, queueSettings, retrySettings, type QueueSettings, type RawBatcher, type RawQueue, type RawRetry, type RetrySettings } from './settings';
import { GiveUp, sendWithRetry } from './retry';
import { SendingQueue, type QueueItem, type ResultWaiter } from './queue';
import { QueueBatcher, type DeliveryJob, type Part } from './batcher';

/**
 * What an exporter made of a batch to send it (encoded bytes, say), so that every attempt sends
 * the same thing and the helper can let go of the batch's events before the first attempt.
 */
export interface PreparedBatch {
  /** One attempt; rejects as `send` does. */
  send(signal: AbortSignal): Promise<void>;
  /** Called once after the last attempt ended (delivered or given up on). */
  release(): void;
}

export interface SendingExporterOptions {
  /**
   * Deliver one batch. Reject with RetryableError (may carry retryAfterMs) or PermanentError.
   * `signal` aborts when the attempt timed out or the exporter stops; honour it to free resources.
   * Needed unless `prepare` is given.
   */
  send?(batch: Batch, signal?: AbortSignal): Promise<void>;
  /**
   * Instead of `send`: turn the batch into what is sent, once; the attempts (retries included)
   * send that. The helper drops its references to the events right after, so they do not stay
   * alive while the export waits for its answer (the OTLP exporters: a decoded span holds its
   * whole request buffer, and events alive that long are what made V8 promote those buffers and
   * run mark-compacts). A throw is a permanent failure of that batch (encoding is deterministic).
   */
  prepare?(batch: Batch): PreparedBatch;
  start?(host: Host): Promise<void>;
  shutdown?(): Promise<void>;
  retry?: RawRetry | RetrySettings;
  /** Per-attempt timeout in ms (0: none). */
  timeoutMs?: number;
  /**
   * The `sending_queue` section. Absent or `enabled: false`: consume() awaits delivery (the
   * caller feels the back-pressure directly). Enabled: consume() resolves once the batch is
   * queued (and, with `storage`, persisted); `num_consumers` workers deliver it.
   */
  queue?: RawQueue | QueueSettings;
  /**
   * The exporter-level `batcher` section of Collector v0.110–v0.129 (BATCHER_SCHEMA). When enabled
   * it becomes `sending_queue.batch` (with a warning); with the queue disabled, as the Collector
   * did, an in-memory queue with wait_for_result and block_on_overflow carries the batching.
   */
  batcher?: RawBatcher;
  mutatesData?: boolean;
}

/** The effective queue settings: parsed, checked, with a legacy `batcher` folded in. */
function resolveQueue(ctx: ComponentContext, o: SendingExporterOptions): QueueSettings | undefined {
  let raw = o.queue;
  const legacy = batcherAsQueueBatch(o.batcher);
  if (legacy) {
    const cur: RawQueue | QueueSettings = raw ?? { enabled: false };
    if ('numConsumers' in cur ? cur.batch : (cur as RawQueue).batch) {
      ctx.logger.warn('both `batcher` and `sending_queue.batch` are set: `batcher` (removed in Collector v0.130) is ignored');
    } else {
      ctx.logger.warn('`batcher` was removed in OpenTelemetry Collector v0.130: it is applied as `sending_queue.batch`; move it there');
      const parsed = 'numConsumers' in cur ? cur : queueSettings(cur as RawQueue);
      const batch = queueSettings({ batch: legacy }).batch;
      raw = parsed.enabled ? { ...parsed, batch }
        // No queue: batching still needs one, and the caller keeps waiting for the export (as before).
        : { ...queueSettings({ wait_for_result: true, block_on_overflow: true }), batch };
    }
  }
  if (raw === undefined) return undefined;
  if ('numConsumers' in raw) return raw;
  const issues = queueConfigIssues(raw);
  if (issues.length) throw new Error(issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
  return queueSettings(raw);
}

/**
 * The exporter helper every exporter uses: an optional bounded (optionally persistent)
 * sending queue, per-attempt timeout, retry with exponential backoff and jitter (honouring a
 * server's retry hint), and counting of sent / failed / dropped / refused events.
 * Nothing is dropped silently: permanent errors and exhausted retries are counted as drops,
 * a full queue refuses with a RetryableError (or blocks the caller), and at shutdown an
 * in-memory queue that could not drain in `drain_timeout` counts what it loses, while a
 * persistent queue keeps it for the next start.
 */
export function createSendingExporter(ctx: ComponentContext, o: SendingExporterOptions): Exporter {
  const retry: RetrySettings = 'initialIntervalMs' in (o.retry ?? {}) ? o.retry as RetrySettings : retrySettings(o.retry as RawRetry | undefined);
  const queueCfg = resolveQueue(ctx, o);
  const t = ctx.telemetry;
  const sent = t.counter('tapio_exporter_sent_events', 'Events an exporter delivered');
  const failed = t.counter('tapio_exporter_send_failed_events', 'Events whose delivery attempt failed (they may be retried)');
  const stop = new AbortController();
  // Every concurrent attempt listens on this one signal; many in flight is normal, not a leak.
  setMaxListeners(0, stop.signal);
  const timeoutMs = o.timeoutMs ?? 0;
  let stopping = false;

  const plainSend = o.send;
  if (!o.prepare && !plainSend) throw new Error(`exporter ${ctx.id}: createSendingExporter needs send or prepare`);
  const prepare = o.prepare ?? ((batch: Batch): PreparedBatch => ({ send: (signal) => plainSend!(batch, signal), release() {} }));
  const sendPrepared = (p: PreparedBatch, signal: AbortSignal): Promise<void> => p.send(signal);

  /**
   * Delivers with retries; returns why it gave up, or undefined once delivered. Takes the batch
   * out of the job once prepared: from then on only the prepared form is alive.
   */
  async function attemptDelivery(job: DeliveryJob): Promise<GiveUp | undefined> {
    const n = job.events;
    let prepared: PreparedBatch;
    try {
      prepared = prepare(job.batch!);
    } catch (err) {
      failed(n);
      return new GiveUp('permanent_error', err, 0);
    } finally {
      job.batch = undefined;
    }
    try {
      await sendWithRetry(sendPrepared, prepared, retry, timeoutMs, stop.signal, {
        onFailedAttempt(err, waitMs) {
          failed(n);
          ctx.logger.debug({ err: (err as Error).message, waitMs: Math.round(waitMs) }, 'export failed; retrying');
        },
      });
      sent(n);
      return undefined;
    } catch (err) {
      failed(n);
      return err instanceof GiveUp ? err : new GiveUp('retries_exhausted', err, 0);
    } finally {
      prepared.release();
    }
  }

  function countDrop(n: number, g: GiveUp): void {
    t.dropped(n, g.reason);
    ctx.logger.warn({ err: (g.lastError as Error)?.message, events: n, reason: g.reason }, 'dropping data that could not be exported');
  }

  /** What the caller of consume() is told when the data was given up on: it will not heal by sending again. */
  function givenUpError(g: GiveUp): unknown {
    return isPermanent(g.lastError) ? g.lastError : new PermanentError(g.message, { cause: g.lastError });
  }

  async function deliver(batch: Batch): Promise<void> {
    const n = batch.events.length;
    const g = await attemptDelivery({ batch, events: n });
    if (!g) return;
    countDrop(n, g);
    throw givenUpError(g);
  }

  /** Tells a wait_for_result caller how the export of its data ended (as consume() without a queue would). */
  function settleWaiter(w: ResultWaiter | undefined, g: GiveUp | undefined): void {
    if (!w) return;
    if (!g) w.resolve();
    else if (g.reason === 'shutdown') w.reject(new RetryableError('exporter is shutting down before the data was exported', { code: ErrorCodes.SHUTTING_DOWN, cause: g.lastError }));
    else w.reject(givenUpError(g));
  }

  if (!queueCfg?.enabled) {
    if (queueCfg?.storage) ctx.logger.warn({ storage: queueCfg.storage }, 'sending_queue.storage is set but the queue is disabled: nothing is persisted');
    return {
      capabilities: { mutatesData: o.mutatesData ?? false },
      start: async (host) => { await o.start?.(host); },
      async shutdown() {
        if (stopping) return;
        stopping = true;
        stop.abort();
        await o.shutdown?.();
      },
      consume: deliver,
    };
  }

  const q = queueCfg;
  let queue: SendingQueue | undefined;
  let client: StorageClient | undefined;
  let workers: Promise<void>[] = [];
  const refused = t.counter('tapio_exporter_enqueue_failed_events', 'Events the sending queue refused because it was full');
  const redelivered = t.counter('tapio_exporter_queue_redelivered_events', 'Events delivered again after a restart (at-least-once)');
  t.gauge('tapio_exporter_queue_size', `Amount in the sending queue (sizer: ${q.sizer})`, () => queue?.usedSize ?? 0);
  t.gauge('tapio_exporter_queue_capacity', `Capacity of the sending queue (sizer: ${q.sizer})`, () => q.queueSize);

  async function work(): Promise<void> {
    for (;;) {
      const item = await queue!.take();
      if (!item) return;
      // no local holds the batch: attemptDelivery takes it out of the job once prepared
      const job = await loadJob(item);
      if (!job) continue;
      item.parts = 1;
      await exportBatch(job, [{ item, events: job.events }]);
    }
  }

  async function loadJob(item: QueueItem): Promise<DeliveryJob | undefined> {
    const batch = await load(item);
    return batch && { batch, events: batch.events.length };
  }

  /**
   * The item's batch; undefined (and the item settled) when there is nothing deliverable. The
   * item lets go of it (a taken item needs only its key and counts from here on).
   */
  async function load(item: QueueItem): Promise<Batch | undefined> {
    let batch: Batch | undefined;
    try {
      batch = await queue!.load(item);
      item.batch = undefined;
    } catch (err) {
      // A record that cannot be decoded can never be delivered: count it and remove it.
      t.dropped(1, 'corrupt_queue_record');
      ctx.logger.error({ err: (err as Error).message, key: item.key }, 'dropping an unreadable persisted batch');
      await forget(item);
      return undefined;
    }
    if (!batch) { await forget(item); item.waiter?.resolve(); }
    return batch;
  }

  /** Delivers a batch made of (pieces of) queued items and settles each piece. Never rejects. */
  async function exportBatch(job: DeliveryJob, parts: Part[]): Promise<void> {
    // Past the shutdown deadline nothing is sent any more (a batcher may still flush what it held).
    const g = stop.signal.aborted ? new GiveUp('shutdown', new Error('exporter is shutting down'), 0) : await attemptDelivery(job);
    // Cut short by the shutdown deadline: a persisted item stays for the next start, uncounted.
    if (g && !(g.reason === 'shutdown' && queue!.persistent)) countDrop(job.events, g);
    if (parts.length === 1) { await settlePart(parts[0]!, g); return; }
    await Promise.all(parts.map((p) => settlePart(p, g)));
  }

  async function settlePart(p: Part, g: GiveUp | undefined): Promise<void> {
    const item = p.item;
    if (!g && item.recovered) redelivered(p.events);
    // A piece kept in storage by the shutdown deadline keeps the whole item there (redelivered whole: at-least-once).
    if (g && (item.failure === undefined || g.reason === 'shutdown')) item.failure = g;
    if (--item.parts > 0) return;
    const failure = item.failure as GiveUp | undefined;
    if (!(failure?.reason === 'shutdown' && queue!.persistent)) await forget(item);
    settleWaiter(item.waiter, failure);
  }

  async function forget(item: QueueItem): Promise<void> {
    try { await queue!.done(item); } catch (err) {
      ctx.logger.warn({ err: (err as Error).message, key: item.key }, 'could not remove a delivered batch from storage; it will be delivered again');
    }
  }

  return {
    capabilities: { mutatesData: o.mutatesData ?? false },
    async start(host) {
      if (q.storage) {
        const ext = host.getExtension(q.storage);
        if (!ext) throw new Error(`sending_queue.storage: no extension "${q.storage}" is configured in service.extensions`);
        if (!isStorageExtension(ext)) throw new Error(`sending_queue.storage: extension "${q.storage}" is not a storage extension`);
        client = await ext.getClient('exporter', ctx.id, 'sending_queue');
      }
      queue = new SendingQueue(q.queueSize, q.blocking, q.sizer, client, q.sizer === 'bytes' || q.batch?.sizer === 'bytes');
      const recovered = await queue.recover();
      if (recovered) ctx.logger.info({ batches: recovered }, 'recovered persisted batches; delivering them again');
      await o.start?.(host);
      if (q.batch) {
        const batcher = new QueueBatcher(queue, q.batch, q.numConsumers, { load, exportBatch, settlePart: (item) => settlePart({ item, events: 0 }, undefined) });
        workers = [batcher.run()];
      } else {
        workers = Array.from({ length: q.numConsumers }, () => work());
      }
    },
    async shutdown() {
      if (stopping) return;
      stopping = true;
      if (queue) {
        queue.close();
        const all = Promise.all(workers);
        let timer: NodeJS.Timeout | undefined;
        const deadline = new Promise<'timeout'>((resolve) => { timer = setTimeout(() => resolve('timeout'), q.drainTimeoutMs); });
        const outcome = await Promise.race([all.then(() => 'drained' as const), deadline]);
        clearTimeout(timer);
        if (outcome === 'timeout') {
          stop.abort();
          const rest = queue.drainRemaining();
          for (const item of rest) settleWaiter(item.waiter, new GiveUp('shutdown', new Error('exporter is shutting down'), 0));
          await all;
          if (queue.persistent) {
            ctx.logger.warn({ batches: rest.length + queue.size }, 'shutdown: undelivered batches stay in storage for the next start');
          } else {
            let events = 0;
            for (const item of rest) events += item.batch?.events.length ?? 0;
            t.dropped(events, 'shutdown');
            if (events) ctx.logger.warn({ events }, 'shutdown: dropping queued events that could not be delivered in drain_timeout');
          }
        }
      }
      stop.abort();
      await o.shutdown?.();
      await client?.close();
    },
    async consume(batch) {
      if (!queue || stopping) {
        refused(batch.events.length);
        throw new RetryableError(queue ? 'exporter is shutting down' : 'exporter not started', { code: ErrorCodes.SHUTTING_DOWN });
      }
      let result: Promise<void> | undefined;
      let waiter: ResultWaiter | undefined;
      // wait_for_result: one promise per request, settled by settlePart once all of it is exported.
      if (q.waitForResult) result = new Promise<void>((resolve, reject) => { waiter = { resolve, reject }; });
      try {
        await queue.put(batch, waiter);
      } catch (err) {
        refused(batch.events.length);
        throw err;
      }
      if (result) await result;
    },
  };
}
