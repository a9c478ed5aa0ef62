import type { ComponentKind } from '../component/types';
import { closest } from './ajv';
import type { ComponentConfig } from './resolve';
import { walkSchema } from './schema-walk';

type IssueFn = (parts: (string | number)[], message: string, onValue?: boolean) => void;

/**
 * Settings whose schema says `x-extension-ref: true` name an extension (an authenticator, a
 * storage). They are checked when the config is validated, with the value's file:line:col, so
 * `tapio validate` catches a typo that would otherwise only fail the start.
 */
export function checkExtensionRefs(sections: Record<ComponentKind, Map<string, ComponentConfig>>, sectionKind: Record<string, ComponentKind>, serviceExtensions: string[], defined: string[], issue: IssueFn): void {
  for (const [section, kind] of Object.entries(sectionKind)) {
    for (const [id, cc] of sections[kind]) walkSchema(cc.factory.configSchema as Record<string, unknown>, cc.config, [section, id], check);
  }

  function check(schema: Record<string, unknown>, value: unknown, path: (string | number)[]): boolean {
    if (schema['x-extension-ref'] !== true || typeof value !== 'string') return false;
    if (serviceExtensions.includes(value)) return true;
    if (defined.includes(value)) issue(path, `extension "${value}" is defined but not listed in service.extensions`, true);
    else {
      const near = closest(value, defined);
      issue(path, `no extension "${value}" is defined under extensions` + (near ? `; did you mean "${near}"?` : ''), true);
    }
    return true;
  }
}
