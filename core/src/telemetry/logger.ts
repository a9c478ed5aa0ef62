import pino from 'pino';

export type Logger = pino.Logger;
export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent';

/**
 * Structured JSON logs on stderr (stdout stays free for the debug exporter and CLI output).
 * Synchronous writes so that the last lines before an exit or crash are not lost.
 */
export function createLogger(level: LogLevel = 'info', dest: number | NodeJS.WritableStream = 2): Logger {
  const stream = typeof dest === 'number' ? pino.destination({ dest, sync: true }) : dest;
  return pino({ level, base: undefined, timestamp: pino.stdTimeFunctions.isoTime }, stream);
}

export function componentLogger(parent: Logger, kind: string, id: string): Logger {
  return parent.child({ kind, component: id });
}
