import type { JsonSchema } from '@tapio/core';

/** A condition as written in YAML. A leaf names a `field` and one or more operators (all must hold). */
export interface ConditionSpec {
  field?: string | string[];
  equals?: string | number | boolean;
  not_equals?: string | number | boolean;
  in?: (string | number | boolean)[];
  regex?: string;
  iregex?: string;
  contains?: string;
  exists?: boolean;
  gt?: number | string;
  gte?: number | string;
  lt?: number | string;
  lte?: number | string;
  all?: ConditionSpec[];
  any?: ConditionSpec[];
  not?: ConditionSpec;
}

export interface RateSpec {
  /** Matching events (weighted by `count`) needed within `window` before the rule fires. */
  count: number;
  window: string;
  /** Fields whose values form the key the rate is counted per (e.g. the destination address). */
  by?: string[];
}

export interface RuleSpec {
  id: string;
  description?: string;
  /** Higher runs first; the first matching rule wins. Default 0. */
  priority?: number;
  match: {
    kind: string | string[];
    all?: ConditionSpec[];
    any?: ConditionSpec[];
    none?: ConditionSpec[];
    rate?: RateSpec;
  };
  set: {
    intent: string;
    category: string;
    tags?: string[];
    confidence?: number;
    narrative: string;
    suggested_actions?: string[];
    /** Raise the event's severity to at least this. */
    severity?: 'debug' | 'info' | 'warn' | 'error' | 'fatal';
  };
  /** Regexes with named groups, run only after a match, whose groups fill `{{match.<group>}}`. */
  extract?: { field: string | string[]; regex: string }[];
  /** Realistic example events (documentation; `tapio rules test` can use them). */
  examples?: unknown[];
}

export interface RuleFile { rules: RuleSpec[] }

export const CATEGORIES = ['resource', 'availability', 'network', 'storage', 'config', 'deployment', 'application', 'performance', 'security'];
export const EVENT_KINDS_MATCHABLE = ['span', 'log', 'metric', 'k8s', 'kernel', 'network', 'correlation'];

const scalar = { type: ['string', 'number', 'boolean'] };
const operand = { type: ['number', 'string'], pattern: '^\\$[a-z_][a-z0-9_]*$' };

/**
 * A condition, nested `all`/`any`/`not` up to `depth` levels. Inlined rather than a recursive
 * `$ref`, so error messages can name the keys that are allowed where a wrong one was written.
 */
function conditionSchema(depth: number): JsonSchema {
  const properties: Record<string, unknown> = {
    field: { anyOf: [{ type: 'string', minLength: 1 }, { type: 'array', minItems: 1, items: { type: 'string', minLength: 1 } }] },
    equals: scalar,
    not_equals: scalar,
    in: { type: 'array', minItems: 1, items: scalar },
    regex: { type: 'string', minLength: 1 },
    iregex: { type: 'string', minLength: 1 },
    contains: { type: 'string', minLength: 1 },
    exists: { type: 'boolean' },
    gt: operand, gte: operand, lt: operand, lte: operand,
  };
  if (depth > 0) {
    const inner = conditionSchema(depth - 1);
    properties.all = { type: 'array', minItems: 1, items: inner };
    properties.any = { type: 'array', minItems: 1, items: inner };
    properties.not = inner;
  }
  return { type: 'object', additionalProperties: false, minProperties: 1, properties };
}

// Two levels below a match list: the shipped rules use one. Each level multiplies the schema by three,
// and ajv compile time with it (4 levels took 2.6 s per compile, twice at every start).
const CONDITION = conditionSchema(2);

export const ruleSchema: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['id', 'match', 'set'],
  properties: {
    id: { type: 'string', pattern: '^[a-z0-9][a-z0-9_.-]*$' },
    description: { type: 'string' },
    priority: { type: 'number' },
    match: {
      type: 'object',
      additionalProperties: false,
      required: ['kind'],
      properties: {
        kind: { anyOf: [{ enum: EVENT_KINDS_MATCHABLE }, { type: 'array', minItems: 1, items: { enum: EVENT_KINDS_MATCHABLE } }] },
        all: { type: 'array', minItems: 1, items: CONDITION },
        any: { type: 'array', minItems: 1, items: CONDITION },
        none: { type: 'array', minItems: 1, items: CONDITION },
        rate: {
          type: 'object', additionalProperties: false, required: ['count', 'window'],
          properties: {
            count: { type: 'number', exclusiveMinimum: 0 },
            window: { type: 'string', format: 'duration' },
            by: { type: 'array', items: { type: 'string', minLength: 1 } },
          },
        },
      },
    },
    set: {
      type: 'object',
      additionalProperties: false,
      required: ['intent', 'category', 'narrative'],
      properties: {
        intent: { type: 'string', pattern: '^[a-z][a-z0-9_]*$' },
        category: { enum: CATEGORIES },
        tags: { type: 'array', items: { type: 'string', minLength: 1 } },
        confidence: { type: 'number', minimum: 0, maximum: 1 },
        narrative: { type: 'string', minLength: 1 },
        suggested_actions: { type: 'array', items: { type: 'string', minLength: 1 } },
        severity: { enum: ['debug', 'info', 'warn', 'error', 'fatal'] },
      },
    },
    extract: {
      type: 'array',
      items: {
        type: 'object', additionalProperties: false, required: ['field', 'regex'],
        properties: {
          field: { anyOf: [{ type: 'string', minLength: 1 }, { type: 'array', minItems: 1, items: { type: 'string', minLength: 1 } }] },
          regex: { type: 'string', minLength: 1 },
        },
      },
    },
    examples: { type: 'array' },
  },
};

export const ruleFileSchema: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['rules'],
  properties: { rules: { type: 'array', items: ruleSchema } },
};
