import type { Incident } from '@tapio/core';

/** A Kubernetes action a recommendation asks for. */
export type KubeAction =
  | { type: 'scale'; namespace: string; deployment: string; replicas: number }
  | { type: 'rollback'; namespace: string; deployment: string }
  | { type: 'restart'; namespace: string; deployment: string };

const NAME = '([a-z0-9](?:[-a-z0-9.]*[a-z0-9])?)';
const IN_NS = `(?:\\s+in\\s+(?:namespace\\s+)?${NAME})?`;
const SCALE = new RegExp(`\\bscale\\s+(?:up\\s+)?(?:deployment\\s+|deploy/)?(?:${NAME}/)?${NAME}${IN_NS}\\s+to\\s+(\\d{1,4})\\s+replicas?\\b`, 'i');
const ROLLBACK = new RegExp(`\\broll\\s*back\\s+(?:deployment\\s+|deploy/)?(?:${NAME}/)?${NAME}${IN_NS}`, 'i');
const RESTART = new RegExp(`\\b(?:rollout\\s+)?restart\\s+(?:deployment\\s+|deploy/)?(?:${NAME}/)?${NAME}${IN_NS}`, 'i');

/**
 * Reads a recommendation such as "Scale payment-service to 5 replicas", "Roll back deployment
 * prod/payment" or "Restart payment in namespace prod" as a Kubernetes action. The namespace
 * defaults to the incident's root-cause namespace. Anything else is advice for a human: undefined.
 */
export function parseRecommendation(text: string, incident?: Pick<Incident, 'rootCause'>): KubeAction | undefined {
  const fallbackNs = incident?.rootCause?.entity?.namespace ?? 'default';
  let m = SCALE.exec(text);
  if (m) return { type: 'scale', namespace: (m[1] ?? m[3] ?? fallbackNs).toLowerCase(), deployment: m[2]!.toLowerCase(), replicas: Number(m[4]) };
  m = ROLLBACK.exec(text);
  if (m) return { type: 'rollback', namespace: (m[1] ?? m[3] ?? fallbackNs).toLowerCase(), deployment: m[2]!.toLowerCase() };
  m = RESTART.exec(text);
  if (m && !/^(?:count|loop|policy)/i.test(m[2]!)) return { type: 'restart', namespace: (m[1] ?? m[3] ?? fallbackNs).toLowerCase(), deployment: m[2]!.toLowerCase() };
  return undefined;
}

export function describeAction(a: KubeAction): string {
  switch (a.type) {
    case 'scale': return `scale deployment ${a.namespace}/${a.deployment} to ${a.replicas} replicas`;
    case 'rollback': return `roll back deployment ${a.namespace}/${a.deployment} to its previous revision`;
    case 'restart': return `restart the pods of deployment ${a.namespace}/${a.deployment} (rolling)`;
  }
}
