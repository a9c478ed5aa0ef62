import type { Attributes } from '@tapio/core';
import type { AttributeTypes, JsonAnyValue } from './anyvalue';

/**
 * Where an OTLP item came from, kept on its payload so the exporter can rebuild
 * ResourceX/ScopeX exactly. One object per ResourceX / ScopeX, shared by every event
 * decoded from it (the exporter groups by identity; structuredClone keeps the sharing).
 */
export interface ResourceMeta {
  schemaUrl: string;
  droppedAttributesCount: number;
  entityRefs: EntityRefJson[] | undefined;
  attributeTypes: AttributeTypes | undefined;
}

export interface EntityRefJson {
  schemaUrl?: string;
  type?: string;
  idKeys?: string[];
  descriptionKeys?: string[];
}

export interface ScopeInfo {
  name: string;
  version: string;
  attributes: Attributes;
  droppedAttributesCount: number;
  attributeTypes: AttributeTypes | undefined;
  /** The ScopeX schema_url. */
  schemaUrl: string;
}

export interface SpanEventJson {
  timeUnixNano: string;
  name: string;
  attributes: Attributes;
  droppedAttributesCount: number;
  attributeTypes: AttributeTypes | undefined;
}

export interface SpanLinkJson {
  traceId: string;
  spanId: string;
  traceState: string;
  attributes: Attributes;
  droppedAttributesCount: number;
  flags: number;
  attributeTypes: AttributeTypes | undefined;
}

export interface ExemplarJson {
  filteredAttributes: Attributes;
  timeUnixNano: string;
  asDouble?: number;
  asInt?: number | string;
  spanId: string;
  traceId: string;
  filteredAttributeTypes: AttributeTypes | undefined;
}

export interface BucketsJson {
  offset: number;
  bucketCounts: (number | string)[];
}

/** A metric data point with OTLP/JSON field names; which fields exist depends on the metric type. */
export interface PointJson {
  startTimeUnixNano: string;
  timeUnixNano: string;
  flags: number;
  exemplars?: ExemplarJson[];
  asDouble?: number;
  asInt?: number | string;
  count?: number | string;
  sum?: number;
  bucketCounts?: (number | string)[];
  explicitBounds?: number[];
  min?: number;
  max?: number;
  scale?: number;
  zeroCount?: number | string;
  positive?: BucketsJson;
  negative?: BucketsJson;
  zeroThreshold?: number;
  quantileValues?: { quantile: number; value: number }[];
}

export type MetricType = 'gauge' | 'sum' | 'histogram' | 'exponentialHistogram' | 'summary';

export type { JsonAnyValue };

export const SPAN_STATUS_ERROR = 2;
