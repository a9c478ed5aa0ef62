import type { ComponentStatus, Extension, Host } from '../component/types';
import type { Logger } from '../telemetry/logger';

export interface ComponentStatusEntry { status: ComponentStatus; error?: string; since: string }

/** Read by the health_check extension (service name 'tapio.status'). */
export interface StatusSource {
  /** True once every pipeline has started, false while starting, draining or after a failure. */
  ready(): boolean;
  phase(): 'starting' | 'running' | 'draining' | 'stopped' | 'failed';
  components(): Record<string, ComponentStatusEntry>;
}

export const STATUS_SERVICE = 'tapio.status';

export class GraphHost implements Host {
  readonly extensions = new Map<string, Extension>();
  private readonly services = new Map<string, unknown>();
  private readonly serviceWaiters = new Map<string, ((service: unknown) => void)[]>();
  readonly statuses = new Map<string, ComponentStatusEntry>();

  constructor(private readonly logger: Logger, sharedServices?: Map<string, unknown>) {
    if (sharedServices) for (const [k, v] of sharedServices) this.services.set(k, v);
  }

  getExtension<T = Extension>(id: string): T | undefined {
    return this.extensions.get(id) as T | undefined;
  }

  getService<T>(name: string): T | undefined {
    return this.services.get(name) as T | undefined;
  }

  registerService(name: string, service: unknown): void {
    this.services.set(name, service);
    const waiting = this.serviceWaiters.get(name);
    if (waiting) {
      this.serviceWaiters.delete(name);
      for (const use of waiting) use(service);
    }
  }

  onService<T>(name: string, use: (service: T) => void): void {
    const s = this.services.get(name);
    if (s !== undefined) { use(s as T); return; }
    let list = this.serviceWaiters.get(name);
    if (!list) this.serviceWaiters.set(name, (list = []));
    list.push(use as (service: unknown) => void);
  }

  reportStatus(componentId: string, status: ComponentStatus, error?: Error): void {
    const prev = this.statuses.get(componentId);
    if (prev?.status === status && prev.error === error?.message) return;
    this.statuses.set(componentId, { status, error: error?.message, since: new Date().toISOString() });
    if (status === 'recoverable_error' || status === 'permanent_error') {
      this.logger.warn({ component: componentId, status, err: error?.message }, 'component reported an error');
    }
  }
}
