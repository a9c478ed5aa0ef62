import * as path from 'node:path';
import type { AnyFactory, CliCommand } from '../component/types';
import { ConfigError, ErrorCodes, TapioError, type ConfigIssue } from '../errors';
import { deepMerge, loadConfigSources, locate, mergeYamlText, type LoadedConfig } from '../config/source';
import { resolveConfig, type ResolvedConfig } from '../config/resolve';
import { loadPlugin } from '../plugins/loader';
import { readManifest, type Manifest } from '../plugins/manifest';
import { Registry } from '../plugins/registry';

/** A statically bundled distribution (what tapio-builder generates). */
export interface DistributionInfo {
  name: string;
  version: string;
  factories: { factory: AnyFactory; packageName: string; packageVersion: string }[];
  defaultConfig?: string;
}

export interface CommonOptions {
  config: string[];
  set: string[];
  plugin: string[];
  manifest?: string;
}

export interface Loaded {
  registry: Registry;
  manifest?: Manifest;
  loaded: LoadedConfig;
  resolved?: ResolvedConfig;
  issues: ConfigIssue[];
  /** Warnings that do not stop the config (unset env variables, settings without effect). */
  notices: ConfigIssue[];
  distName: string;
  distVersion: string;
}

/** Loads components (distribution, manifest, --plugin), then config files or the embedded default. */
export function loadComponents(opts: Pick<CommonOptions, 'plugin' | 'manifest'>, dist?: DistributionInfo): { registry: Registry; manifest?: Manifest; errors: string[] } {
  const registry = new Registry();
  const errors: string[] = [];
  let manifest: Manifest | undefined;
  for (const f of dist?.factories ?? []) registry.register(f.factory, f.packageName, f.packageVersion);
  if (opts.manifest) {
    manifest = readManifest(opts.manifest);
    for (const c of manifest.components) {
      try { loadPlugin(c.dir ?? c.packageName ?? c.spec, registry, path.dirname(manifest.file)); } catch (err) { errors.push((err as Error).message); }
    }
  }
  for (const p of opts.plugin) {
    try { loadPlugin(p, registry, process.cwd()); } catch (err) { errors.push((err as Error).message); }
  }
  return { registry, manifest, errors };
}

export function loadAll(opts: CommonOptions, dist?: DistributionInfo): Loaded {
  const { registry, manifest, errors } = loadComponents(opts, dist);
  if (errors.length) throw new TapioError(ErrorCodes.PLUGIN_NOT_FOUND, errors.join('\n'));
  let loaded: LoadedConfig;
  if (opts.config.length) {
    loaded = loadConfigSources(opts.config, opts.set);
  } else {
    loaded = loadConfigSources([], []);
    const embedded = manifest?.defaultConfig ?? (dist?.defaultConfig ? { text: dist.defaultConfig, file: '<embedded default config>' } : undefined);
    if (!embedded) {
      loaded.issues.push({ path: '', message: 'no --config given and this distribution has no embedded default config' });
    } else {
      mergeYamlText(loaded, embedded.text, embedded.file);
    }
    if (opts.set.length) {
      const withSets = loadConfigSources([], opts.set);
      loaded.issues.push(...withSets.issues);
      loaded.notices.push(...withSets.notices);
      for (const [k, v] of withSets.positions) loaded.positions.set(k, v);
      loaded.raw = deepMerge(loaded.raw, withSets.raw);
    }
  }
  // `plugins:` in the config load before components are validated.
  const pluginList = loaded.raw.plugins;
  if (pluginList !== undefined) {
    if (!Array.isArray(pluginList)) loaded.issues.push({ path: 'plugins', location: locate(loaded.positions, ['plugins']), message: 'must be a list of npm package names or paths' });
    else pluginList.forEach((spec, i) => {
      const loc = locate(loaded.positions, ['plugins', i]);
      const base = loc && !loc.file.startsWith('--set') && !loc.file.startsWith('<') ? path.dirname(path.resolve(loc.file)) : process.cwd();
      try { loadPlugin(String(spec), registry, base); } catch (err) { loaded.issues.push({ path: `plugins.${i}`, location: loc, message: (err as Error).message }); }
    });
  }
  const { config, issues, notices } = resolveConfig(loaded, registry);
  return {
    registry, manifest, loaded, resolved: config, issues, notices,
    distName: dist?.name ?? manifest?.dist.name ?? 'tapio',
    distVersion: dist?.version ?? manifest?.dist.version ?? '0.0.0',
  };
}

export function requireValid(l: Loaded): ResolvedConfig {
  if (!l.resolved || l.issues.length) throw new ConfigError(l.issues);
  return l.resolved;
}

export function pluginCommands(registry: Registry): CliCommand[] {
  const out: CliCommand[] = [];
  for (const r of registry.all()) for (const c of r.factory.commands ?? []) if (!out.some((x) => x.name === c.name)) out.push(c);
  return out;
}
