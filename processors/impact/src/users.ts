/**
 * Distinct user ids seen within a window. A Map kept in last-seen order (re-inserted on each
 * sighting), so expiry only ever looks at the front. Capped: past the cap the oldest goes.
 */
export class DistinctUsers {
  private readonly lastSeen = new Map<string, number>();

  constructor(private readonly max: number) {}

  see(user: string, timeNs: number): void {
    const prev = this.lastSeen.get(user);
    if (prev !== undefined) {
      if (prev >= timeNs) return; // a late sighting does not move it
      this.lastSeen.delete(user);
    } else if (this.lastSeen.size >= this.max) {
      const oldest = this.lastSeen.keys().next();
      if (!oldest.done) this.lastSeen.delete(oldest.value);
    }
    this.lastSeen.set(user, timeNs);
  }

  /** How many were seen since `sinceNs`; older ones are forgotten. */
  count(sinceNs: number): number {
    for (const [u, t] of this.lastSeen) {
      if (t >= sinceNs) break;
      this.lastSeen.delete(u);
    }
    return this.lastSeen.size;
  }
}
