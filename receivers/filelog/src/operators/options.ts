import type { OperatorConfig } from '../config';

/** Small typed readers for operator options, so every mistake names the operator and the key. */
export class Options {
  private readonly seen = new Set<string>(['type', 'id']);
  constructor(readonly cfg: OperatorConfig, readonly where: string) {}

  str(key: string, dflt?: string): string | undefined {
    this.seen.add(key);
    const v = this.cfg[key];
    if (v === undefined) return dflt;
    if (typeof v !== 'string') throw new Error(`${this.where}.${key} must be a string`);
    return v;
  }

  bool(key: string, dflt: boolean): boolean {
    this.seen.add(key);
    const v = this.cfg[key];
    if (v === undefined) return dflt;
    if (typeof v !== 'boolean') throw new Error(`${this.where}.${key} must be true or false`);
    return v;
  }

  obj(key: string): Record<string, unknown> | undefined {
    this.seen.add(key);
    const v = this.cfg[key];
    if (v === undefined) return undefined;
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error(`${this.where}.${key} must be a mapping`);
    return v as Record<string, unknown>;
  }

  oneOf<T extends string>(key: string, allowed: readonly T[], dflt: T): T {
    const v = this.str(key, dflt)!;
    if (!allowed.includes(v as T)) throw new Error(`${this.where}.${key} must be one of ${allowed.join(', ')}, not "${v}"`);
    return v as T;
  }

  any(key: string): unknown { this.seen.add(key); return this.cfg[key]; }

  /** Call last: unknown keys are errors, as everywhere else in the config. */
  done(): void {
    for (const k of Object.keys(this.cfg)) if (!this.seen.has(k)) throw new Error(`${this.where}: unknown option "${k}"`);
  }
}
