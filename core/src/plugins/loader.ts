import * as fs from 'node:fs';
import * as path from 'node:path';
import * as semver from 'semver';
import { isFactory } from '../component/define';
import type { AnyFactory } from '../component/types';
import { ErrorCodes, TapioError } from '../errors';
import { CORE_VERSION } from '../version';
import type { Registry } from './registry';

interface PluginPackageJson {
  name?: string;
  version?: string;
  main?: string;
  tapio?: { kind: string; type: string } | { kind: string; type: string }[];
  peerDependencies?: Record<string, string>;
}

function isPathSpec(spec: string): boolean {
  return spec.startsWith('.') || spec.startsWith('/') || /^[A-Za-z]:[\\/]/.test(spec);
}

/** Finds a plugin package's directory from an npm package name or a filesystem path. */
export function resolvePluginDir(spec: string, fromDir: string): string {
  if (isPathSpec(spec)) {
    const dir = path.resolve(fromDir, spec);
    if (!fs.existsSync(path.join(dir, 'package.json'))) {
      throw new TapioError(ErrorCodes.PLUGIN_NOT_FOUND, `plugin "${spec}": no package.json in ${dir}`);
    }
    return dir;
  }
  try {
    return path.dirname(require.resolve(`${spec}/package.json`, { paths: [fromDir, process.cwd(), __dirname] }));
  } catch {
    throw new TapioError(ErrorCodes.PLUGIN_NOT_FOUND, `plugin "${spec}" is not installed (looked from ${fromDir}); install it with npm or pass a path`);
  }
}

/**
 * Loads one plugin package: checks its `tapio` metadata and its `@tapio/core` peer range
 * against this core, requires it, and registers every factory it exports.
 */
export function loadPlugin(spec: string, registry: Registry, fromDir = process.cwd()): AnyFactory[] {
  const dir = resolvePluginDir(spec, fromDir);
  const pkg = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')) as PluginPackageJson;
  const name = pkg.name ?? spec;
  if (!pkg.tapio) {
    throw new TapioError(ErrorCodes.PLUGIN_NOT_A_COMPONENT, `plugin ${name} (${dir}) has no "tapio": {"kind", "type"} field in its package.json, so it is not a Tapio component`);
  }
  checkCoreRange(name, pkg);
  let mod: Record<string, unknown>;
  try {
    mod = require(dir) as Record<string, unknown>;
  } catch (err) {
    throw new TapioError(ErrorCodes.PLUGIN_BAD_FACTORY, `plugin ${name} failed to load: ${(err as Error).message}`, { cause: err });
  }
  const declared = Array.isArray(pkg.tapio) ? pkg.tapio : [pkg.tapio];
  const exported = collectFactories(mod);
  const factories: AnyFactory[] = [];
  for (const d of declared) {
    const f = exported.find((x) => x.kind === d.kind && x.type === d.type);
    if (!f) {
      throw new TapioError(ErrorCodes.PLUGIN_BAD_FACTORY, `plugin ${name} declares ${d.kind} "${d.type}" in package.json but exports no such factory (exports: ${exported.map((x) => `${x.kind} ${x.type}`).join(', ') || 'none'})`);
    }
    registry.register(f, name, pkg.version ?? '0.0.0');
    factories.push(f);
  }
  return factories;
}

export function checkCoreRange(name: string, pkg: PluginPackageJson): void {
  const range = pkg.peerDependencies?.['@tapio/core'];
  if (!range) {
    throw new TapioError(ErrorCodes.PLUGIN_CORE_MISMATCH, `plugin ${name} does not declare @tapio/core as a peer dependency; add "peerDependencies": {"@tapio/core": "^${semver.major(CORE_VERSION)}.${semver.minor(CORE_VERSION)}.0"}`);
  }
  if (!semver.satisfies(CORE_VERSION, range, { includePrerelease: true })) {
    throw new TapioError(ErrorCodes.PLUGIN_CORE_MISMATCH, `plugin ${name}@${pkg.version ?? '?'} requires @tapio/core ${range}, but this collector runs @tapio/core ${CORE_VERSION}`);
  }
}

function collectFactories(mod: Record<string, unknown>): AnyFactory[] {
  const out: AnyFactory[] = [];
  const add = (x: unknown): void => {
    if (Array.isArray(x)) x.forEach(add);
    else if (isFactory(x) && !out.includes(x)) out.push(x);
  };
  add(mod.default);
  add(mod.factories);
  for (const v of Object.values(mod)) add(v);
  return out;
}
