import type { UnifiedEvent } from '../event/types';
import { positionSeparatorIndex, sequenceAt } from '../event/position';
import type { StorageClient, StorageOp } from '../storage';

const MARK_PREFIX = 'mark/';
const SINK_KEY = 'sink';

/**
 * A sink's record of what it has durably written, for exactly-once output over at-least-once
 * sources (see event/position.ts). Per stream it keeps the highest committed sequence; events
 * at or below it are replays and are skipped. The sink commits its own state (for a file: which
 * file and how many bytes) in the same storage transaction as the new marks, so after a crash
 * the sink can cut away whatever it wrote after the last commit: that part was never
 * acknowledged and its source sends it again.
 *
 * Use: `admit` → write what it returns → `record` → `commit`. Calls must not overlap (the sink
 * serializes them), and each stream must arrive in sequence order: a sending queue in front of
 * the sink must have one consumer.
 */
export class DeliveryLedger {
  /** stream → highest committed sequence; Map order = least recently advanced first. */
  private readonly marks = new Map<string, number>();
  private readonly changed = new Map<string, number>();

  private constructor(private readonly client: StorageClient, private readonly maxStreams: number, readonly sinkState: unknown) {}

  /** Loads the marks and the sink's last committed state. */
  static async open(client: StorageClient, maxStreams = 100_000): Promise<DeliveryLedger> {
    const raw = await client.get(SINK_KEY);
    const ledger = new DeliveryLedger(client, maxStreams, raw ? JSON.parse(Buffer.from(raw).toString('utf8')) : undefined);
    for (const key of await client.keys(MARK_PREFIX)) {
      const v = await client.get(key);
      if (v && v.length === 8) ledger.marks.set(key.slice(MARK_PREFIX.length), Buffer.from(v).readDoubleLE(0));
    }
    return ledger;
  }

  get streams(): number { return this.marks.size; }

  /** The events that are not replays of committed ones (the same array when nothing is skipped). */
  admit(events: UnifiedEvent[]): UnifiedEvent[] {
    let out: UnifiedEvent[] | undefined;
    for (let i = 0; i < events.length; i++) {
      const e = events[i]!;
      const replay = this.isReplay(e.id);
      if (replay && !out) out = events.slice(0, i);
      else if (!replay && out) out.push(e);
    }
    return out ?? events;
  }

  /** Notes the positions of events just written; they become durable with the next commit. */
  record(events: UnifiedEvent[]): void {
    for (let i = 0; i < events.length; i++) {
      const id = events[i]!.id;
      const sep = positionSeparatorIndex(id);
      if (sep < 0) continue;
      const stream = id.slice(0, sep);
      const seq = sequenceAt(id, sep);
      if (!(seq <= (this.changed.get(stream) ?? -1))) this.changed.set(stream, seq);
    }
  }

  /** Makes the recorded marks and the sink's state durable together, in one transaction. */
  async commit(sinkState: unknown): Promise<void> {
    const ops: StorageOp[] = [{ type: 'set', key: SINK_KEY, value: Buffer.from(JSON.stringify(sinkState)) }];
    for (const [stream, seq] of this.changed) {
      const v = Buffer.allocUnsafe(8);
      v.writeDoubleLE(seq, 0);
      ops.push({ type: 'set', key: MARK_PREFIX + stream, value: v });
    }
    // Forget the streams advanced longest ago (files long gone) beyond the cap.
    const evict: string[] = [];
    let added = 0;
    for (const stream of this.changed.keys()) if (!this.marks.has(stream)) added++;
    let excess = this.marks.size + added - this.maxStreams;
    for (const stream of this.marks.keys()) {
      if (excess <= 0) break;
      if (this.changed.has(stream)) continue;
      evict.push(stream);
      ops.push({ type: 'delete', key: MARK_PREFIX + stream });
      excess--;
    }
    await this.client.batch(ops);
    for (const stream of evict) this.marks.delete(stream);
    for (const [stream, seq] of this.changed) { this.marks.delete(stream); this.marks.set(stream, seq); }
    this.changed.clear();
  }

  /** Forgets what `record` noted since the last commit (the write failed). */
  discard(): void { this.changed.clear(); }

  close(): Promise<void> { return this.client.close(); }

  private isReplay(id: string): boolean {
    const sep = positionSeparatorIndex(id);
    if (sep < 0) return false;
    const mark = this.marks.get(id.slice(0, sep));
    return mark !== undefined && sequenceAt(id, sep) <= mark;
  }
}
