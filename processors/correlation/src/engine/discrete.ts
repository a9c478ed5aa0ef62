import type { UnifiedEvent } from '@tapio/core';

/**
 * The intent of a discrete failure event. `semantic.intent` wins; without the semantic
 * processor a small built-in mapping of raw kernel / network / Kubernetes / span facts keeps
 * the engine useful on its own.
 */
const K8S_REASON_INTENT: Record<string, string> = {
  OOMKilled: 'oom_kill', BackOff: 'crash_loop', CrashLoopBackOff: 'crash_loop', Failed: 'container_restart',
  ErrImagePull: 'image_pull_failure', ImagePullBackOff: 'image_pull_failure', FailedScheduling: 'scheduling_failure',
  Evicted: 'eviction', NodeNotReady: 'node_not_ready', FailedMount: 'mount_failure', Unhealthy: 'probe_failure',
  Killing: 'container_restart', ScalingReplicaSet: 'deployment_rollout',
};
const KERNEL_INTENT: Record<string, string> = { oom_kill: 'oom_kill' };
const NETWORK_INTENT: Record<string, string> = { connection_refused: 'connection_refused', connection_reset: 'connection_reset', retransmit: 'retransmit_storm' };

function num(v: unknown): number | undefined {
  const n = typeof v === 'number' ? v : typeof v === 'string' && v ? Number(v) : NaN;
  return Number.isFinite(n) ? n : undefined;
}

export function intentOf(e: UnifiedEvent): string | undefined {
  if (e.semantic?.intent) return e.semantic.intent;
  switch (e.kind) {
    case 'kernel': return KERNEL_INTENT[e.kernel?.event ?? ''];
    case 'network': return NETWORK_INTENT[e.network?.event ?? ''];
    case 'k8s': return K8S_REASON_INTENT[e.k8s?.reason ?? ''];
    case 'span': {
      const a = e.attributes;
      const http = num(a['http.response.status_code']) ?? num(a['http.status_code']);
      if (http !== undefined && http >= 500) return 'http_5xx';
      const grpc = num(a['rpc.grpc.status_code']);
      if (grpc === 14) return 'grpc_unavailable';
      if (grpc === 4) return 'grpc_deadline_exceeded';
      return undefined;
    }
    default: return undefined;
  }
}

/** Whether an event is a failure worth correlating as discrete evidence. */
export function isFailure(e: UnifiedEvent, intent: string | undefined): boolean {
  if (intent) return intent !== 'deployment_rollout' || e.kind === 'k8s';
  return e.kind === 'k8s' && e.k8s?.type === 'Warning';
}

export function summaryOf(e: UnifiedEvent, intent: string | undefined): string {
  if (e.semantic?.narrative) return e.semantic.narrative;
  switch (e.kind) {
    case 'kernel': return `kernel ${e.kernel?.event}${e.kernel?.comm ? ` of ${e.kernel.comm}` : ''}${e.kernel?.pid ? ` (pid ${e.kernel.pid})` : ''}`;
    case 'network': return `${e.network?.event} ${e.network?.srcAddr ?? ''} → ${e.network?.dstAddr ?? '?'}:${e.network?.dstPort ?? '?'}`;
    case 'k8s': return `${e.k8s?.reason}: ${e.k8s?.message ?? ''}`.trim();
    case 'span': return `${intent ?? 'error'} in ${e.span?.name ?? 'span'}${e.span?.status?.message ? `: ${e.span.status.message}` : ''}`;
    case 'log': return String(e.log?.body ?? '').slice(0, 200);
    default: return intent ?? e.kind;
  }
}

/** Log line → pattern: numbers, hex ids and quoted values replaced, so "new pattern" means new text. */
export function logPattern(body: unknown): string {
  const s = typeof body === 'string' ? body : JSON.stringify(body ?? '');
  return s.slice(0, 160)
    .replace(/"[^"]*"|'[^']*'/g, '"*"')
    .replace(/\b[0-9a-f]{8,}\b|\b[0-9a-f-]{36}\b/gi, '#')
    .replace(/\d+(\.\d+)?/g, '#');
}
