import type { KubeObject } from './kinds';
import type { ChangeType } from './reflector';
import { podFacts, podTransitions } from './derive/pod';
import { nodeFacts, nodeRecovery } from './derive/node';
import { workloadFacts, workloadTransitions } from './derive/workload';
import type { Fact, Transition } from './derive/types';

export interface DeriverOptions {
  includeInitialState: boolean;
  includeBeforeStart: boolean;
  pendingThresholdMs: number;
  /** Receiver start, unix ms. */
  startMs: number;
  now: () => number;
}

export interface DeriveResult { emit: Transition[]; skippedOld: number }

const WORKLOADS = new Set(['Deployment', 'StatefulSet', 'DaemonSet']);
const NONE: DeriveResult = { emit: [], skippedOld: 0 };

/**
 * Turns object changes into derived events. Each object's current facts are remembered (only for
 * objects that have any), so a fact is reported when it appears and not again while it holds —
 * across watch events, resumes and re-lists alike.
 */
export class Deriver {
  private readonly facts = new Map<string, Set<string>>();

  constructor(private readonly o: DeriverOptions) {}

  get trackedObjects(): number { return this.facts.size; }

  derive(kind: string, type: ChangeType, obj: KubeObject, old: KubeObject | undefined, initial: boolean): DeriveResult {
    const id = `${kind}/${obj.metadata.uid ?? `${obj.metadata.namespace}/${obj.metadata.name}`}`;
    if (type === 'DELETED') { this.facts.delete(id); return NONE; }
    let current: Fact[];
    if (kind === 'Pod') current = podFacts(obj, { pendingThresholdMs: this.o.pendingThresholdMs, nowMs: this.o.now() });
    else if (kind === 'Node') current = nodeFacts(obj);
    else if (WORKLOADS.has(kind)) current = workloadFacts(obj);
    else return NONE;

    const before = this.facts.get(id);
    const emit: Transition[] = [];
    let skippedOld = 0;
    const quiet = initial && !this.o.includeInitialState;
    let now: Set<string> | undefined;
    for (const f of current) {
      (now ??= new Set()).add(f.key);
      if (before?.has(f.key) || quiet) continue;
      // Past terminations found in the state at start-up are history, not news.
      if (initial && f.historical && !this.o.includeBeforeStart) {
        const t = f.time ? Date.parse(f.time) : NaN;
        if (!Number.isFinite(t) || t < this.o.startMs) { skippedOld++; continue; }
      }
      emit.push(f);
    }
    if (before && kind === 'Node') {
      for (const key of before) {
        if (now?.has(key)) continue;
        const r = nodeRecovery(key);
        emit.push({ reason: r.reason, message: r.message, type: 'Normal', severity: 'info' });
      }
    }
    if (old && type === 'MODIFIED') {
      if (kind === 'Pod') emit.push(...podTransitions(old, obj));
      else if (WORKLOADS.has(kind)) emit.push(...workloadTransitions(old, obj));
    }
    if (now) this.facts.set(id, now); else this.facts.delete(id);
    return { emit, skippedOld };
  }
}
