import { walkSchema } from './schema-walk';

type NoticeFn = (parts: (string | number)[], message: string) => void;

/**
 * Settings whose schema carries `x-no-effect: "<why>"` are accepted so that an OpenTelemetry
 * Collector config runs unchanged, but Tapio has nothing they could tune (a Go transport's
 * buffer sizes, say). Each one that a config sets becomes a notice with its file:line:col,
 * printed by `tapio validate` and logged at start, so nobody believes it took effect.
 */
export function collectNoEffectNotices(schema: Record<string, unknown> | undefined, value: unknown, path: (string | number)[], notice: NoticeFn): void {
  walkSchema(schema, value, path, (s, _v, at) => {
    const why = s['x-no-effect'];
    if (typeof why !== 'string') return false;
    notice(at, `accepted for compatibility with the OpenTelemetry Collector, but has no effect in Tapio: ${why}`);
    return true;
  });
}
