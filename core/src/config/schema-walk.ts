import { isPlainObject } from './source';

/**
 * Walks a config value along its JSON Schema (`properties`, `items`) and calls `visit` on every
 * set value with its sub-schema and path. `visit` returns true when it dealt with the node, and
 * its children are not visited. The schema annotations (x-extension-ref, x-no-effect) are read
 * this way.
 */
export function walkSchema(
  schema: Record<string, unknown> | undefined, value: unknown, path: (string | number)[],
  visit: (schema: Record<string, unknown>, value: unknown, path: (string | number)[]) => boolean,
): void {
  if (!schema || value === undefined || value === null) return;
  if (visit(schema, value, path)) return;
  const props = schema.properties as Record<string, Record<string, unknown>> | undefined;
  if (props && isPlainObject(value)) {
    for (const [k, sub] of Object.entries(props)) if (k in value) walkSchema(sub, value[k], [...path, k], visit);
  }
  const items = schema.items as Record<string, unknown> | undefined;
  if (items && Array.isArray(value)) value.forEach((v, i) => walkSchema(items, v, [...path, i], visit));
}
