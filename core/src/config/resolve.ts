import type { AnyFactory, ComponentKind, Signal } from '../component/types';
import { SIGNALS } from '../component/types';
import { stabilityFor, supportedSignals } from '../component/define';
import type { ConfigIssue } from '../errors';
import type { Registry } from '../plugins/registry';
import { closest, compileSchema, explainAjvErrors } from './ajv';
import { checkExtensionRefs } from './refs';
import { collectNoEffectNotices } from './no-effect';
import { deepMerge, isPlainObject, locate, type LoadedConfig } from './source';

export interface ComponentConfig {
  id: string;
  kind: ComponentKind;
  type: string;
  factory: AnyFactory;
  config: Record<string, unknown>;
}

export interface PipelineConfig {
  id: string;
  signal: Signal;
  receivers: string[];
  processors: string[];
  exporters: string[];
}

export interface TelemetryConfig {
  logs: { level: 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent' };
  metrics: { address: string; level: 'none' | 'basic' | 'normal' | 'detailed' };
}

export interface ResolvedConfig {
  receivers: Map<string, ComponentConfig>;
  processors: Map<string, ComponentConfig>;
  exporters: Map<string, ComponentConfig>;
  extensions: Map<string, ComponentConfig>;
  pipelines: Map<string, PipelineConfig>;
  serviceExtensions: string[];
  telemetry: TelemetryConfig;
  /** The merged, substituted config with defaults filled in. */
  effective: Record<string, unknown>;
}

const SECTION_KIND: Record<string, ComponentKind> = { receivers: 'receiver', processors: 'processor', exporters: 'exporter', extensions: 'extension' };
const TOP_KEYS = ['receivers', 'processors', 'exporters', 'extensions', 'service', 'plugins'];
const ID = /^([a-zA-Z][a-zA-Z0-9_]*)(?:\/([^/\s]+))?$/;

export const DEFAULT_TELEMETRY: TelemetryConfig = {
  logs: { level: 'info' },
  metrics: { address: 'localhost:8888', level: 'normal' },
};

/**
 * Turns a loaded config into a resolved one, or collects every problem: unknown keys, unknown
 * component types (with the known ones and the closest), schema violations per component,
 * pipelines referencing undefined components or components of the wrong kind or signal.
 */
export function resolveConfig(loaded: LoadedConfig, registry: Registry): { config?: ResolvedConfig; issues: ConfigIssue[]; notices: ConfigIssue[] } {
  const issues: ConfigIssue[] = [...loaded.issues];
  const pos = loaded.positions;
  const raw = loaded.raw;
  const issue = (parts: (string | number)[], message: string, onValue = false): void => {
    issues.push({ path: parts.join('.'), location: locate(pos, parts, onValue), message });
  };
  const notices: ConfigIssue[] = [...(loaded.notices ?? [])];
  const notice = (parts: (string | number)[], message: string): void => {
    notices.push({ path: parts.join('.'), location: locate(pos, parts, true), message });
  };
  // Ids of components that are defined but invalid: pipelines naming them get no second error.
  const invalid = new Set<string>();

  for (const key of Object.keys(raw)) {
    if (!TOP_KEYS.includes(key)) {
      const near = closest(key, TOP_KEYS);
      issue([key], `unknown top-level key "${key}"` + (near ? `; did you mean "${near}"?` : ` (known: ${TOP_KEYS.join(', ')})`));
    }
  }

  const effective: Record<string, unknown> = { ...raw };
  const sections = {} as Record<ComponentKind, Map<string, ComponentConfig>>;
  for (const [section, kind] of Object.entries(SECTION_KIND)) {
    const map = new Map<string, ComponentConfig>();
    sections[kind] = map;
    const value = raw[section];
    if (value === undefined || value === null) continue;
    if (!isPlainObject(value)) { issue([section], 'must be a mapping of component id → settings'); continue; }
    const effSection: Record<string, unknown> = {};
    for (const [id, settings] of Object.entries(value)) {
      const cc = resolveComponent(kind, section, id, settings, registry, issue);
      if (cc) {
        map.set(id, cc);
        effSection[id] = cc.config;
        // the settings as written: defaults filled in by the schema are not the user's doing
        collectNoEffectNotices(cc.factory.configSchema as Record<string, unknown>, settings, [section, id], notice);
      } else invalid.add(`${kind}:${id}`);
    }
    effective[section] = effSection;
  }

  const service = raw.service ?? {};
  const pipelines = new Map<string, PipelineConfig>();
  const serviceExtensions: string[] = [];
  let telemetry = DEFAULT_TELEMETRY;
  if (!isPlainObject(service)) {
    issue(['service'], 'must be a mapping with pipelines, extensions and telemetry');
  } else {
    for (const key of Object.keys(service)) {
      if (!['pipelines', 'extensions', 'telemetry'].includes(key)) {
        const near = closest(key, ['pipelines', 'extensions', 'telemetry']);
        issue(['service', key], `unknown key "${key}"` + (near ? `; did you mean "${near}"?` : ' (known: pipelines, extensions, telemetry)'));
      }
    }
    resolveServiceExtensions(service.extensions, sections, serviceExtensions, issue);
    checkExtensionRefs(sections, SECTION_KIND, serviceExtensions, [...sections.extension.keys()], issue);
    resolvePipelines(service.pipelines, sections, pipelines, issue, invalid);
    telemetry = resolveTelemetry(service.telemetry, issue, notice);
  }
  if (issues.length) return { issues, notices };
  return {
    issues, notices,
    config: {
      receivers: sections.receiver, processors: sections.processor, exporters: sections.exporter, extensions: sections.extension,
      pipelines, serviceExtensions, telemetry, effective,
    },
  };
}

type IssueFn = (parts: (string | number)[], message: string, onValue?: boolean) => void;
type NoticeFn = (parts: (string | number)[], message: string) => void;

function resolveComponent(kind: ComponentKind, section: string, id: string, settings: unknown, registry: Registry, issue: IssueFn): ComponentConfig | undefined {
  const m = ID.exec(id);
  if (!m) { issue([section, id], `invalid component id "${id}": expected type or type/name`); return undefined; }
  const type = m[1]!;
  const reg = registry.get(kind, type);
  if (!reg) {
    const known = registry.types(kind);
    const near = closest(type, known);
    issue([section, id], `unknown ${kind} type "${type}"` + (near ? `; did you mean "${near}"?` : '') + ` (known ${kind}s: ${known.join(', ') || 'none'})`);
    return undefined;
  }
  const factory = reg.factory;
  if (settings !== null && settings !== undefined && !isPlainObject(settings)) {
    issue([section, id], 'settings must be a mapping (or empty)');
    return undefined;
  }
  const config = deepMerge((factory.createDefaultConfig?.() ?? {}) as Record<string, unknown>, (settings ?? {}) as Record<string, unknown>);
  const validate = compileSchema(factory.configSchema);
  if (!validate(config)) {
    for (const e of explainAjvErrors(validate.errors, factory.configSchema)) issue([section, id, ...e.parts], e.message, e.onValue);
    return undefined;
  }
  if (factory.validate) {
    let problems: { path?: (string | number)[]; message: string }[];
    try { problems = factory.validate(config); } catch (err) { problems = [{ message: (err as Error).message }]; }
    for (const p of problems) issue([section, id, ...(p.path ?? [])], p.message, true);
    if (problems.length) return undefined;
  }
  return { id, kind, type, factory, config };
}

function resolveServiceExtensions(value: unknown, sections: Record<ComponentKind, Map<string, ComponentConfig>>, out: string[], issue: IssueFn): void {
  if (value === undefined || value === null) return;
  if (!Array.isArray(value)) { issue(['service', 'extensions'], 'must be a list of extension ids'); return; }
  value.forEach((id, i) => {
    if (typeof id !== 'string') { issue(['service', 'extensions', i], 'must be an extension id'); return; }
    if (!sections.extension.has(id)) {
      issue(['service', 'extensions', i], `extension "${id}" is not defined under extensions` + hint(id, [...sections.extension.keys()]));
      return;
    }
    out.push(id);
  });
}

function hint(id: string, defined: string[]): string {
  const near = closest(id, defined);
  return near ? `; did you mean "${near}"?` : defined.length ? ` (defined: ${defined.join(', ')})` : '';
}

const PIPELINE_KEYS = ['receivers', 'processors', 'exporters'] as const;
const KIND_OF_LIST: Record<(typeof PIPELINE_KEYS)[number], ComponentKind> = { receivers: 'receiver', processors: 'processor', exporters: 'exporter' };

function resolvePipelines(value: unknown, sections: Record<ComponentKind, Map<string, ComponentConfig>>, out: Map<string, PipelineConfig>, issue: IssueFn, invalid: Set<string>): void {
  if (value === undefined || value === null || (isPlainObject(value) && Object.keys(value).length === 0)) {
    issue(['service', 'pipelines'], 'at least one pipeline is required');
    return;
  }
  if (!isPlainObject(value)) { issue(['service', 'pipelines'], 'must be a mapping of pipeline id → {receivers, processors, exporters}'); return; }
  for (const [pid, def] of Object.entries(value)) {
    const base = ['service', 'pipelines', pid];
    const m = /^([a-z]+)(?:\/(.+))?$/.exec(pid);
    const signal = m?.[1] as Signal | undefined;
    if (!signal || !SIGNALS.includes(signal)) {
      issue(base, `invalid pipeline id "${pid}": expected signal[/name] with signal one of ${SIGNALS.join(', ')}`);
      continue;
    }
    if (!isPlainObject(def)) { issue(base, 'must be a mapping with receivers, processors and exporters'); continue; }
    for (const k of Object.keys(def)) {
      if (!(PIPELINE_KEYS as readonly string[]).includes(k)) issue([...base, k], `unknown key "${k}"` + hint(k, [...PIPELINE_KEYS]));
    }
    const p: PipelineConfig = { id: pid, signal, receivers: [], processors: [], exporters: [] };
    for (const listKey of PIPELINE_KEYS) {
      const list = def[listKey];
      if (list === undefined || list === null) {
        if (listKey !== 'processors') issue([...base, listKey], `a pipeline needs at least one ${KIND_OF_LIST[listKey]}`);
        continue;
      }
      if (!Array.isArray(list)) { issue([...base, listKey], `must be a list of ${KIND_OF_LIST[listKey]} ids`); continue; }
      if (list.length === 0 && listKey !== 'processors') issue([...base, listKey], `a pipeline needs at least one ${KIND_OF_LIST[listKey]}`);
      list.forEach((id, i) => {
        const where = [...base, listKey, i];
        if (typeof id !== 'string') { issue(where, 'must be a component id'); return; }
        const kind = KIND_OF_LIST[listKey];
        const cc = sections[kind].get(id);
        if (!cc && invalid.has(`${kind}:${id}`)) return; // already reported where it is defined
        if (!cc) {
          const otherKind = (Object.keys(sections) as ComponentKind[]).find((k) => k !== kind && sections[k].has(id));
          if (otherKind) issue(where, `"${id}" is a${otherKind === 'extension' || otherKind === 'exporter' ? 'n' : ''} ${otherKind}, not a ${kind}`);
          else issue(where, `${kind} "${id}" is not defined under ${listKey}` + hint(id, [...sections[kind].keys()]));
          return;
        }
        if (stabilityFor(cc.factory, signal) === undefined) {
          issue(where, `${kind} "${id}" does not support signal "${signal}" (it supports: ${supportedSignals(cc.factory).join(', ')})`);
          return;
        }
        if (listKey === 'processors' && p.processors.includes(id)) { issue(where, `processor "${id}" appears twice in this pipeline`); return; }
        p[listKey].push(id);
      });
    }
    out.set(pid, p);
  }
}

function resolveTelemetry(value: unknown, issue: IssueFn, notice: NoticeFn): TelemetryConfig {
  const t: TelemetryConfig = { logs: { ...DEFAULT_TELEMETRY.logs }, metrics: { ...DEFAULT_TELEMETRY.metrics } };
  if (value === undefined || value === null) return t;
  const validate = compileSchema(TELEMETRY_SCHEMA);
  const v = structuredClone(value);
  if (!validate(v)) {
    for (const e of explainAjvErrors(validate.errors, TELEMETRY_SCHEMA)) issue(['service', 'telemetry', ...e.parts], e.message, e.onValue);
    return t;
  }
  collectNoEffectNotices(TELEMETRY_SCHEMA, value, ['service', 'telemetry'], notice);
  const obj = v as { logs?: { level?: string }; metrics?: { address?: string; level?: TelemetryConfig['metrics']['level']; readers?: MetricReader[] } };
  // zap levels are case-insensitive in the Collector (INFO, info)
  if (obj.logs?.level) t.logs.level = obj.logs.level.toLowerCase() as TelemetryConfig['logs']['level'];
  if (obj.metrics?.level) t.metrics.level = obj.metrics.level;
  if (obj.metrics?.address) t.metrics.address = obj.metrics.address;
  // The Collector's newer form (metrics.readers, v0.111+): a pull reader with a Prometheus exporter is our endpoint.
  const readers = obj.metrics?.readers ?? [];
  const pullAt = readers.findIndex((r) => r.pull?.exporter?.prometheus);
  readers.forEach((r, i) => {
    if (i !== pullAt) notice(['service', 'telemetry', 'metrics', 'readers', i], 'Tapio serves its own metrics from one Prometheus endpoint (the first pull reader); this reader is ignored');
  });
  if (pullAt >= 0) {
    if (obj.metrics?.address) issue(['service', 'telemetry', 'metrics', 'readers'], 'set either metrics.address or a pull reader, not both');
    const prom = readers[pullAt]!.pull!.exporter!.prometheus!;
    const host = prom.host ?? 'localhost';
    t.metrics.address = `${host.includes(':') ? `[${host}]` : host}:${prom.port ?? 8888}`;
  }
  return t;
}

interface MetricReader { pull?: { exporter?: { prometheus?: { host?: string; port?: number } } }; periodic?: unknown }

/** Collector telemetry settings Tapio accepts but does not act on (its logger and metrics are its own). */
const NO_EFFECT_LOGS = 'Tapio writes JSON logs to stderr';
const NO_EFFECT_TRACES = 'Tapio does not trace itself';

export const TELEMETRY_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  properties: {
    logs: {
      type: 'object', additionalProperties: false,
      properties: {
        level: { enum: ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent', 'TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'FATAL', 'SILENT'] },
        encoding: { enum: ['json', 'console'], 'x-no-effect': NO_EFFECT_LOGS },
        development: { type: 'boolean', 'x-no-effect': NO_EFFECT_LOGS },
        disable_caller: { type: 'boolean', 'x-no-effect': NO_EFFECT_LOGS },
        disable_stacktrace: { type: 'boolean', 'x-no-effect': NO_EFFECT_LOGS },
        sampling: { type: 'object', 'x-no-effect': 'Tapio does not sample its own logs' },
        output_paths: { type: 'array', items: { type: 'string' }, 'x-no-effect': NO_EFFECT_LOGS },
        error_output_paths: { type: 'array', items: { type: 'string' }, 'x-no-effect': NO_EFFECT_LOGS },
        initial_fields: { type: 'object', 'x-no-effect': NO_EFFECT_LOGS },
        processors: { type: 'array', 'x-no-effect': 'Tapio does not export its own logs over OTLP' },
      },
    },
    metrics: {
      type: 'object', additionalProperties: false,
      properties: {
        address: { type: 'string', description: 'host:port of the Prometheus /metrics endpoint; port 0 picks a free one' },
        level: { enum: ['none', 'basic', 'normal', 'detailed'] },
        readers: {
          type: 'array',
          description: 'as the Collector: the first `pull: { exporter: { prometheus: { host, port } } }` reader sets the endpoint',
          items: {
            type: 'object', additionalProperties: false,
            properties: {
              pull: {
                type: 'object',
                properties: {
                  exporter: {
                    type: 'object',
                    properties: { prometheus: { type: 'object', properties: { host: { type: 'string' }, port: { type: 'integer', minimum: 0, maximum: 65535 } } } },
                  },
                },
              },
              periodic: { type: 'object' },
            },
          },
        },
      },
    },
    traces: { type: 'object', 'x-no-effect': NO_EFFECT_TRACES },
    resource: { type: 'object' },
  },
};
