import type { JsonSchema } from '@tapio/core';

export const PROGRAMS = ['oom', 'tcp', 'process', 'syscall_errors'] as const;
export type ProgramName = (typeof PROGRAMS)[number];
export const SYSCALLS = ['mmap', 'brk', 'connect', 'open'] as const;
export type SyscallName = (typeof SYSCALLS)[number];

/** Per-program numbers (sampling, rate limits); `oom` is never sampled or limited. */
export interface PerProgram { process?: number; tcp?: number; syscall_errors?: number }

export interface EbpfReceiverConfig {
  /** Programs to load. Unset: every program that loads on this kernel (others are skipped with a warning). */
  programs?: ProgramName[];
  /** When the kernel side cannot start: warn and run on without it instead of failing the collector. */
  optional: boolean;
  /** Ring buffer per program (rounded up to a power of two pages). */
  ring_buffer_size: string;
  filters: {
    /** Only these processes (thread-group ids); applied in kernel. */
    pids: number[];
    /** Only processes whose comm (executable name, 15 chars) is listed; applied in kernel. */
    comms: string[];
    /** Only processes in these cgroups or below (paths inside the hierarchy, e.g. /kubepods); applied in the receiver. */
    cgroups: string[];
    /**
     * Only processes of pods in these Kubernetes namespaces; applied in the receiver, through the
     * topology service of the kubernetes receiver (pod by the pod uid / container id in the cgroup path).
     */
    namespaces: string[];
  };
  /** Keep 1 record in N, in kernel. */
  sampling: PerProgram;
  /** At most N records per second per program (all CPUs), in kernel; 0 = unlimited. */
  rate_limits: PerProgram;
  syscall_errors: {
    syscalls: SyscallName[];
    /** errno names (ENOENT) or numbers that are not reported. */
    ignore_errnos: (string | number)[];
  };
  /** How often the loader reports its counters (lost records, rate-limited, …). */
  stats_interval: string;
  /** Directory holding tapio-ebpf-loader and the *.bpf.o objects; default: the package's native/. */
  native_dir?: string;
}

const perProgram = (description: string, def: PerProgram): JsonSchema => ({
  type: 'object',
  additionalProperties: false,
  description,
  default: def,
  properties: {
    process: { type: 'integer', minimum: 0 },
    tcp: { type: 'integer', minimum: 0 },
    syscall_errors: { type: 'integer', minimum: 0 },
  },
});

export const DEFAULT_IGNORED_ERRNOS = ['ENOENT', 'EAGAIN', 'EINTR', 'EINPROGRESS', 'EALREADY'];

export const configSchema: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    programs: {
      type: 'array', uniqueItems: true, minItems: 1, items: { enum: [...PROGRAMS] },
      description: 'programs to load; unset = every program that loads on this kernel',
    },
    optional: { type: 'boolean', default: false, description: 'run on without kernel events when they cannot start' },
    ring_buffer_size: { type: 'string', format: 'byte-size', default: '1MiB', description: 'ring buffer per program' },
    filters: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        pids: { type: 'array', items: { type: 'integer', minimum: 1 }, default: [], maxItems: 256 },
        comms: { type: 'array', items: { type: 'string', minLength: 1, maxLength: 15 }, default: [], maxItems: 256 },
        cgroups: { type: 'array', items: { type: 'string', pattern: '^/' }, default: [] },
        namespaces: { type: 'array', items: { type: 'string', minLength: 1 }, default: [], description: 'Kubernetes namespaces (needs the kubernetes receiver\'s topology)' },
      },
    },
    sampling: perProgram('keep 1 record in N (in kernel)', {}),
    rate_limits: perProgram('records per second per program, 0 = unlimited (in kernel)', { syscall_errors: 100 }),
    syscall_errors: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        syscalls: { type: 'array', uniqueItems: true, items: { enum: [...SYSCALLS] }, default: [...SYSCALLS] },
        ignore_errnos: {
          type: 'array',
          items: { anyOf: [{ type: 'string', pattern: '^E[A-Z0-9]+$' }, { type: 'integer', minimum: 1, maximum: 255 }] },
          default: DEFAULT_IGNORED_ERRNOS,
        },
      },
    },
    stats_interval: { type: 'string', format: 'duration', default: '1s' },
    native_dir: { type: 'string', description: 'directory with tapio-ebpf-loader and *.bpf.o (default: the package\'s native/)' },
  },
};

export function createDefaultConfig(): EbpfReceiverConfig {
  return {
    optional: false,
    ring_buffer_size: '1MiB',
    filters: { pids: [], comms: [], cgroups: [], namespaces: [] },
    sampling: {},
    rate_limits: { syscall_errors: 100 },
    syscall_errors: { syscalls: [...SYSCALLS], ignore_errnos: [...DEFAULT_IGNORED_ERRNOS] },
    stats_interval: '1s',
  };
}
