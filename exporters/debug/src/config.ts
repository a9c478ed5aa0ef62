import type { JsonSchema } from '@tapio/core';

export const VERBOSITIES = ['basic', 'normal', 'detailed'] as const;
export type Verbosity = (typeof VERBOSITIES)[number];

export interface DebugExporterConfig {
  /** Any case, as the Collector (`Detailed`, `NORMAL`). */
  verbosity: string;
  sampling_initial: number;
  sampling_thereafter: number;
  /** Unset: true, unless `output` is set. */
  use_internal_logger?: boolean;
  /** Tapio only: where to write when not through the internal logger. */
  output?: 'stdout' | 'stderr';
}

/** `^(basic|normal|detailed)$` in any letter case; JSON Schema patterns have no /i flag. */
function anyCase(words: readonly string[]): string {
  const letters = (w: string): string => [...w].map((c) => `[${c.toLowerCase()}${c.toUpperCase()}]`).join('');
  return `^(${words.map(letters).join('|')})$`;
}

export const configSchema: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    verbosity: {
      type: 'string', pattern: anyCase(VERBOSITIES), default: 'basic',
      description: 'basic | normal | detailed, any letter case. basic: a count per batch; normal: a line per event; detailed: every field as JSON',
    },
    sampling_initial: { type: 'integer', minimum: 0, default: 2, description: 'outputs printed in full in each second' },
    sampling_thereafter: { type: 'integer', minimum: 0, default: 1, description: 'after sampling_initial in a second, only every this-many-th output is printed (1: all)' },
    use_internal_logger: {
      type: 'boolean',
      description: "true (default): write through the collector's logger (structured, on stderr); false: plain text to `output` (stdout)",
    },
    output: { enum: ['stdout', 'stderr'], description: 'Tapio only: where plain text goes; setting it implies use_internal_logger: false' },
  },
};

export function createDefaultConfig(): DebugExporterConfig {
  return { verbosity: 'basic', sampling_initial: 2, sampling_thereafter: 1 };
}

export interface DebugSettings { verbosity: Verbosity; internalLogger: boolean; output: 'stdout' | 'stderr' }

/** What contradicts itself (reported by `tapio validate`; create refuses it too). */
export function configProblems(c: DebugExporterConfig): { path: string[]; message: string }[] {
  if (c.use_internal_logger === true && c.output !== undefined) {
    return [{ path: ['output'], message: 'output is only used when use_internal_logger is false (the Collector refuses output_paths with the internal logger alike)' }];
  }
  return [];
}

/** Resolves the defaults that depend on each other. */
export function settingsFrom(c: DebugExporterConfig): DebugSettings {
  const problem = configProblems(c)[0];
  if (problem) throw new Error(problem.message);
  return {
    verbosity: c.verbosity.toLowerCase() as Verbosity,
    internalLogger: c.use_internal_logger ?? c.output === undefined,
    output: c.output ?? 'stdout',
  };
}
