import { Baseline, binomialZ, quantileSorted } from './stats';

/** What a feature measures; decides how its anomalies are attributed to services. */
export type FeatureFamily =
  | 'excl'    // exclusive (self) time of a service handling one request — owned by that service
  | 'gap'     // client span minus remote server span on an edge caller→callee — network/queueing of the edge
  | 'fan'     // outgoing remote calls per request — structural change (early return, skipped work)
  | 'calls'   // share of an operation's requests that call a given service — skipped or new calls
  | 'dur'     // end-to-end duration of a service's entry spans — a symptom, used to detect, not to blame
  | 'err'     // own errors (error status without an erroring child)
  | 'logerr'  // error-severity log lines
  | 'logpat'  // log lines of a never-seen pattern
  | 'metric'; // metric point jumps

export interface FeatureKey {
  family: FeatureFamily;
  service: string;
  /** Operation, metric name or the callee service for edges. */
  detail: string;
  /** The other end of an edge (gap). */
  peer?: string;
}

export interface Anomaly {
  key: FeatureKey;
  /** Share of the window's samples beyond the baseline's tails, minus what chance gives (0..1). */
  severity: number;
  /** Significance (binomial or robust z). */
  z: number;
  direction: 'up' | 'down';
  windowStart: number;
  samples: number;
  baselineMedian: number;
  windowMedian: number;
  /** Point anomalies (metrics): true once the same series stayed anomalous for two points in a row. */
  persistent?: boolean;
}

export interface DetectionSettings {
  baselineCapacity: number;
  minBaselineSamples: number;
  /** Windows a feature's baseline must span before it is judged (a single window is too narrow). */
  minBaselineWindows: number;
  minWindowSamples: number;
  minHits: number;
  tailQuantile: number;
  zThreshold: number;
  /** Relative margin beyond a tail quantile before a sample counts as a hit (guards against ties/jitter). */
  relativeMargin: number;
}

const MAX_CARRY_WINDOWS = 5;

/**
 * One feature's state: a robust baseline plus the samples of the windows still open.
 * Samples are numbers (durations in ms, counts, 0/1 flags).
 */
export class FeatureState {
  readonly baseline: Baseline;
  /** windowStart → samples. A handful of windows at most are open at a time. */
  readonly open = new Map<number, number[]>();
  lastSeen = 0;
  /** Windows folded into the baseline so far. */
  baselineWindows = 0;
  /** Consecutive anomalous points (metrics). */
  streak = 0;
  /**
   * Samples of windows too thin to judge, carried into the next window: a low-rate operation
   * is judged over a longer span instead of never (bounded by MAX_CARRY_WINDOWS).
   */
  carry: number[] = [];
  carryFrom = 0;
  carryWindows = 0;
  /** 0/1 samples judged as a rate (binomial against the baseline rate) instead of by tails. */
  rate = false;
  /** Rates judged in both directions (a call that stops happening matters as much as a new one). */
  twoSided = false;
  /** Small integer samples (counts per request) judged by a shift of the mean, where tails tie. */
  counts = false;

  constructor(readonly key: FeatureKey, capacity: number) {
    this.baseline = new Baseline(capacity);
  }

  add(windowStart: number, value: number): void {
    let arr = this.open.get(windowStart);
    if (!arr) { arr = []; this.open.set(windowStart, arr); }
    arr.push(value);
  }

  /**
   * Closes a window: judges its samples against the baseline, folds them into the baseline
   * when normal (or while still warming up). Returns the anomaly, if any.
   */
  close(windowStart: number, s: DetectionSettings): Anomaly | undefined {
    let arr = this.open.get(windowStart) ?? [];
    this.open.delete(windowStart);
    let from = windowStart;
    if (this.carry.length) { arr = this.carry.concat(arr); from = this.carryFrom; this.carry = []; }
    if (!arr.length) return undefined;
    const b = this.baseline;
    const warming = b.count < s.minBaselineSamples || this.baselineWindows < s.minBaselineWindows;
    if (warming) { for (const v of arr) b.add(v); this.baselineWindows++; this.carryWindows = 0; return undefined; }
    if (arr.length < s.minWindowSamples) {
      // Too thin to judge: carry into the next window, or give up on them after a while.
      if (this.carryWindows < MAX_CARRY_WINDOWS) { this.carry = arr; this.carryFrom = from; this.carryWindows++; }
      else this.carryWindows = 0;
      return undefined;
    }
    this.carryWindows = 0;
    const anomaly = this.judge(arr, from, s);
    if (!anomaly) { for (const v of arr) b.add(v); this.baselineWindows++; }
    return anomaly;
  }

