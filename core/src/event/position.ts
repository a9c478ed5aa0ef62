/**
 * Positional event ids: `<stream>#<sequence in base 36>`.
 *
 * A receiver whose source can be read again from a position (filelog: a file's id and the byte
 * offset of the line) gives its events such ids. After a crash it re-sends from its last
 * checkpoint, and those replays carry the same ids as their first delivery. A sink that keeps a
 * delivery ledger (`DeliveryLedger`) remembers the highest sequence it committed per stream and
 * skips replays, which turns at-least-once delivery into exactly-once output.
 *
 * Sequences must grow within a stream, in the order the events are sent.
 */
export const POSITION_SEPARATOR = '#';

export function positionId(stream: string, sequence: number): string {
  return stream + POSITION_SEPARATOR + sequence.toString(36);
}

/** Index of the separator in a positional id, or -1 (then the id is not positional). */
export function positionSeparatorIndex(id: string): number {
  const i = id.lastIndexOf(POSITION_SEPARATOR);
  return i > 0 && i < id.length - 1 ? i : -1;
}

/** The sequence of a positional id whose separator is at `sep`. */
export function sequenceAt(id: string, sep: number): number {
  return parseInt(id.slice(sep + 1), 36);
}

export function parsePositionId(id: string): { stream: string; sequence: number } | undefined {
  const i = positionSeparatorIndex(id);
  if (i < 0) return undefined;
  const sequence = sequenceAt(id, i);
  return Number.isFinite(sequence) ? { stream: id.slice(0, i), sequence } : undefined;
}
