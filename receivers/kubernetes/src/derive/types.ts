import type { Severity } from '@tapio/core';

/**
 * One fact about an object's state, e.g. "container main is in CrashLoopBackOff". A fact becomes a
 * derived event when it appears; while it holds it is not repeated; when it goes away and comes
 * back it is reported again. `key` identifies the fact within its object.
 */
export interface Fact {
  key: string;
  reason: string;
  message: string;
  type: 'Normal' | 'Warning';
  severity: Severity;
  /** RFC 3339 time the fact started, when the object says so. */
  time?: string;
  containerName?: string;
  exitCode?: number;
  /** Facts about the past (a terminated container) may be skipped when older than the receiver's start. */
  historical?: boolean;
  extra?: Record<string, string | number | boolean>;
}

/** A change between two versions of an object (rollouts, restarts, readiness flips). */
export type Transition = Omit<Fact, 'key' | 'historical'>;
