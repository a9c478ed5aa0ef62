/**
 * Hands out event-loop turns: `await nextTurn()` resolves in a later turn, in the order asked;
 * the holder calls `endTurn()` when its synchronous work is done, and the next waiter gets the
 * same turn while TURN_BUDGET_MS last, else the next turn.
 *
 * The receiver decodes each request in such a turn rather than in the I/O callback that
 * completed it. After a pause (a GC, a burst of host steal) Node delivers every request that
 * arrived meanwhile in one I/O phase; decoding them all there kept the batch processor's timer
 * and the exporters' socket writes waiting until the whole backlog was decoded, and the next
 * pause often came first. Bounded turns let timers, reads and writes run in between.
 */
/**
 * A turn keeps granting waiters for this long (about three 500-span decodes), then yields. Measured
 * at 215k spans/s (`node test/bench/otlp.bench.js --only grpc:215000`, interleaved, quiet rounds):
 * decoding each request in the I/O callback (before this): p99 104-375 ms; one decode per turn:
 * 50-190 ms with 30-157 ms waiting for a turn; 2 ms: 45-48 ms with 15-17 ms waiting; 5 ms: 50-53 ms.
 * TAPIO_TURN_BUDGET_MS overrides it, for such measurements.
 */
export const TURN_BUDGET_MS = Number(process.env.TAPIO_TURN_BUDGET_MS ?? 2);

const waiting: (() => void)[] = [];
let head = 0;
/** A turn is scheduled or held: new waiters only queue up. */
let busy = false;
let turnStarted = 0;

function grantNext(): void {
  if (head === waiting.length) { busy = false; return; }
  const next = waiting[head]!;
  waiting[head++] = undefined as never;
  if (head === waiting.length) { waiting.length = 0; head = 0; }
  next();
}

function beginTurn(): void {
  turnStarted = performance.now();
  grantNext();
}

export function nextTurn(): Promise<void> {
  return new Promise((resolve) => {
    waiting.push(resolve);
    if (!busy) { busy = true; setImmediate(beginTurn); }
  });
}

/** The holder of the turn is done with it (call exactly once after each nextTurn()). */
export function endTurn(): void {
  if (head === waiting.length) { busy = false; return; }
  if (performance.now() - turnStarted < TURN_BUDGET_MS) grantNext();
  // from inside a check-phase callback or its microtasks, setImmediate runs in the next turn
  else setImmediate(beginTurn);
}
