import type { Severity } from '@tapio/core';

/** OpenTelemetry severity numbers (1–24) by name; `error2` etc. are the in-between steps. */
export const SEVERITY_NUMBERS: Record<string, number> = {
  trace: 1, trace2: 2, trace3: 3, trace4: 4,
  debug: 5, debug2: 6, debug3: 7, debug4: 8,
  info: 9, info2: 10, info3: 11, info4: 12,
  warn: 13, warn2: 14, warn3: 15, warn4: 16,
  error: 17, error2: 18, error3: 19, error4: 20,
  fatal: 21, fatal2: 22, fatal3: 23, fatal4: 24,
};

/** The words applications and runtimes commonly write, lower-cased, → severity number. */
export const DEFAULT_SEVERITY_WORDS: Record<string, number> = {
  trace: 1, finest: 1, finer: 2, fine: 5, verbose: 1,
  debug: 5, dbug: 5, dbg: 5, d: 5,
  info: 9, information: 9, informational: 9, notice: 10, i: 9, inf: 9,
  warn: 13, warning: 13, w: 13, wrn: 13,
  error: 17, err: 17, e: 17, eror: 17, severe: 17,
  critical: 21, crit: 21, fatal: 21, f: 21, alert: 23, emerg: 24, emergency: 24, panic: 24,
};

/** UnifiedEvent's five-level severity from an OpenTelemetry severity number (0 = unspecified → info). */
export function severityFromNumber(n: number | undefined): Severity {
  if (n === undefined || n <= 0) return 'info';
  if (n < 9) return 'debug';
  if (n < 13) return 'info';
  if (n < 17) return 'warn';
  if (n < 21) return 'error';
  return 'fatal';
}

/** Short text for a severity number, as OTel prints it (INFO, WARN2 …). */
export function severityText(n: number): string {
  for (const k in SEVERITY_NUMBERS) if (SEVERITY_NUMBERS[k] === n) return k.toUpperCase();
  return '';
}

/** Syslog severities 0 (emerg) … 7 (debug) → OpenTelemetry severity number. */
export const SYSLOG_SEVERITY: readonly number[] = [24, 23, 21, 17, 13, 10, 9, 5];
export const SYSLOG_SEVERITY_NAMES: readonly string[] = ['emerg', 'alert', 'crit', 'err', 'warning', 'notice', 'info', 'debug'];
