import type { UnifiedEvent } from '@tapio/core';

/** What an operator tells the chain: go on, drop the entry, or keep it (e.g. a partial line held for its rest). */
export const CONTINUE = 0;
export const DROP = 1;
export const HOLD = 2;
export type Verdict = typeof CONTINUE | typeof DROP | typeof HOLD;

/** Per-file state the chain may keep between entries (partial container lines, path metadata). */
export interface FileContext {
  path: string;
  /** Resource keys derived from the path once (Kubernetes pod/container), merged into each entry's resource. */
  pathResource?: Record<string, string | number>;
  /** A partial container line waiting for its continuation (CRI `P`, Docker without trailing newline). */
  partial?: UnifiedEvent;
}

/** Where operators report errors; the receiver turns them into a counter and one warning per operator. */
export interface OperatorEnv {
  parseError(operatorId: string, message: string, quiet: boolean): void;
}

export interface Operator {
  readonly id: string;
  process(e: UnifiedEvent, file: FileContext): Verdict;
}

export type OnError = 'send' | 'send_quiet' | 'drop' | 'drop_quiet';

/** Applies `on_error` after a parse failure: the entry passes through unchanged (counted) or is dropped. */
export function failed(env: OperatorEnv, id: string, onError: OnError, message: string): Verdict {
  env.parseError(id, message, onError.endsWith('_quiet'));
  return onError.startsWith('drop') ? DROP : CONTINUE;
}
