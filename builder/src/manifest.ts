import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  compileSchema, ConfigError, explainAjvErrors, loadConfigSources, locate, type ComponentKind, type ConfigIssue,
} from '@tapio/core';

/** One component of a distribution, as written in the manifest and as resolved. */
export interface ComponentEntry {
  kind: ComponentKind;
  /** npm spec to install: `@tapio/receiver-otlp@^0.1.0`, `file:/abs/path`, `file:/abs/pkg.tgz`. */
  installSpec: string;
  /** Package name when known before install (always known for paths). */
  packageName?: string;
  /** Absolute directory for local path entries. */
  dir?: string;
  /** Manifest path of the entry, for error messages (`receivers.2`). */
  where: string;
}

export interface BuildManifest {
  file: string;
  dir: string;
  dist: { name: string; description: string; version: string; output_path: string; node: string; core?: string };
  components: ComponentEntry[];
  defaultConfigText?: string;
}

// A string spec, or {package, version} / {path}. One schema for both shapes (rather than oneOf)
// keeps error messages to the one that applies; "package or path" is checked in code.
const ENTRY = {
  type: ['string', 'object'],
  minLength: 1,
  additionalProperties: false,
  properties: { package: { type: 'string', minLength: 1 }, version: { type: 'string' }, path: { type: 'string', minLength: 1 } },
};

export const MANIFEST_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: ['dist'],
  properties: {
    dist: {
      type: 'object', additionalProperties: false, required: ['name'],
      properties: {
        name: { type: 'string', pattern: '^[a-z0-9][a-z0-9._-]*$' },
        description: { type: 'string', default: '' },
        version: { type: 'string', pattern: '^\\d+\\.\\d+\\.\\d+', default: '0.1.0' },
        output_path: { type: 'string', default: './dist' },
        node: { type: 'string', default: '>=20.6.0' },
        core: { type: 'string', description: '@tapio/core to bundle: a path or a version; default: the core next to this builder' },
      },
    },
    receivers: { type: 'array', items: ENTRY, default: [] },
    processors: { type: 'array', items: ENTRY, default: [] },
    exporters: { type: 'array', items: ENTRY, default: [] },
    extensions: { type: 'array', items: ENTRY, default: [] },
    default_config: { type: ['object', 'string'] },
  },
};

const LISTS: [string, ComponentKind][] = [['receivers', 'receiver'], ['processors', 'processor'], ['exporters', 'exporter'], ['extensions', 'extension']];

/** Reads and validates a manifest; every problem is reported with its path and file:line:col. */
export function readBuildManifest(file: string): BuildManifest {
  const abs = path.resolve(file);
  const loaded = loadConfigSources([abs], [], {}, { expand: false });
  const issues: ConfigIssue[] = [...loaded.issues];
  const raw = structuredClone(loaded.raw) as Record<string, any>;
  const validate = compileSchema(MANIFEST_SCHEMA);
  if (!validate(raw)) {
    for (const e of explainAjvErrors(validate.errors, MANIFEST_SCHEMA)) {
      issues.push({ path: e.parts.join('.'), location: locate(loaded.positions, e.parts, e.onValue), message: e.message });
    }
  }
  if (issues.length) throw new ConfigError(issues);
  const dir = path.dirname(abs);
  const components: ComponentEntry[] = [];
  for (const [key, kind] of LISTS) {
    (raw[key] as unknown[]).forEach((entry, i) => {
      const where = `${key}.${i}`;
      if (typeof entry === 'object' && entry && !('package' in entry) && !('path' in entry)) {
        issues.push({ path: where, location: locate(loaded.positions, [key, i], true), message: 'needs "package" (an npm name) or "path" (a local directory or tarball)' });
        return;
      }
      const c = toEntry(kind, entry, dir, where);
      if (c.dir && !fs.existsSync(path.join(c.dir, 'package.json'))) {
        issues.push({ path: where, location: locate(loaded.positions, [key, i], true), message: `no package.json in ${c.dir}` });
      }
      components.push(c);
    });
  }
  if (issues.length) throw new ConfigError(issues);
  let defaultConfigText: string | undefined;
  if (typeof raw.default_config === 'string') defaultConfigText = fs.readFileSync(path.resolve(dir, raw.default_config), 'utf8');
  else if (raw.default_config) defaultConfigText = JSON.stringify(raw.default_config, null, 2);
  return { file: abs, dir, dist: raw.dist, components, defaultConfigText };
}

function toEntry(kind: ComponentKind, entry: unknown, dir: string, where: string): ComponentEntry {
  if (typeof entry === 'string') {
    if (entry.startsWith('.') || entry.startsWith('/')) {
      const p = path.resolve(dir, entry);
      if (entry.endsWith('.tgz')) return { kind, installSpec: `file:${p}`, where };
      return { kind, installSpec: `file:${p}`, dir: p, packageName: readName(p), where };
    }
    const name = entry.replace(/(?!^)@.*$/, '');
    return { kind, installSpec: entry, packageName: name, where };
  }
  const e = entry as { package?: string; version?: string; path?: string };
  if (e.path) {
    const p = path.resolve(dir, e.path);
    return { kind, installSpec: `file:${p}`, dir: p, packageName: e.package ?? readName(p), where };
  }
  return { kind, installSpec: e.version ? `${e.package}@${e.version}` : e.package!, packageName: e.package, where };
}

function readName(dir: string): string | undefined {
  try { return (JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')) as { name?: string }).name; } catch { return undefined; }
}
