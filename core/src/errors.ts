/**
 * One catalogue of coded errors (in the style of Fastify's lib/errors.js). Every error a user
 * can see carries a stable `code` so scripts and tests can match on it, not on wording.
 */
export const ErrorCodes = {
  CONFIG_INVALID: 'TAPIO_CONFIG_INVALID',
  CONFIG_READ: 'TAPIO_CONFIG_READ',
  CONFIG_SUBSTITUTION: 'TAPIO_CONFIG_SUBSTITUTION',
  PLUGIN_NOT_FOUND: 'TAPIO_PLUGIN_NOT_FOUND',
  PLUGIN_NOT_A_COMPONENT: 'TAPIO_PLUGIN_NOT_A_COMPONENT',
  PLUGIN_CORE_MISMATCH: 'TAPIO_PLUGIN_CORE_MISMATCH',
  PLUGIN_DUPLICATE_TYPE: 'TAPIO_PLUGIN_DUPLICATE_TYPE',
  PLUGIN_BAD_FACTORY: 'TAPIO_PLUGIN_BAD_FACTORY',
  COMPONENT_START: 'TAPIO_COMPONENT_START',
  RETRYABLE: 'TAPIO_RETRYABLE',
  PERMANENT: 'TAPIO_PERMANENT',
  SHUTTING_DOWN: 'TAPIO_SHUTTING_DOWN',
  QUEUE_FULL: 'TAPIO_QUEUE_FULL',
} as const;

export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes];

export class TapioError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = 'TapioError';
  }
}

/**
 * consume() rejects with this when the data may succeed later (queue full, memory limit,
 * downstream unavailable). Receivers turn it into gRPC UNAVAILABLE / HTTP 503.
 * `retryAfterMs` is a hint for the client.
 */
export class RetryableError extends TapioError {
  readonly retryAfterMs: number | undefined;
  constructor(message: string, options?: { cause?: unknown; retryAfterMs?: number; code?: ErrorCode }) {
    super(options?.code ?? ErrorCodes.RETRYABLE, message, options);
    this.name = 'RetryableError';
    this.retryAfterMs = options?.retryAfterMs;
  }
}

/** consume() rejects with this when retrying can never help (malformed data, rejected by the backend). */
export class PermanentError extends TapioError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(ErrorCodes.PERMANENT, message, options);
    this.name = 'PermanentError';
  }
}

export function isRetryable(err: unknown): boolean {
  if (err instanceof RetryableError) return true;
  // Duck-typed so that errors from a plugin that bundles its own copy of core still work.
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === ErrorCodes.RETRYABLE;
}

export function isPermanent(err: unknown): boolean {
  if (err instanceof PermanentError) return true;
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === ErrorCodes.PERMANENT;
}

/** One config problem: where it is (config path and file:line:col) and what is wrong. */
export interface ConfigIssue {
  path: string;
  location?: { file: string; line: number; col: number };
  message: string;
}

export function formatConfigIssue(issue: ConfigIssue): string {
  const where = issue.location ? ` (${issue.location.file}:${issue.location.line}:${issue.location.col})` : '';
  return `${issue.path || '<root>'}${where}: ${issue.message}`;
}

/** All the problems of a config, reported together. */
export class ConfigError extends TapioError {
  readonly issues: ConfigIssue[];
  constructor(issues: ConfigIssue[]) {
    super(ErrorCodes.CONFIG_INVALID, `invalid configuration (${issues.length} error${issues.length === 1 ? '' : 's'}):\n` + issues.map((i) => '  ' + formatConfigIssue(i)).join('\n'));
    this.name = 'ConfigError';
    this.issues = issues;
  }
}

/** The text a command line prints for an error: every config issue on its own line. */
export function describeError(err: unknown, what = 'configuration'): string {
  if (err instanceof ConfigError) {
    const n = err.issues.length;
    return `Error: invalid ${what}, ${n} problem${n === 1 ? '' : 's'}:\n` + err.issues.map((i) => `  ${formatConfigIssue(i)}\n`).join('');
  }
  return `Error: ${(err as Error).message}\n`;
}
