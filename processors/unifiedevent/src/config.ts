import type { Attributes, JsonSchema } from '@tapio/core';

/** A fixed identity for a non-Kubernetes host (by host.name or IP address). */
export interface HostMapping {
  /** service.name to set when the event has none. */
  service?: string;
  /** Node name (k8s.node.name) this host is, if it is a node. */
  node?: string;
  /** Extra resource attributes to insert (existing keys win). */
  resource?: Attributes;
}

/** A static entity: events whose resource matches every `match` key get `entity` and `resource`. */
export interface StaticEntity {
  match: Record<string, string | number | boolean>;
  entity: { kind: string; name: string; namespace?: string; uid?: string };
  resource?: Attributes;
}

export interface UnifiedEventConfig {
  severity: { enabled: boolean };
  entity_resolution: {
    enabled: boolean;
    /** Use the Kubernetes topology host service when a receiver registered one. */
    use_topology: boolean;
    /** Cached cgroup path → container id parses. */
    cache_size: number;
  };
  static_entities: StaticEntity[];
  /** host.name or IP → identity. */
  hosts: Record<string, HostMapping>;
  trace_context: { enabled: boolean; from_body: boolean; from_attributes: boolean };
  dedup: {
    enabled: boolean;
    /** Identical events closer than this (event time) are merged into one with a count. */
    window: string;
    /** Distinct events remembered at once; the oldest is flushed when full. */
    max_entries: number;
    /** Event kinds de-duplicated. Spans and metrics are never identical by nature. */
    kinds: string[];
  };
  /** Events further in the future than this are clamped to the observed time and tagged. `0s` disables. */
  max_clock_skew: string;
}

export const configSchema: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    severity: {
      type: 'object', additionalProperties: false, default: {},
      properties: { enabled: { type: 'boolean', default: true } },
    },
    entity_resolution: {
      type: 'object', additionalProperties: false, default: {},
      properties: {
        enabled: { type: 'boolean', default: true },
        use_topology: { type: 'boolean', default: true },
        cache_size: { type: 'integer', minimum: 16, default: 10000 },
      },
    },
    static_entities: {
      type: 'array', default: [],
      items: {
        type: 'object', additionalProperties: false, required: ['match', 'entity'],
        properties: {
          match: { type: 'object', minProperties: 1, additionalProperties: { type: ['string', 'number', 'boolean'] } },
          entity: {
            type: 'object', additionalProperties: false, required: ['kind', 'name'],
            properties: { kind: { type: 'string', minLength: 1 }, name: { type: 'string', minLength: 1 }, namespace: { type: 'string' }, uid: { type: 'string' } },
          },
          resource: { type: 'object' },
        },
      },
    },
    hosts: {
      type: 'object', default: {},
      additionalProperties: {
        type: 'object', additionalProperties: false,
        properties: { service: { type: 'string', minLength: 1 }, node: { type: 'string', minLength: 1 }, resource: { type: 'object' } },
      },
    },
    trace_context: {
      type: 'object', additionalProperties: false, default: {},
      properties: {
        enabled: { type: 'boolean', default: true },
        from_body: { type: 'boolean', default: true },
        from_attributes: { type: 'boolean', default: true },
      },
    },
    dedup: {
      type: 'object', additionalProperties: false, default: {},
      properties: {
        enabled: { type: 'boolean', default: true },
        window: { type: 'string', format: 'duration', default: '5s' },
        max_entries: { type: 'integer', minimum: 1, default: 10000 },
        kinds: { type: 'array', items: { enum: ['log', 'k8s', 'kernel', 'network'] }, default: ['log', 'k8s', 'kernel', 'network'] },
      },
    },
    max_clock_skew: { type: 'string', format: 'duration', default: '1m' },
  },
};

export function createDefaultConfig(): UnifiedEventConfig {
  return {
    severity: { enabled: true },
    entity_resolution: { enabled: true, use_topology: true, cache_size: 10000 },
    static_entities: [],
    hosts: {},
    trace_context: { enabled: true, from_body: true, from_attributes: true },
    dedup: { enabled: true, window: '5s', max_entries: 10000, kinds: ['log', 'k8s', 'kernel', 'network'] },
    max_clock_skew: '1m',
  };
}
