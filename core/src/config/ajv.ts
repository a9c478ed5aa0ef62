import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import type { JsonSchema } from '../component/types';
import { isByteSize, isDuration } from './duration';

/**
 * One ajv for all component schemas: every error (allErrors), defaults filled from the schema
 * (useDefaults), and Tapio's formats `duration` (200ms, 5s) and `byte-size` (64MiB).
 * `x-secret: true` marks values that print-config redacts; `x-extension-ref: true` marks strings that name an extension (see refs.ts);
 * `x-no-effect: "why"` marks Collector settings accepted without effect (see no-effect.ts).
 */
export function createAjv(): Ajv {
  const ajv = new Ajv({ allErrors: true, useDefaults: true, strict: false, allowUnionTypes: true });
  addFormats(ajv);
  ajv.addFormat('duration', { type: 'string', validate: isDuration });
  ajv.addFormat('byte-size', { type: 'string', validate: isByteSize });
  ajv.addKeyword({ keyword: 'x-secret', schemaType: 'boolean' });
  ajv.addKeyword({ keyword: 'x-extension-ref', schemaType: 'boolean' });
  ajv.addKeyword({ keyword: 'x-no-effect', schemaType: 'string' });
  return ajv;
}

let shared: Ajv | undefined;
const compiled = new WeakMap<object, ValidateFunction>();

export function compileSchema(schema: JsonSchema): ValidateFunction {
  shared ??= createAjv();
  let v = compiled.get(schema);
  if (!v) {
    v = shared.compile(schema);
    compiled.set(schema, v);
  }
  return v;
}

export interface SchemaIssue { parts: (string | number)[]; message: string; /** The problem is the value, not the key. */ onValue: boolean }

/** ajv errors → path parts + a message a human can act on. */
export function explainAjvErrors(errors: ErrorObject[] | null | undefined, schema: JsonSchema): SchemaIssue[] {
  const out: SchemaIssue[] = [];
  const seen = new Set<string>();
  for (const e of errors ?? []) {
    // Branch failures of oneOf/anyOf are reported by their own errors; the summary adds nothing.
    // ...and so is a propertyNames failure, by the error that carries the bad key
    if (e.keyword === 'oneOf' || e.keyword === 'anyOf' || e.keyword === 'if' || e.keyword === 'propertyNames') continue;
    const parts: (string | number)[] = e.instancePath.split('/').slice(1).map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
    let message: string;
    let onValue = true;
    if (e.propertyName !== undefined) {
      parts.push(e.propertyName);
      onValue = false;
      message = `"${e.propertyName}" is not a valid key: it ${e.message ?? `fails ${e.keyword}`}`;
    } else switch (e.keyword) {
      case 'additionalProperties': {
        const key = (e.params as { additionalProperty: string }).additionalProperty;
        parts.push(key);
        onValue = false;
        const known = Object.keys(((subSchema(schema, e.schemaPath) as { properties?: object })?.properties) ?? {});
        const near = closest(key, known);
        message = `unknown key "${key}"` + (near ? `; did you mean "${near}"?` : known.length ? ` (known: ${known.join(', ')})` : '');
        break;
      }
      case 'required':
        onValue = false;
        message = `missing required key "${(e.params as { missingProperty: string }).missingProperty}"`;
        break;
      case 'format': {
        const f = (e.params as { format: string }).format;
        message = f === 'duration' ? 'must be a duration like 200ms, 5s or 1m' : f === 'byte-size' ? 'must be a size like 512KiB or 64MiB' : `must be a valid ${f}`;
        break;
      }
      case 'enum':
        message = `must be one of: ${((e.params as { allowedValues: unknown[] }).allowedValues).map((v) => JSON.stringify(v)).join(', ')}`;
        break;
      case 'type':
        message = `must be ${(e.params as { type: string }).type}`;
        break;
      default:
        message = e.message ?? e.keyword;
    }
    const key = parts.join('.') + '|' + message;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push({ parts, message, onValue });
  }
  return out;
}

function subSchema(schema: JsonSchema, schemaPath: string): unknown {
  // schemaPath looks like '#/properties/x/additionalProperties'; we want the object holding it.
  const segs = schemaPath.replace(/^#\/?/, '').split('/').slice(0, -1);
  let cur: unknown = schema;
  for (const s of segs) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[s.replace(/~1/g, '/').replace(/~0/g, '~')];
  }
  return cur;
}

/** The closest candidate by edit distance, if close enough to be a likely typo. */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  for (const c of candidates) {
    const d = editDistance(word.toLowerCase(), c.toLowerCase());
    if (d < bestD) { bestD = d; best = c; }
  }
  return best !== undefined && bestD <= Math.max(2, Math.floor(word.length / 3)) ? best : undefined;
}

function editDistance(a: string, b: string): number {
  const dp = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = dp[0]!;
    dp[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = dp[j]!;
      dp[j] = Math.min(dp[j]! + 1, dp[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return dp[b.length]!;
}

/** Replaces every value whose schema says `x-secret: true` with "[REDACTED]". */
export function redactSecrets(value: unknown, schema: unknown): unknown {
  if (!schema || typeof schema !== 'object') return value;
  const s = schema as Record<string, unknown>;
  if (s['x-secret'] === true && value !== undefined && value !== null && value !== '') return '[REDACTED]';
  if (Array.isArray(value)) return value.map((v) => redactSecrets(v, s.items));
  if (value && typeof value === 'object') {
    const props = (s.properties ?? {}) as Record<string, unknown>;
    const add = s.additionalProperties;
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = redactSecrets(v, props[k] ?? (typeof add === 'object' ? add : undefined));
    return out;
  }
  return value;
}
