import { isPermanent } from '../errors';
import type { RetrySettings } from './settings';

/** One attempt at delivering `payload` (a batch, or what an exporter prepared from one). */
export type SendFn<T> = (payload: T, signal: AbortSignal) => Promise<void>;

/** Why a batch was given up on; used as the `reason` of the drop counter. */
export type GiveUpReason = 'permanent_error' | 'retries_exhausted' | 'shutdown';

export class GiveUp extends Error {
  constructor(readonly reason: GiveUpReason, readonly lastError: unknown, elapsedMs: number) {
    super(`export failed after ${elapsedMs} ms (${reason}): ${(lastError as Error)?.message ?? String(lastError)}`, { cause: lastError });
    this.name = 'GiveUp';
  }
}

export interface RetryHooks {
  /** Called after every failed attempt with its error and the wait before the next one. */
  onFailedAttempt(err: unknown, waitMs: number): void;
  /** The jitter's random source, in [0, 1); Math.random unless a test pins it. */
  random?(): number;
}

/**
 * Sends one payload until it succeeds, a permanent error occurs, retries run out, or `stop`
 * aborts (shutdown deadline). Each attempt gets its own timeout and AbortSignal.
 * Backoff is exponential with jitter around an interval capped at max_interval; a server hint
 * (`retryAfterMs`) lengthens the wait but never beyond the remaining `max_elapsed_time`, as in the
 * Collector's retry sender.
 */
export async function sendWithRetry<T>(send: SendFn<T>, payload: T, retry: RetrySettings, timeoutMs: number, stop: AbortSignal, hooks: RetryHooks): Promise<void> {
  const startedAt = Date.now();
  let interval = retry.initialIntervalMs;
  for (;;) {
    let lastErr: unknown;
    try {
      await attempt(send, payload, timeoutMs, stop);
      return;
    } catch (err) {
      lastErr = err;
    }
    const elapsed = Date.now() - startedAt;
    if (isPermanent(lastErr)) throw new GiveUp('permanent_error', lastErr, elapsed);
    if (stop.aborted) throw new GiveUp('shutdown', lastErr, elapsed);
    if (!retry.enabled) throw new GiveUp('retries_exhausted', lastErr, elapsed);
    const backoff = jitteredWait(interval, retry.randomizationFactor, hooks.random ?? Math.random);
    const hint = (lastErr as { retryAfterMs?: unknown } | undefined)?.retryAfterMs;
    const wait = typeof hint === 'number' && hint > 0 ? Math.max(hint, backoff) : backoff;
    if (retry.maxElapsedMs > 0 && elapsed + wait > retry.maxElapsedMs) throw new GiveUp('retries_exhausted', lastErr, elapsed);
    hooks.onFailedAttempt(lastErr, wait);
    await sleep(wait, stop);
    if (stop.aborted) throw new GiveUp('shutdown', lastErr, Date.now() - startedAt);
    interval = nextInterval(interval, retry);
  }
}

/**
 * A uniform draw from interval × (1 ± randomization_factor), as the Collector's backoff
 * (cenkalti/backoff) does. The jitter goes on top of the already capped interval, never under the
 * cap: clamping the jittered value to max_interval would pin about half the steady-state waits at
 * exactly max_interval, so collectors that failed together would retry in lockstep.
 */
export function jitteredWait(interval: number, randomizationFactor: number, random: () => number): number {
  const rf = Math.min(Math.max(randomizationFactor, 0), 1) || 0;
  return interval * (1 - rf) + random() * 2 * rf * interval;
}

/** A multiplier below 1 shrinks the wait; this floor keeps multiplier 0 from becoming a tight retry loop. */
const MIN_SHRUNK_INTERVAL_MS = 100;

/**
 * The interval after `interval`: times `multiplier` (the Collector allows any multiplier ≥ 0), at
 * most max_interval (the cap bounds this un-jittered interval, as in the Collector), and, when it
 * shrinks, never below min(initial_interval, 100ms, max_interval). Never negative or NaN, whatever
 * the settings.
 */
export function nextInterval(interval: number, retry: RetrySettings): number {
  const m = Number.isFinite(retry.multiplier) && retry.multiplier >= 0 ? retry.multiplier : 1;
  const floor = Math.max(0, Math.min(retry.initialIntervalMs, MIN_SHRUNK_INTERVAL_MS, retry.maxIntervalMs));
  const next = Math.min(interval * m, retry.maxIntervalMs);
  return Number.isFinite(next) ? Math.max(next, floor) : Math.max(retry.maxIntervalMs, floor);
}

/** One attempt: resolves or rejects with send(), or rejects on timeout or on `stop` even if send() ignores its signal. */
async function attempt<T>(send: SendFn<T>, payload: T, timeoutMs: number, stop: AbortSignal): Promise<void> {
  const ac = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  let onStop: (() => void) | undefined;
  const cut = new Promise<never>((_, reject) => {
    const fail = (err: Error): void => { ac.abort(err); reject(err); };
    onStop = () => fail(new Error('exporter is shutting down'));
    stop.addEventListener('abort', onStop, { once: true });
    if (timeoutMs > 0) timer = setTimeout(() => fail(new Error(`send timed out after ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    await Promise.race([send(payload, ac.signal), cut]);
  } finally {
    clearTimeout(timer);
    if (onStop) stop.removeEventListener('abort', onStop);
  }
}

export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = (): void => { clearTimeout(t); signal.removeEventListener('abort', done); resolve(); };
    const t = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}
