import { hostname } from 'node:os';
import { ApiError, type KubeApi } from './client';
import { sleep } from './backoff';

export interface LeaderElectionSettings {
  leaseName: string;
  leaseNamespace: string;
  identity: string;
  leaseDurationMs: number;
  renewDeadlineMs: number;
  retryPeriodMs: number;
}

interface Lease {
  apiVersion?: string;
  kind?: string;
  metadata: { name: string; namespace: string; resourceVersion?: string };
  spec: { holderIdentity?: string; leaseDurationSeconds?: number; acquireTime?: string; renewTime?: string; leaseTransitions?: number };
}

export function defaultIdentity(): string { return process.env.POD_NAME || `${hostname()}-${process.pid}`; }

/** MicroTime as the API server stores it. */
function microTime(ms: number): string { return new Date(ms).toISOString().replace('Z', '000Z'); }

/**
 * Leader election through a coordination.k8s.io/v1 Lease (the client-go protocol): acquire when the
 * lease is free or expired, renew every retry period, step down when renewals fail for longer than
 * the renew deadline. Optimistic concurrency (resourceVersion on update) settles races.
 */
export class LeaderElector {
  private leader = false;
  private lastRenewMs = 0;
  private readonly abort = new AbortController();
  private loop?: Promise<void>;

  constructor(private readonly api: KubeApi, private readonly s: LeaderElectionSettings, private readonly onChange: (leader: boolean) => void, private readonly onError: (e: Error) => void) {}

  get isLeader(): boolean { return this.leader; }

  start(): void { this.loop ??= this.run(); }

  async stop(): Promise<void> {
    this.abort.abort();
    await this.loop;
    if (this.leader) {
      // Release so another replica takes over at once instead of after the lease expires.
      try { await this.update((l) => { l.spec.holderIdentity = ''; l.spec.leaseDurationSeconds = 1; }); } catch { /* best effort */ }
      this.set(false);
    }
  }

  private get path(): string { return `/apis/coordination.k8s.io/v1/namespaces/${encodeURIComponent(this.s.leaseNamespace)}/leases`; }

  private async run(): Promise<void> {
    while (!this.abort.signal.aborted) {
      try {
        await this.tryAcquireOrRenew();
      } catch (err) {
        if (!this.abort.signal.aborted) this.onError(err as Error);
      }
      if (this.leader && Date.now() - this.lastRenewMs > this.s.renewDeadlineMs) this.set(false);
      await sleep(this.s.retryPeriodMs, this.abort.signal);
    }
  }

  private async tryAcquireOrRenew(): Promise<void> {
    const now = Date.now();
    let lease: Lease;
    try {
      lease = await this.api.json<Lease>('GET', `${this.path}/${encodeURIComponent(this.s.leaseName)}`);
    } catch (err) {
      if (!(err instanceof ApiError) || err.code !== 404) throw err;
      await this.api.json('POST', this.path, {}, {
        apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: this.s.leaseName, namespace: this.s.leaseNamespace },
        spec: { holderIdentity: this.s.identity, leaseDurationSeconds: Math.ceil(this.s.leaseDurationMs / 1000), acquireTime: microTime(now), renewTime: microTime(now), leaseTransitions: 0 },
      });
      this.renewed(now);
      return;
    }
    const holder = lease.spec.holderIdentity ?? '';
    const renewMs = Date.parse(lease.spec.renewTime ?? '') || 0;
    const expired = renewMs + (lease.spec.leaseDurationSeconds ?? 0) * 1000 < now;
    if (holder !== this.s.identity && holder !== '' && !expired) { this.set(false); return; }
    const transition = holder !== this.s.identity;
    lease.spec = {
      ...lease.spec, holderIdentity: this.s.identity, leaseDurationSeconds: Math.ceil(this.s.leaseDurationMs / 1000), renewTime: microTime(now),
      ...(transition ? { acquireTime: microTime(now), leaseTransitions: (lease.spec.leaseTransitions ?? 0) + 1 } : {}),
    };
    await this.api.json('PUT', `${this.path}/${encodeURIComponent(this.s.leaseName)}`, {}, lease);
    this.renewed(now);
  }

  private async update(change: (l: Lease) => void): Promise<void> {
    const lease = await this.api.json<Lease>('GET', `${this.path}/${encodeURIComponent(this.s.leaseName)}`);
    if (lease.spec.holderIdentity !== this.s.identity) return;
    change(lease);
    await this.api.json('PUT', `${this.path}/${encodeURIComponent(this.s.leaseName)}`, {}, lease);
  }

  private renewed(now: number): void { this.lastRenewMs = now; this.set(true); }

  private set(leader: boolean): void {
    if (leader === this.leader) return;
    this.leader = leader;
    this.onChange(leader);
  }
}
