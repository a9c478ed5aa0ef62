import type { KubeObject } from '../kinds';
import type { Fact, Transition } from './types';

interface Container { name: string; image?: string }

function containersOf(o: KubeObject): Container[] {
  const spec = o.spec?.template?.spec ?? {};
  return [...(spec.initContainers ?? []), ...(spec.containers ?? [])] as Container[];
}

/** The revision as the controller reports it: Deployment annotation, StatefulSet updateRevision, else generation. */
function revisionOf(o: KubeObject): string {
  return o.metadata.annotations?.['deployment.kubernetes.io/revision'] ?? o.status?.updateRevision ?? String(o.metadata.generation ?? '');
}

/**
 * A rollout: the pod template of a Deployment/StatefulSet/DaemonSet changed. An image change names
 * old and new image (one event for the object, listing every changed container); any other template
 * change (env, resources, `rollout restart`) is a config rollout.
 */
export function workloadTransitions(old: KubeObject, cur: KubeObject): Transition[] {
  const oldTemplate = old.spec?.template;
  const curTemplate = cur.spec?.template;
  if (!oldTemplate || !curTemplate) return [];
  // Generation moves only on spec changes; status-only updates (the common case) stop here cheaply.
  if (old.metadata.generation !== undefined && old.metadata.generation === cur.metadata.generation) return [];
  const before = new Map(containersOf(old).map((c) => [c.name, c.image]));
  const changed = containersOf(cur).filter((c) => before.has(c.name) && before.get(c.name) !== c.image);
  const kind = cur.kind ?? 'workload';
  const revisions = { oldRevision: revisionOf(old), newRevision: revisionOf(cur), oldGeneration: old.metadata.generation ?? 0, newGeneration: cur.metadata.generation ?? 0 };
  if (changed.length > 0) {
    const first = changed[0];
    return [{
      reason: 'RolloutStarted', type: 'Normal', severity: 'info', containerName: first.name,
      message: `${kind} ${cur.metadata.name}: image ${changed.map((c) => `${c.name} ${before.get(c.name)} → ${c.image}`).join(', ')}`,
      extra: {
        change: 'image', oldImage: before.get(first.name) ?? '', newImage: first.image ?? '', ...revisions,
        ...(changed.length > 1 ? { changedContainers: changed.map((c) => c.name).join(',') } : {}),
      },
    }];
  }
  if (JSON.stringify(oldTemplate) !== JSON.stringify(curTemplate)) {
    return [{ reason: 'RolloutStarted', type: 'Normal', severity: 'info', message: `${kind} ${cur.metadata.name}: pod template changed`, extra: { change: 'config', ...revisions } }];
  }
  return [];
}

/** Workload facts: a rollout that the controller declared failed, or replicas unavailable. */
export function workloadFacts(o: KubeObject): Fact[] {
  const facts: Fact[] = [];
  const conds: { type?: string; status?: string; reason?: string; message?: string; lastTransitionTime?: string }[] = Array.isArray(o.status?.conditions) ? o.status.conditions : [];
  const progressing = conds.find((c) => c.type === 'Progressing');
  if (progressing?.reason === 'ProgressDeadlineExceeded') {
    facts.push({ key: 'ProgressDeadlineExceeded', reason: 'RolloutFailed', type: 'Warning', severity: 'error', time: progressing.lastTransitionTime, message: progressing.message ?? 'rollout exceeded its progress deadline', extra: { revision: revisionOf(o) } });
  }
  const failure = conds.find((c) => c.type === 'ReplicaFailure' && c.status === 'True');
  if (failure) {
    facts.push({ key: 'ReplicaFailure', reason: 'ReplicaFailure', type: 'Warning', severity: 'error', time: failure.lastTransitionTime, message: failure.message ?? failure.reason ?? 'replica failure' });
  }
  return facts;
}
