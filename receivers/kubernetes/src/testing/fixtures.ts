import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { parse } from 'yaml';
import type { KubeObject } from '../kinds';

/** `/work/shared/datasets/k8s-objects` seen from the repo (`<repo>/../shared/datasets/k8s-objects`). */
export function k8sObjectsDir(): string {
  // dist/src/testing → repo root is five levels up.
  return process.env.TAPIO_K8S_OBJECTS ?? path.resolve(__dirname, '../../../../..', '../shared/datasets/k8s-objects');
}

export function hasK8sObjects(): boolean { return existsSync(path.join(k8sObjectsDir(), 'Pod')); }

const PLACEHOLDER = /^@now(?:-(\d+)([smhd]))?$/;
const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Replaces the dataset's `"@now"`, `"@now-5m"` … placeholders with RFC 3339 times relative to `nowMs`. */
export function substituteNow<T>(value: T, nowMs: number): T {
  if (typeof value === 'string') {
    const m = PLACEHOLDER.exec(value);
    if (!m) return value;
    const back = m[1] ? Number(m[1]) * UNIT_MS[m[2]] : 0;
    return new Date(nowMs - back).toISOString().replace(/\.\d+Z$/, 'Z') as T;
  }
  if (Array.isArray(value)) return value.map((v) => substituteNow(v, nowMs)) as T;
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = substituteNow(v, nowMs);
    return out as T;
  }
  return value;
}

/** One recorded object, e.g. `loadFixture('Pod/crashloopbackoff.yaml')`, timestamps made JSON strings. */
export function loadFixture(relPath: string, nowMs = Date.now()): KubeObject {
  const text = readFileSync(path.join(k8sObjectsDir(), relPath), 'utf8');
  // uniqueKeys: false — one fixture has a duplicate `status:` key; the later one wins, as in most parsers.
  const obj = parse(text, { uniqueKeys: false }) as KubeObject;
  return substituteNow(JSON.parse(JSON.stringify(obj)) as KubeObject, nowMs);
}
