import type { KubeObject } from '../kinds';
import type { Fact, Transition } from './types';

/** Waiting reasons that mean a container cannot run. */
const FAILING_WAITING = new Set([
  'CrashLoopBackOff', 'ImagePullBackOff', 'ErrImagePull', 'ErrImageNeverPull', 'InvalidImageName',
  'CreateContainerConfigError', 'CreateContainerError', 'RunContainerError', 'PreCreateHookError', 'PostStartHookError',
]);
/** ErrImagePull and ImagePullBackOff alternate while a pull keeps failing: one fact for both. */
const IMAGE_PULL = new Set(['ImagePullBackOff', 'ErrImagePull']);

interface ContainerStatus {
  name: string;
  containerID?: string;
  restartCount?: number;
  ready?: boolean;
  image?: string;
  state?: { waiting?: { reason?: string; message?: string }; terminated?: Terminated; running?: unknown };
  lastState?: { terminated?: Terminated };
}
interface Terminated { reason?: string; message?: string; exitCode?: number; signal?: number; finishedAt?: string; startedAt?: string; containerID?: string }

export interface PodDeriveOptions {
  /** A Pending pod is reported once it has been pending this long (unschedulable pods at once). */
  pendingThresholdMs: number;
  nowMs: number;
}

function statuses(pod: KubeObject): ContainerStatus[] {
  const s = pod.status ?? {};
  const out: ContainerStatus[] = [];
  for (const list of [s.initContainerStatuses, s.containerStatuses, s.ephemeralContainerStatuses]) if (Array.isArray(list)) out.push(...(list as ContainerStatus[]));
  return out;
}

function condition(obj: KubeObject, type: string): { status?: string; reason?: string; message?: string; lastTransitionTime?: string } | undefined {
  const conds = obj.status?.conditions;
  return Array.isArray(conds) ? conds.find((c: { type?: string }) => c.type === type) : undefined;
}

/** The facts that hold for a pod right now. */
export function podFacts(pod: KubeObject, o: PodDeriveOptions): Fact[] {
  const facts: Fact[] = [];
  const status = pod.status ?? {};
  let failingWaiting = false;
  for (const c of statuses(pod)) {
    const waiting = c.state?.waiting;
    if (waiting?.reason && FAILING_WAITING.has(waiting.reason)) {
      failingWaiting = true;
      const group = IMAGE_PULL.has(waiting.reason) ? 'ImagePull' : waiting.reason;
      facts.push({
        key: `waiting/${c.name}/${group}`, reason: waiting.reason, type: 'Warning', severity: 'error', containerName: c.name,
        message: waiting.message ?? `container ${c.name} is waiting: ${waiting.reason}`,
        extra: { restartCount: c.restartCount ?? 0, ...(c.image ? { image: c.image } : {}) },
      });
    }
    // The current termination and the previous one; the same termination moves from state to lastState on restart.
    for (const t of [c.state?.terminated, c.lastState?.terminated]) {
      if (!t || (t.reason === 'Completed' && (t.exitCode ?? 0) === 0)) continue;
      const id = t.containerID || `${t.startedAt ?? ''}|${t.finishedAt ?? ''}`;
      const key = `terminated/${c.name}/${id}`;
      if (facts.some((f) => f.key === key)) continue;
      const reason = t.reason || (t.signal ? 'Signaled' : 'Error');
      facts.push({
        key, reason, type: 'Warning', severity: reason === 'OOMKilled' ? 'error' : 'warn', containerName: c.name, exitCode: t.exitCode,
        time: t.finishedAt, historical: true,
        message: t.message?.trim() || `container ${c.name} terminated: ${reason}${t.exitCode !== undefined ? ` (exit code ${t.exitCode})` : ''}`,
        extra: { restartCount: c.restartCount ?? 0, ...(t.signal ? { signal: t.signal } : {}) },
      });
    }
  }
  if (status.reason === 'Evicted') {
    facts.push({ key: 'evicted', reason: 'Evicted', type: 'Warning', severity: 'warn', message: String(status.message ?? 'pod was evicted').trim(), time: condition(pod, 'Ready')?.lastTransitionTime });
  }
  if (status.phase === 'Pending' && !failingWaiting) {
    const scheduled = condition(pod, 'PodScheduled');
    const unschedulable = scheduled?.status === 'False';
    const since = Date.parse(status.startTime ?? pod.metadata.creationTimestamp ?? '');
    const pendingFor = Number.isFinite(since) ? o.nowMs - since : 0;
    if (unschedulable || pendingFor >= o.pendingThresholdMs) {
      const waitingReason = statuses(pod).map((c) => c.state?.waiting?.reason).find(Boolean);
      const why = (unschedulable ? scheduled?.reason : undefined) ?? waitingReason ?? status.reason ?? 'Pending';
      facts.push({
        key: `pending/${why}`, reason: 'PodPending', type: 'Warning', severity: unschedulable ? 'error' : 'warn',
        message: (unschedulable ? scheduled?.message : undefined) ?? `pod has been Pending${pendingFor > 0 ? ` for ${Math.round(pendingFor / 1000)}s` : ''}: ${why}`,
        extra: { pendingReason: why },
      });
    }
  }
  return facts;
}

/** Changes between two versions of a pod that are events in themselves: restarts, readiness flips. */
export function podTransitions(old: KubeObject, cur: KubeObject): Transition[] {
  const out: Transition[] = [];
  const before = new Map(statuses(old).map((c) => [c.name, c]));
  for (const c of statuses(cur)) {
    const prev = before.get(c.name);
    if (prev && (c.restartCount ?? 0) > (prev.restartCount ?? 0)) {
      const last = c.lastState?.terminated;
      out.push({
        reason: 'ContainerRestarted', type: 'Warning', severity: 'warn', containerName: c.name, exitCode: last?.exitCode,
        time: last?.finishedAt,
        message: `container ${c.name} restarted (restart count ${prev.restartCount ?? 0} → ${c.restartCount})${last?.reason ? `, last termination: ${last.reason}` : ''}`,
        extra: { restartCount: c.restartCount ?? 0, previousRestartCount: prev.restartCount ?? 0, ...(last?.reason ? { lastTerminationReason: last.reason } : {}) },
      });
    }
  }
  const wasReady = condition(old, 'Ready')?.status;
  const ready = condition(cur, 'Ready');
  if (wasReady && ready?.status && wasReady !== ready.status) {
    const up = ready.status === 'True';
    out.push({
      reason: up ? 'PodReady' : 'PodNotReady', type: up ? 'Normal' : 'Warning', severity: up ? 'info' : 'warn', time: ready.lastTransitionTime,
      message: up ? 'pod became ready' : `pod is no longer ready${ready.message ? `: ${ready.message}` : ''}`,
      extra: { ready: up },
    });
  }
  return out;
}
