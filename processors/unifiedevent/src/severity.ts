import type { Severity, UnifiedEvent } from '@tapio/core';

const RANK: Record<Severity, number> = { debug: 0, info: 1, warn: 2, error: 3, fatal: 4 };

export function severityRank(s: Severity): number {
  return RANK[s] ?? 1;
}

/** OTLP SeverityNumber ranges: 1-4 TRACE, 5-8 DEBUG, 9-12 INFO, 13-16 WARN, 17-20 ERROR, 21-24 FATAL. */
export function fromSeverityNumber(n: number): Severity | undefined {
  if (!(n >= 1 && n <= 24)) return undefined;
  if (n <= 8) return 'debug';
  if (n <= 12) return 'info';
  if (n <= 16) return 'warn';
  if (n <= 20) return 'error';
  return 'fatal';
}

const TEXT: Record<string, Severity> = {
  trace: 'debug', debug: 'debug', dbg: 'debug', verbose: 'debug', fine: 'debug', finer: 'debug', finest: 'debug',
  info: 'info', information: 'info', informational: 'info', notice: 'info', normal: 'info',
  warn: 'warn', warning: 'warn',
  error: 'error', err: 'error', severe: 'error',
  fatal: 'fatal', critical: 'fatal', crit: 'fatal', panic: 'fatal', emerg: 'fatal', emergency: 'fatal', alert: 'fatal',
};

/** Severity texts as loggers spell them (syslog, log4j, zap, python …), case-insensitive; `ERROR2` style suffixes ignored. */
export function fromSeverityText(text: string): Severity | undefined {
  const t = text.trim().toLowerCase();
  return TEXT[t] ?? TEXT[t.replace(/[0-9]+$/, '')];
}

/** HTTP status: 5xx is an error, 4xx a warning (the client's fault, but a user saw a failure). */
export function fromHttpStatus(code: number): Severity | undefined {
  if (code >= 500 && code <= 599) return 'error';
  if (code >= 400 && code <= 499) return 'warn';
  return undefined;
}

// gRPC codes that mean the server or the path failed; other non-zero codes are caller problems.
const GRPC_ERROR = new Set([2 /* UNKNOWN */, 4 /* DEADLINE_EXCEEDED */, 13 /* INTERNAL */, 14 /* UNAVAILABLE */, 15 /* DATA_LOSS */]);

export function fromGrpcStatus(code: number): Severity | undefined {
  if (!(code > 0 && code <= 16)) return undefined;
  return GRPC_ERROR.has(code) ? 'error' : 'warn';
}

// Reasons Kubernetes reports as Warning that mean something is down, not merely degraded.
const K8S_ERROR_REASONS = new Set([
  'OOMKilling', 'OOMKilled', 'BackOff', 'CrashLoopBackOff', 'NodeNotReady', 'Evicted', 'FailedMount', 'FailedAttachVolume',
  'ErrImagePull', 'ImagePullBackOff', 'FailedScheduling', 'FailedCreatePodSandBox', 'SystemOOM',
]);

export function fromK8s(type: string | undefined, reason: string | undefined): Severity | undefined {
  if (reason && K8S_ERROR_REASONS.has(reason)) return 'error';
  if (type === 'Warning') return 'warn';
  if (type === 'Normal') return 'info';
  return undefined;
}

// Out of memory, no space left, read-only filesystem: by name (errnoName) or Linux number (errno).
const SEVERE_ERRNO = new Set<unknown>(['ENOMEM', 'ENOSPC', 'EROFS', 12, 28, 30]);

export function fromKernel(event: UnifiedEvent): Severity | undefined {
  const k = event.kernel!;
  switch (k.event) {
    case 'oom_kill': return 'fatal';
    case 'process_exit': {
      const sig = Number(k.signal ?? 0);
      const code = Number(k.exitCode ?? k.exit_code ?? 0);
      if (sig === 9 || sig === 6 || sig === 11) return 'error';
      return code !== 0 || sig !== 0 ? 'warn' : 'info';
    }
    case 'process_exec': return 'info';
    case 'syscall_error': return SEVERE_ERRNO.has(k.errnoName ?? k.errno) ? 'error' : 'warn';
    default: return undefined;
  }
}

export function fromNetwork(event: UnifiedEvent): Severity | undefined {
  switch (event.network!.event) {
    case 'connection_refused':
    case 'connection_reset': return 'warn';
    case 'retransmit': return 'info';
    default: return undefined;
  }
}

function numeric(v: unknown): number | undefined {
  if (typeof v === 'number') return v;
  if (typeof v === 'string' && v !== '') { const n = Number(v); return Number.isFinite(n) ? n : undefined; }
  return undefined;
}

/**
 * The canonical severity of an event: the most severe of what its payload says and what it
 * already carried (a receiver's `error` for an OTLP ERROR status is never lowered).
 */
export function canonicalSeverity(event: UnifiedEvent): Severity {
  let best: Severity = event.severity;
  let derived: Severity | undefined;
  switch (event.kind) {
    case 'log': {
      const l = event.log;
      if (l) {
        derived = l.severityNumber ? fromSeverityNumber(l.severityNumber) : undefined;
        if (!derived && typeof l.severityText === 'string' && l.severityText) derived = fromSeverityText(l.severityText);
        // A log's own level is authoritative: it may lower a receiver default of `info` to `debug`.
        if (derived) best = derived;
      }
      break;
    }
    case 'span':
      if (event.span?.status?.code === 2 && severityRank(best) < RANK.error) best = 'error';
      break;
    case 'k8s':
      if (event.k8s) derived = fromK8s(event.k8s.type, event.k8s.reason);
      break;
    case 'kernel':
      if (event.kernel) derived = fromKernel(event);
      break;
    case 'network':
      if (event.network) derived = fromNetwork(event);
      break;
  }
  if (derived && severityRank(derived) > severityRank(best)) best = derived;
  // HTTP and gRPC status codes, on spans and on access-log style records alike.
  const a = event.attributes;
  const http = numeric(a['http.response.status_code'] ?? a['http.status_code']);
  if (http !== undefined) {
    const s = fromHttpStatus(http);
    if (s && severityRank(s) > severityRank(best)) best = s;
  }
  const grpc = numeric(a['rpc.grpc.status_code']);
  if (grpc !== undefined) {
    const s = fromGrpcStatus(grpc);
    if (s && severityRank(s) > severityRank(best)) best = s;
  }
  return best;
}
