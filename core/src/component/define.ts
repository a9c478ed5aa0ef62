import type {
  AnyFactory, ComponentKind, ExporterFactory, ExtensionFactory, ProcessorFactory, ReceiverFactory, Signal, Stability,
} from './types';
import { SIGNALS } from './types';

/** Marks an object as a Tapio factory; checked by duck typing so plugins with their own core copy still load. */
export const FACTORY_MARK = '__tapioFactory';

function mark<F extends AnyFactory>(f: F): F {
  Object.defineProperty(f, FACTORY_MARK, { value: 1, enumerable: false });
  return f;
}

export function defineReceiver<C>(f: Omit<ReceiverFactory<C>, 'kind'>): ReceiverFactory<C> {
  return mark({ ...f, kind: 'receiver' });
}
export function defineProcessor<C>(f: Omit<ProcessorFactory<C>, 'kind'>): ProcessorFactory<C> {
  return mark({ ...f, kind: 'processor' });
}
export function defineExporter<C>(f: Omit<ExporterFactory<C>, 'kind'>): ExporterFactory<C> {
  return mark({ ...f, kind: 'exporter' });
}
export function defineExtension<C>(f: Omit<ExtensionFactory<C>, 'kind'>): ExtensionFactory<C> {
  return mark({ ...f, kind: 'extension' });
}

export function isFactory(x: unknown): x is AnyFactory {
  if (typeof x !== 'object' || x === null) return false;
  const f = x as Partial<AnyFactory>;
  const kinds: ComponentKind[] = ['receiver', 'processor', 'exporter', 'extension'];
  return typeof f.type === 'string' && kinds.includes(f.kind as ComponentKind) && typeof f.create === 'function' && typeof f.configSchema === 'object';
}

export function stabilityFor(f: AnyFactory, signal: Signal): Stability | undefined {
  if (typeof f.stability === 'string') return f.stability;
  return f.stability[signal];
}

export function supportedSignals(f: AnyFactory): Signal[] {
  if (typeof f.stability === 'string') return [...SIGNALS];
  return SIGNALS.filter((s) => (f.stability as Partial<Record<Signal, Stability>>)[s] !== undefined);
}