  judge(arr: number[], windowStart: number, s: DetectionSettings): Anomaly | undefined {
    const b = this.baseline;
    const n = arr.length;
    if (this.rate) return this.judgeRate(arr, windowStart, s);
    if (this.counts) return this.judgeMeanShift(arr, windowStart, s);
    const p = Math.max(1 - s.tailQuantile, 1 / (b.count + 1));
    const hi = b.quantile(s.tailQuantile);
    const lo = b.quantile(1 - s.tailQuantile);
    const med = b.median();
    const spread = Math.max(b.robustSigma(), Math.abs(med) * s.relativeMargin, 1e-9);
    const hiCut = hi + Math.max(Math.abs(hi) * s.relativeMargin, spread * 0.5);
    const loCut = lo - Math.max(Math.abs(lo) * s.relativeMargin, spread * 0.5);
    let kHi = 0; let kLo = 0;
    for (let i = 0; i < n; i++) { const v = arr[i]!; if (v > hiCut) kHi++; else if (v < loCut) kLo++; }
    const zHi = binomialZ(kHi, n, p);
    const zLo = binomialZ(kLo, n, p);
    const up = zHi >= s.zThreshold && kHi >= s.minHits;
    const down = zLo >= s.zThreshold && kLo >= s.minHits;
    if (!up && !down) return undefined;
    const useUp = up && (!down || kHi >= kLo);
    const k = useUp ? kHi : kLo;
    const sorted = Float64Array.from(arr).sort();
    return {
      key: this.key, severity: Math.min(1, Math.max(0, k / n - p)), z: useUp ? zHi : zLo,
      direction: useUp ? 'up' : 'down', windowStart, samples: n, baselineMedian: med, windowMedian: quantileSorted(sorted, 0.5),
    };
  }
}

export interface FeatureState {
  judgeRate(arr: number[], windowStart: number, s: DetectionSettings): Anomaly | undefined;
  judgeMeanShift(arr: number[], windowStart: number, s: DetectionSettings): Anomaly | undefined;
}
FeatureState.prototype.judgeMeanShift = function judgeMeanShift(this: FeatureState, arr: number[], windowStart: number, s: DetectionSettings): Anomaly | undefined {
  const b = this.baseline;
  const mb = b.mean();
  let mw = 0;
  for (const v of arr) mw += v;
  mw /= arr.length;
  // Standard error from the baseline's robust spread, floored so constant series still tolerate jitter.
  const sigma = Math.max(b.robustSigma(), Math.abs(mb) * s.relativeMargin, 0.5);
  const z = Math.abs(mw - mb) / (sigma / Math.sqrt(arr.length));
  const rel = Math.abs(mw - mb) / Math.max(Math.abs(mb), 1);
  if (z < s.zThreshold || rel < 0.2) return undefined;
  return { key: this.key, severity: Math.min(1, rel), z, direction: mw > mb ? 'up' : 'down', windowStart, samples: arr.length, baselineMedian: mb, windowMedian: mw };
};
FeatureState.prototype.judgeRate = function judgeRate(this: FeatureState, arr: number[], windowStart: number, s: DetectionSettings): Anomaly | undefined {
  const b = this.baseline;
  const base = b.mean();
  const floor = 1 / (b.count + 1);
  const p = Math.min(1 - floor, Math.max(base, floor));
  const n = arr.length;
  let k = 0;
  for (const v of arr) if (v > 0) k++;
  const zUp = binomialZ(k, n, p);
  if (zUp >= s.zThreshold && k >= s.minHits) {
    return { key: this.key, severity: Math.min(1, Math.max(0, k / n - p)), z: zUp, direction: 'up', windowStart, samples: n, baselineMedian: base, windowMedian: k / n };
  }
  if (!this.twoSided) return undefined;
  const zDown = binomialZ(n - k, n, 1 - p);
  if (zDown < s.zThreshold || n - k < s.minHits) return undefined;
  return { key: this.key, severity: Math.min(1, Math.max(0, p - k / n)), z: zDown, direction: 'down', windowStart, samples: n, baselineMedian: base, windowMedian: k / n };
};

/**
 * Point-in-time features (metrics): each point is judged at once by a robust z-score against
 * the series' median / MAD.
 */
export function judgePoint(state: FeatureState, value: number, time: number, s: DetectionSettings): Anomaly | undefined {
  const b = state.baseline;
  if (b.count < s.minBaselineSamples) { b.add(value); return undefined; }
  const med = b.median();
  const sigma = Math.max(b.robustSigma(), Math.abs(med) * s.relativeMargin, 1e-9);
  const z = (value - med) / sigma;
  if (Math.abs(z) < s.zThreshold * 2) { b.add(value); state.streak = 0; return undefined; }
  state.streak++;
  // Severity grows with the size of the jump, 0 at the threshold and towards 1 for huge ones.
  const severity = Math.max(0, 1 - (s.zThreshold * 2) / Math.abs(z));
  return { key: state.key, severity, z: Math.abs(z), direction: z > 0 ? 'up' : 'down', windowStart: time, samples: 1, baselineMedian: med, windowMedian: value, persistent: state.streak >= 2 };
}

export function featureId(k: FeatureKey): string {
  return k.family + '|' + k.service + '|' + k.detail;
}
