import type { EntityRef, ImpactInfo } from './event/types';

/**
 * The body of a `correlation` event (UnifiedEvent.incident), written by the correlation
 * processor and read by the API, the CLI and the file exporter.
 */
export interface Incident {
  id: string;
  caseId?: string;
  status: 'open' | 'resolved';
  title: string;
  startTimeUnixNano: string;
  endTimeUnixNano?: string;
  detectedTimeUnixNano: string;
  /** Time from the first evidence to detection, in ms. */
  timeToDetectMs: number;
  confidence: number;
  rootCause: { entity: IncidentEntity; narrative: string; eventIds: string[] };
  rankedCauses: { entity: IncidentEntity; score: number; evidence: string[] }[];
  /** Ordered cross-layer chain, earliest first. */
  chain: ChainLink[];
  impact?: ImpactInfo & { services?: string[] };
  recommendations: string[];
}

export interface IncidentEntity {
  service?: string;
  pod?: string;
  namespace?: string;
  node?: string;
  container?: string;
  process?: string;
  kind?: EntityRef['kind'];
}

export interface ChainLink {
  eventId: string;
  time: number;
  layer: 'kernel' | 'kubernetes' | 'network' | 'application';
  kind: string;
  entity?: IncidentEntity;
  summary: string;
  intent?: string;
}
