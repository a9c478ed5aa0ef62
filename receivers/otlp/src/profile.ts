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
};

export const SAMPLE_EVERY = 8;

/** CPU time of this process so far, in µs (user + system). */
export function cpuMicros(): number {
  const u = process.cpuUsage();
  return u.user + u.system;
}
