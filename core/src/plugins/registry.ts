import type { AnyFactory, ComponentKind } from '../component/types';
import { ErrorCodes, TapioError } from '../errors';

export interface RegisteredFactory {
  factory: AnyFactory;
  /** npm package name and version the factory came from ('' for built-ins registered in code). */
  packageName: string;
  packageVersion: string;
}

/** The components a collector knows, by kind and type. */
export class Registry {
  private readonly byKind: Record<ComponentKind, Map<string, RegisteredFactory>> = {
    receiver: new Map(), processor: new Map(), exporter: new Map(), extension: new Map(),
  };

  register(factory: AnyFactory, packageName = '', packageVersion = ''): void {
    const existing = this.byKind[factory.kind].get(factory.type);
    if (existing) {
      if (existing.factory === factory || (existing.packageName === packageName && packageName !== '')) return;
      throw new TapioError(
        ErrorCodes.PLUGIN_DUPLICATE_TYPE,
        `${factory.kind} type "${factory.type}" is provided twice: by ${existing.packageName || '<code>'}@${existing.packageVersion} and by ${packageName || '<code>'}@${packageVersion}; remove one of them`,
      );
    }
    this.byKind[factory.kind].set(factory.type, { factory, packageName, packageVersion });
  }

  get(kind: ComponentKind, type: string): RegisteredFactory | undefined {
    return this.byKind[kind].get(type);
  }

  types(kind: ComponentKind): string[] {
    return [...this.byKind[kind].keys()].sort();
  }

  all(): RegisteredFactory[] {
    return (Object.keys(this.byKind) as ComponentKind[]).flatMap((k) => [...this.byKind[k].values()]);
  }
}
