import { randomBytes } from 'node:crypto';
import { TO_PLAIN, type Attributes, type EventKind, type MaybeLazyEvent, type Severity, type UnifiedEvent } from './types';

// Event ids: a random per-process prefix plus a counter. Unique across restarts and
// processes, and ~20x cheaper than randomUUID() per event on the hot path.
const idPrefix = randomBytes(6).toString('hex') + '-';
let idCounter = 0;

export function newEventId(): string {
  return eventIdFor(nextEventNumber());
}

/**
 * The number of the next event id, for events that make their id string only when it is read
 * (OTLP spans: a forwarding pipeline never reads it, and the string was ~60 bytes per span).
 */
export function nextEventNumber(): number {
  idCounter = (idCounter + 1) >>> 0;
  return idCounter;
}

/** The id newEventId would have returned for this number. */
export function eventIdFor(n: number): string {
  return idPrefix + n.toString(36);
}

/** Current wall-clock time as unix nanoseconds (see Nanos). */
export function nowNanos(): number {
  return Date.now() * 1e6;
}

export interface EventInit {
  kind: EventKind;
  source: string;
  time?: number;
  severity?: Severity;
  resource?: Attributes;
  attributes?: Attributes;
}

const OPTIONAL_FIELDS = ['trace', 'entity', 'span', 'log', 'metric', 'k8s', 'kernel', 'network', 'incident', 'semantic', 'impact', 'correlation', 'count'] as const;

/**
 * Builds a well-formed UnifiedEvent with defaults for everything not given. The required fields
 * are one literal and optional ones are added in a fixed order, so events share V8 hidden classes
 * (an object spread here made later property writes by processors ~50x slower, measured).
 */
export function createEvent(init: EventInit & Partial<UnifiedEvent>): UnifiedEvent {
  const observed = init.observedTime ?? nowNanos();
  const event: UnifiedEvent = {
    id: init.id ?? newEventId(),
    time: init.time ?? observed,
    observedTime: observed,
    kind: init.kind,
    source: init.source,
    severity: init.severity ?? 'info',
    resource: init.resource ?? {},
    attributes: init.attributes ?? {},
  };
  for (const k of OPTIONAL_FIELDS) {
    const v = init[k];
    if (v !== undefined) (event as unknown as Record<string, unknown>)[k] = v;
  }
  return event;
}

/**
 * Deep copy for a consumer that mutates data on fan-out. structuredClone is the fastest
 * correct deep copy in Node 20 for plain objects (measured ~2x a JSON round trip).
 */
export function cloneEvents(events: UnifiedEvent[]): UnifiedEvent[] {
  let plain: UnifiedEvent[] | undefined;
  for (let i = 0; i < events.length; i++) {
    const toPlain = (events[i] as MaybeLazyEvent)[TO_PLAIN];
    if (toPlain === undefined) continue;
    plain ??= events.slice();
    plain[i] = toPlain.call(events[i]);
  }
  return structuredClone(plain ?? events);
}

export function serviceOf(event: UnifiedEvent): string | undefined {
  const s = event.resource['service.name'];
  return typeof s === 'string' ? s : undefined;
}
