import { isPlainObject } from './source';

type NoticeFn = (parts: (string | number)[], message: string) => void;

/**
 * Settings whose schema carries `x-no-effect: "<why>"` are accepted so that an OpenTelemetry
 * Collector config runs unchanged, but Tapio has nothing they could tune (a Go transport's
 * buffer sizes, say). Each one that a config sets becomes a notice with its file:line:col,
 * printed by `tapio validate` and logged at start, so nobody believes it took effect.
 */
export function collectNoEffectNotices(schema: Record<string, unknown> | undefined, value: unknown, path: (string | number)[], notice: NoticeFn): void {
  if (!schema || value === undefined) return;
  const why = schema['x-no-effect'];
  if (typeof why === 'string') {
    notice(path, `accepted for compatibility with the OpenTelemetry Collector, but has no effect in Tapio: ${why}`);
    return;
  }
  const props = schema.properties as Record<string, Record<string, unknown>> | undefined;
  if (props && isPlainObject(value)) {
    for (const [k, sub] of Object.entries(props)) if (k in value) collectNoEffectNotices(sub, value[k], [...path, k], notice);
  }
  const items = schema.items as Record<string, unknown> | undefined;
  if (items && Array.isArray(value)) value.forEach((v, i) => collectNoEffectNotices(items, v, [...path, i], notice));
}
