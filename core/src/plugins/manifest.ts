import * as fs from 'node:fs';
import * as path from 'node:path';
import { LineCounter, parseDocument } from 'yaml';
import { ConfigError, type ConfigIssue } from '../errors';
import type { ComponentKind } from '../component/types';

export interface ManifestComponent {
  kind: ComponentKind;
  /** What the user wrote: an npm spec (`@tapio/receiver-otlp@^0.1.0`), a path, or a tarball. */
  spec: string;
  /** npm package name when known (`package:` or parsed from the spec). */
  packageName?: string;
  /** Local directory (absolute) when the entry is a path. */
  dir?: string;
}

export interface Manifest {
  file: string;
  dist: { name: string; version: string; description?: string; output_path?: string; node?: string };
  components: ManifestComponent[];
  /** YAML text of the embedded default config, and where it came from (for error positions). */
  defaultConfig?: { text: string; file: string };
  raw: Record<string, unknown>;
}

const LISTS: [string, ComponentKind][] = [['receivers', 'receiver'], ['processors', 'processor'], ['exporters', 'exporter'], ['extensions', 'extension']];

/**
 * Reads a distribution manifest (see builder/README.md). Only what the runtime needs is
 * interpreted here; `tapio-builder` validates the full schema with positions.
 */
export function readManifest(file: string): Manifest {
  const abs = path.resolve(file);
  const text = fs.readFileSync(abs, 'utf8');
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc });
  const issues: ConfigIssue[] = doc.errors.map((e) => {
    const p = lc.linePos(e.pos[0]);
    return { path: '', location: { file, line: p.line, col: p.col }, message: e.message.split('\n')[0]! };
  });
  if (issues.length) throw new ConfigError(issues);
  const raw = (doc.toJS() ?? {}) as Record<string, any>;
  const dir = path.dirname(abs);
  const dist = raw.dist ?? {};
  const components: ManifestComponent[] = [];
  for (const [key, kind] of LISTS) {
    for (const entry of (raw[key] ?? []) as unknown[]) components.push(toComponent(kind, entry, dir));
  }
  let defaultConfig: Manifest['defaultConfig'];
  if (typeof raw.default_config === 'string') {
    const f = path.resolve(dir, raw.default_config);
    defaultConfig = { text: fs.readFileSync(f, 'utf8'), file: f };
  } else if (raw.default_config && typeof raw.default_config === 'object') {
    // Re-serialise the inline mapping's source text so error positions point into the manifest.
    const node = doc.get('default_config', true) as { range?: [number, number, number] } | undefined;
    const start = node?.range?.[0] ?? 0;
    const lineStart = text.lastIndexOf('\n', start) + 1;
    const padding = '\n'.repeat(text.slice(0, lineStart).split('\n').length - 1);
    const body = text.slice(lineStart, node?.range?.[1] ?? text.length);
    defaultConfig = { text: padding + dedent(body), file: abs };
  }
  return {
    file: abs,
    dist: { name: String(dist.name ?? path.basename(dir)), version: String(dist.version ?? '0.0.0'), description: dist.description, output_path: dist.output_path, node: dist.node },
    components,
    defaultConfig,
    raw,
  };
}

function toComponent(kind: ComponentKind, entry: unknown, dir: string): ManifestComponent {
  if (typeof entry === 'string') {
    if (/^(\.|\/)/.test(entry) || entry.endsWith('.tgz')) return { kind, spec: entry, dir: path.resolve(dir, entry) };
    return { kind, spec: entry, packageName: entry.replace(/(?!^)@.*$/, '') };
  }
  const e = entry as { package?: string; version?: string; path?: string };
  if (e.path) return { kind, spec: e.path, packageName: e.package, dir: path.resolve(dir, e.path) };
  return { kind, spec: e.version ? `${e.package}@${e.version}` : String(e.package), packageName: e.package };
}

function dedent(block: string): string {
  const lines = block.split('\n');
  const indents = lines.filter((l) => l.trim()).map((l) => /^ */.exec(l)![0].length);
  const n = Math.min(...indents);
  return lines.map((l) => l.slice(n)).join('\n');
}
