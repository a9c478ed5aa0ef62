import type * as k8s from '@kubernetes/client-node' with { 'resolution-mode': 'import' };
import type { KubeAction } from '@tapio/extension-api';

export interface Change { field: string; from: string; to: string }

/** What an action will do, read from the cluster first, and how to do it. */
export interface Plan {
  target: string;
  changes: Change[];
  apply(): Promise<void>;
}

export interface KubeOptions { kubeconfig?: string; context?: string }

const RESTARTED_AT = 'kubectl.kubernetes.io/restartedAt';
const REVISION = 'deployment.kubernetes.io/revision';

/** client-node 1.x is an ES module: loaded with a dynamic import from this CommonJS package. */
export async function appsApi(o: KubeOptions): Promise<k8s.AppsV1Api> {
  const mod = await import('@kubernetes/client-node');
  const kc = new mod.KubeConfig();
  if (o.kubeconfig) kc.loadFromFile(o.kubeconfig);
  else kc.loadFromDefault();
  if (o.context) kc.setCurrentContext(o.context);
  return kc.makeApiClient(mod.AppsV1Api);
}

/**
 * Reads the current state of the deployment and returns exactly what the action changes.
 * Writes use replace with the resourceVersion just read, so a concurrent change makes the
 * apply fail (409) instead of overwriting someone else's edit.
 */
export async function planAction(apps: k8s.AppsV1Api, a: KubeAction, now = new Date()): Promise<Plan> {
  const { namespace, deployment: name } = a;
  const target = `deployment ${namespace}/${name}`;
  switch (a.type) {
    case 'scale': {
      const scale = await apps.readNamespacedDeploymentScale({ name, namespace });
      const from = scale.spec?.replicas ?? 0;
      return {
        target,
        changes: [{ field: 'spec.replicas', from: String(from), to: String(a.replicas) }],
        apply: async () => {
          scale.spec = { ...(scale.spec ?? {}), replicas: a.replicas };
          await apps.replaceNamespacedDeploymentScale({ name, namespace, body: scale });
        },
      };
    }
    case 'restart': {
      const dep = await apps.readNamespacedDeployment({ name, namespace });
      const tpl = (dep.spec!.template.metadata ??= {});
      const annotations = (tpl.annotations ??= {});
      const stamp = now.toISOString();
      const change = { field: `spec.template.metadata.annotations["${RESTARTED_AT}"]`, from: annotations[RESTARTED_AT] ?? '(unset)', to: stamp };
      return {
        target,
        changes: [change],
        apply: async () => {
          annotations[RESTARTED_AT] = stamp;
          await apps.replaceNamespacedDeployment({ name, namespace, body: dep });
        },
      };
    }
    case 'rollback': {
      const dep = await apps.readNamespacedDeployment({ name, namespace });
      const current = Number(dep.metadata?.annotations?.[REVISION] ?? 0);
      const selector = Object.entries(dep.spec?.selector?.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`).join(',');
      const list = await apps.listNamespacedReplicaSet({ namespace, labelSelector: selector || undefined });
      const owned = list.items
        .filter((rs) => rs.metadata?.ownerReferences?.some((o) => o.kind === 'Deployment' && (o.uid === dep.metadata?.uid || o.name === name)))
        .map((rs) => ({ rs, revision: Number(rs.metadata?.annotations?.[REVISION] ?? 0) }))
        .filter((x) => x.revision > 0 && x.revision < current)
        .sort((x, y) => y.revision - x.revision);
      const previous = owned[0];
      if (!previous) throw new Error(`${target} has no earlier revision to roll back to (current revision ${current || 'unknown'})`);
      const template = structuredClone(previous.rs.spec!.template!);
      if (template.metadata?.labels) delete template.metadata.labels['pod-template-hash'];
      const changes: Change[] = [{ field: 'revision', from: String(current), to: `${previous.revision} (as a new revision)` }];
      const before = new Map((dep.spec!.template.spec?.containers ?? []).map((c) => [c.name, c]));
      for (const c of template.spec?.containers ?? []) {
        const old = before.get(c.name);
        if (old?.image !== c.image) changes.push({ field: `container ${c.name} image`, from: old?.image ?? '(none)', to: c.image ?? '(none)' });
        const oldMem = old?.resources?.limits?.memory;
        const newMem = c.resources?.limits?.memory;
        if (oldMem !== newMem) changes.push({ field: `container ${c.name} memory limit`, from: oldMem ?? '(none)', to: newMem ?? '(none)' });
      }
      return {
        target,
        changes,
        apply: async () => {
          dep.spec!.template = template;
          await apps.replaceNamespacedDeployment({ name, namespace, body: dep });
        },
      };
    }
  }
}

/** The Kubernetes API's own message from a failed call, if it has one. */
export function kubeErrorMessage(err: unknown): string {
  const e = err as { code?: number; body?: unknown; message?: string };
  let body = e.body;
  if (typeof body === 'string') { try { body = JSON.parse(body); } catch { /* keep string */ } }
  const msg = (body as { message?: string } | undefined)?.message;
  return msg ? `${msg}${e.code ? ` (HTTP ${e.code})` : ''}` : (e.message ?? String(err));
}
