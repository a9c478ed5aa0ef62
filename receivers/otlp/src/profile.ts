/**
 * Per-stage time of the OTLP data plane in this process, for the benchmark's profile. Only
 * collected when TAPIO_OTLP_PROFILE=1 (hrtime calls are cheap but not free).
 */
export const otlpProfile = {
  enabled: process.env.TAPIO_OTLP_PROFILE === '1',
  /** receiver: protobuf → UnifiedEvents (CPU time of the process while decoding, µs) */
  decodeCpuUs: 0,
  /** same, wall clock (ns) */
  decodeNs: 0,
  /** receiver: awaiting the pipeline (processors + exporter, queue wait included) */
  pipelineNs: 0,
  /** exporter: UnifiedEvents → protobuf (CPU µs) */
  encodeCpuUs: 0,
  /** same, wall clock (ns) */
  encodeNs: 0,
  /** exporter: from handing the request to the transport until the answer */
  sendNs: 0,
  requests: 0,
  events: 0,
  exported: 0,
  /** CPU time is read on one request (and one export) in SAMPLE_EVERY: getrusage is not free. */
  decodeSampledEvents: 0,
  encodeSampledEvents: 0,
  /**
   * Latency by stage, in ms, for the first span of every request (the benchmark's load generator
   * stamps its send time there as the start time): send → decoded here, decoded → handed to the
   * exporter's transport (batch + queue), and the export's round trip.
   */
  ingressMs: [] as number[],
  /** of ingress: how long a request waited for its decode turn (see turns.ts) */
  turnWaitMs: [] as number[],
  waitMs: [] as number[],
  exportMs: [] as number[],
  /**
   * The start time (ns) of a request's first span → when it was decoded (wall ms); cleared as
   * exports pick them up. Keyed by the time, not the event: a Map holding the events themselves
   * kept their request buffers alive past young-generation GCs, and that alone made about one
   * mark-compact a second at 170k spans/s (0 without it) — the profile distorted what it measured.
   */
  traced: new Map<number, number>(),
};

export const SAMPLE_EVERY = 8;
const MAX_LATENCY_SAMPLES = 200_000;

/** Wall-clock ms with sub-ms resolution (comparable across processes on one machine). */
export function wallMs(): number {
  return performance.timeOrigin + performance.now();
}

/** Profiling only: a request waited this long for its decode turn. */
export function traceTurnWait(ms: number): void {
  if (otlpProfile.turnWaitMs.length < MAX_LATENCY_SAMPLES) otlpProfile.turnWaitMs.push(ms);
}

/** Profiling only: notes when the first span of a request was decoded. */
export function traceDecoded(first: { time: number }): void {
  if (otlpProfile.ingressMs.length >= MAX_LATENCY_SAMPLES) return;
  const now = wallMs();
  otlpProfile.ingressMs.push(now - first.time / 1e6);
  otlpProfile.traced.set(first.time, now);
}

/** Profiling only: an export of these events starts now; returns the time for traceExported. */
export function traceExportStart(events: readonly { time: number }[]): number {
  const now = wallMs();
  const traced = otlpProfile.traced;
  if (traced.size === 0) return now;
  for (let i = 0; i < events.length; i++) {
    const time = events[i]!.time;
    const at = traced.get(time);
    if (at !== undefined) { otlpProfile.waitMs.push(now - at); traced.delete(time); }
  }
  return now;
}

export function traceExported(start: number): void {
  if (otlpProfile.exportMs.length < MAX_LATENCY_SAMPLES) otlpProfile.exportMs.push(wallMs() - start);
}

/** CPU time of this process so far, in µs (user + system). */
export function cpuMicros(): number {
  const u = process.cpuUsage();
  return u.user + u.system;
}
