import { createEvent, type UnifiedEvent } from '@tapio/core';
import { slope } from './stats';

export interface EarlyWarningSettings {
  enabled: boolean;
  /** Warn when the projected time to the limit is within this horizon (ms). */
  horizonMs: number;
  /** Points needed before a trend is trusted. */
  minPoints: number;
  /** Points kept per series. */
  maxPoints: number;
  /** Metric names watched for a trend towards a limit. */
  metricPattern: RegExp;
}

interface Series { t: number[]; v: number[]; lastWarn: number }

/**
 * Early warning: a memory or disk usage series that keeps rising is projected to its limit
 * (100 % for utilization / percent metrics, 1 for ratios, or a `*.limit` attribute), and a
 * prediction event is emitted once per horizon before it gets there.
 */
export class TrendWatcher {
  private readonly series = new Map<string, Series>();

  constructor(private readonly s: EarlyWarningSettings) {}

  observe(e: UnifiedEvent, service: string, name: string, unit: string | undefined, value: number, t: number): UnifiedEvent | undefined {
    if (!this.s.enabled || !this.s.metricPattern.test(name)) return undefined;
    const limit = limitOf(e, name, unit, value);
    if (limit === undefined) return undefined;
    const key = service + '|' + name;
    let s = this.series.get(key);
    if (!s) {
      if (this.series.size >= 10_000) return undefined;
      s = { t: [], v: [], lastWarn: -Infinity };
      this.series.set(key, s);
    }
    if (s.t.length && t <= s.t[s.t.length - 1]!) return undefined;
    s.t.push(t); s.v.push(value);
    if (s.t.length > this.s.maxPoints) { s.t.shift(); s.v.shift(); }
    if (s.t.length < this.s.minPoints || t - s.lastWarn < this.s.horizonMs) return undefined;
    const perMs = slope(s.t, s.v);
    if (!(perMs > 0) || value >= limit) return undefined;
    // Only a steady climb counts: most steps must go up.
    let ups = 0;
    for (let i = 1; i < s.v.length; i++) if (s.v[i]! > s.v[i - 1]!) ups++;
    if (ups < 0.7 * (s.v.length - 1)) return undefined;
    const etaMs = (limit - value) / perMs;
    if (etaMs > this.s.horizonMs) return undefined;
    s.lastWarn = t;
    const what = /disk|filesystem|fs\./i.test(name) ? 'disk full' : 'OOM kill';
    const intent = what === 'disk full' ? 'disk_full' : 'oom_kill';
    const minutes = Math.max(1, Math.round(etaMs / 60_000));
    const pod = typeof e.resource['k8s.pod.name'] === 'string' ? e.resource['k8s.pod.name'] : service;
    const narrative = `${what} of ${pod} likely in ~${minutes} min: ${name} at ${round(value)} rising ${round(perMs * 60_000)}/min towards ${round(limit)}`;
    return createEvent({
      kind: 'correlation', source: 'correlation', time: t * 1e6, severity: 'warn',
      resource: { ...e.resource },
      attributes: { 'tapio.prediction': true, 'tapio.prediction.intent': intent, 'tapio.prediction.eta_ms': Math.round(etaMs), 'tapio.prediction.metric': name },
      semantic: { intent: 'memory_pressure', category: what === 'disk full' ? 'storage' : 'resource', tags: ['prediction'], narrative, confidence: 0.6,
        suggestedActions: [what === 'disk full' ? `Free space or grow the volume of ${pod}` : `Raise the memory limit of ${pod} or find what keeps growing`] },
    });
  }
}

function round(v: number): number { return Math.round(v * 100) / 100; }

function limitOf(e: UnifiedEvent, name: string, unit: string | undefined, value: number): number | undefined {
  const explicit = e.attributes[`${name}.limit`] ?? e.resource[`${name}.limit`];
  if (typeof explicit === 'number') return explicit;
  if (unit === '%' || /utilization|percent|pct/i.test(name)) return value <= 1 && unit !== '%' ? 1 : 100;
  if (unit === '1') return 1;
  return undefined;
}
