import type { JsonSchema } from '@tapio/core';

export interface ServiceEntry {
  /** 1 = most critical … 4 = least. */
  tier?: number;
  /** Customers call this service directly (a user-facing entry point). */
  customer_facing?: boolean;
  /** Value of one successful request; a failed entry request puts this much at risk. */
  revenue_per_request?: number;
  /** Value of one order, for services where a failed entry request is a lost order (checkout, payment). Used when revenue_per_request is not set. */
  average_order_value?: number;
  slo?: { availability?: number; latency_ms?: number };
  owner?: string;
  /** Span names or http.route values that are this service's customer entry points; default: every SERVER span. */
  entry_points?: string[];
}

export interface BurnWindow { window: string; threshold: number }

export interface ImpactConfig {
  /** The service catalog, by service.name. */
  services: Record<string, ServiceEntry>;
  /** Window for failing requests, revenue at risk and distinct affected users. */
  window: string;
  /** Error-budget burn-rate windows; a window whose burn rate reaches its threshold is an SLO violation. */
  burn_rate_windows: BurnWindow[];
  /** A burn rate needs at least this many requests in its window to count. */
  min_requests: number;
  /** Availability objective for services not in the catalog. */
  default_availability: number;
  /** Events below this severity are not scored (spans still feed the windows and the call graph). */
  min_severity: 'debug' | 'info' | 'warn' | 'error' | 'fatal';
  limits: { max_services: number; max_users_per_service: number; max_tracked_spans: number };
}

export const configSchema: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    services: {
      type: 'object',
      default: {},
      additionalProperties: {
        type: 'object',
        additionalProperties: false,
        properties: {
          tier: { type: 'integer', minimum: 1, maximum: 4 },
          customer_facing: { type: 'boolean' },
          revenue_per_request: { type: 'number', minimum: 0 },
          average_order_value: { type: 'number', minimum: 0 },
          slo: {
            type: 'object', additionalProperties: false,
            properties: {
              availability: { type: 'number', exclusiveMinimum: 0, exclusiveMaximum: 1, description: 'e.g. 0.999' },
              latency_ms: { type: 'number', exclusiveMinimum: 0 },
            },
          },
          owner: { type: 'string' },
          entry_points: { type: 'array', items: { type: 'string', minLength: 1 } },
        },
      },
    },
    window: { type: 'string', format: 'duration', default: '15m' },
    burn_rate_windows: {
      type: 'array', minItems: 1,
      items: {
        type: 'object', additionalProperties: false, required: ['window', 'threshold'],
        properties: { window: { type: 'string', format: 'duration' }, threshold: { type: 'number', exclusiveMinimum: 0 } },
      },
      default: [{ window: '5m', threshold: 14.4 }, { window: '1h', threshold: 6 }],
    },
    min_requests: { type: 'integer', minimum: 1, default: 10 },
    default_availability: { type: 'number', exclusiveMinimum: 0, exclusiveMaximum: 1, default: 0.999 },
    min_severity: { enum: ['debug', 'info', 'warn', 'error', 'fatal'], default: 'warn' },
    limits: {
      type: 'object', additionalProperties: false, default: {},
      properties: {
        max_services: { type: 'integer', minimum: 1, default: 2000 },
        max_users_per_service: { type: 'integer', minimum: 1, default: 50000 },
        max_tracked_spans: { type: 'integer', minimum: 100, default: 100000 },
      },
    },
  },
};

export function createDefaultConfig(): ImpactConfig {
  return {
    services: {},
    window: '15m',
    burn_rate_windows: [{ window: '5m', threshold: 14.4 }, { window: '1h', threshold: 6 }],
    min_requests: 10,
    default_availability: 0.999,
    min_severity: 'warn',
    limits: { max_services: 2000, max_users_per_service: 50000, max_tracked_spans: 100000 },
  };
}
