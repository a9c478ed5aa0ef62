/**
 * The one event model every pipeline speaks (ARCHITECTURE.md §2).
 *
 * Nanos: unix nanoseconds as a JS number. A double holds today's unix-ns values to within
 * 256 ns, which is plenty for ordering, windows and baselines, and costs nothing to create,
 * compare or serialise. bigint is exact but allocates per value and is not JSON-safe; exact
 * OTLP timestamps are kept losslessly as decimal strings inside the `span`/`log`/`metric`
 * payloads, so precision is never lost on OTLP in → OTLP out.
 */
export type Nanos = number;

export type AttributeValue =
  | string
  | number
  | boolean
  | null
  | AttributeValue[]
  | { [key: string]: AttributeValue };

export type Attributes = Record<string, AttributeValue>;

export type EventKind = 'span' | 'log' | 'metric' | 'k8s' | 'kernel' | 'network' | 'correlation';
export const EVENT_KINDS: readonly EventKind[] = ['span', 'log', 'metric', 'k8s', 'kernel', 'network', 'correlation'];

export type Severity = 'debug' | 'info' | 'warn' | 'error' | 'fatal';
export const SEVERITIES: readonly Severity[] = ['debug', 'info', 'warn', 'error', 'fatal'];

export interface TraceContext {
  traceId: string;
  spanId?: string;
  parentSpanId?: string;
  traceState?: string;
  flags?: number;
}

/** The thing an event is about. */
export interface EntityRef {
  kind: 'service' | 'pod' | 'container' | 'node' | 'deployment' | 'replicaset' | 'statefulset' | 'daemonset' | 'job' | 'process' | 'host' | string;
  name: string;
  namespace?: string;
  uid?: string;
}

/** OTLP-shaped payloads keep every field they arrived with; exact timestamps stay decimal strings. */
export interface SpanPayload {
  name: string;
  kind?: number;
  startTimeUnixNano: string;
  endTimeUnixNano: string;
  durationMs?: number;
  status?: { code?: number; message?: string };
  [otlpField: string]: unknown;
}

export interface LogPayload {
  body?: AttributeValue;
  severityNumber?: number;
  severityText?: string;
  [otlpField: string]: unknown;
}

export interface MetricPayload {
  name: string;
  type?: 'gauge' | 'sum' | 'histogram' | 'exponentialHistogram' | 'summary';
  value?: number;
  unit?: string;
  [otlpField: string]: unknown;
}

export interface K8sPayload {
  reason: string;
  message?: string;
  type?: string;
  count?: number;
  firstTimestamp?: string;
  lastTimestamp?: string;
  resourceVersion?: string;
  [field: string]: unknown;
}

export interface KernelPayload {
  event: string; // oom_kill, process_exit, process_exec, syscall_error, …
  pid?: number;
  tid?: number;
  comm?: string;
  cgroupId?: number;
  cgroupPath?: string;
  [field: string]: unknown;
}

export interface NetworkPayload {
  event: string; // connection_refused, connection_reset, retransmit, …
  srcAddr?: string;
  srcPort?: number;
  dstAddr?: string;
  dstPort?: number;
  pid?: number;
  comm?: string;
  [field: string]: unknown;
}

export interface SemanticInfo {
  intent: string;
  category: string;
  tags: string[];
  narrative: string;
  confidence: number;
  suggestedActions: string[];
  ruleId?: string;
}

export interface ImpactInfo {
  score: number; // 0..1
  severity: Severity;
  customerFacing: boolean;
  revenueAtRisk?: number;
  affectedUsers?: number;
  sloViolation?: boolean;
  cascadeRisk: number;
  guessed?: boolean;
}

export interface CorrelationInfo {
  groupId: string;
  role: 'root' | 'symptom' | 'evidence';
  chain: string[];
}

export interface UnifiedEvent {
  id: string;
  time: Nanos;
  observedTime: Nanos;
  kind: EventKind;
  source: string;
  severity: Severity;
  trace?: TraceContext;
  resource: Attributes;
  attributes: Attributes;
  entity?: EntityRef;
  span?: SpanPayload;
  log?: LogPayload;
  metric?: MetricPayload;
  k8s?: K8sPayload;
  kernel?: KernelPayload;
  network?: NetworkPayload;
  /** Incident body, for kind 'correlation'. */
  incident?: Record<string, unknown>;
  semantic?: SemanticInfo;
  impact?: ImpactInfo;
  correlation?: CorrelationInfo;
  /** How many identical events this one stands for (set by de-duplication). */
  count?: number;
}

/** What flows between components. `signal` is the pipeline signal the batch travels on. */
export interface Batch {
  events: UnifiedEvent[];
  /**
   * Client metadata of the request the events came in with (header names in lower case → values),
   * set by a receiver with `include_metadata: true`, as the Collector's client.Info. The batch
   * processor's `metadata_keys` keeps batches of different values apart. A component that builds
   * new batches passes it on when all their events share it.
   */
  metadata?: Readonly<Record<string, readonly string[]>>;
}

/**
 * Symbol-keyed slot on a UnifiedEvent for the exact wire bytes it was decoded from (e.g. one OTLP
 * `Span` message). An exporter that speaks the same format may copy them instead of encoding the
 * event again. Symbol keys are skipped by JSON, structuredClone (fan-out copies) and the tapio.v1
 * codec, and the runtime clears the slot before any processor that declares `mutatesData`, so the
 * bytes are only ever used for events nobody could have changed.
 */
export const RAW_WIRE_BYTES: unique symbol = Symbol.for('tapio.rawWireBytes');

export type WithRawWireBytes = { [RAW_WIRE_BYTES]?: Uint8Array };

/**
 * A receiver may hand out events that are class instances decoding some fields on first read
 * (the OTLP receiver's spans decode their attributes lazily: most pipelines never read them).
 * Such an event has a `[TO_PLAIN]()` method returning the same event as plain objects; the runtime
 * calls it before copying events (structuredClone keeps only own data properties), and its
 * `toJSON` does the same for JSON. Everything else reads and writes the fields as usual.
 */
export const TO_PLAIN: unique symbol = Symbol.for('tapio.event.toPlain');

export type MaybeLazyEvent = UnifiedEvent & { [TO_PLAIN]?: () => UnifiedEvent };
