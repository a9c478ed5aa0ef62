import * as fs from 'node:fs';
import * as path from 'node:path';
import { isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, parse as parseYamlValue, type Node as YamlNode } from 'yaml';
import type { ConfigIssue } from '../errors';

export interface SourceLocation { file: string; line: number; col: number }

/** Config path (dotted, e.g. `processors.batch/fast.timeout`) → where it was last set. */
export type PositionMap = Map<string, SourceLocation>;

export interface LoadedConfig {
  raw: Record<string, unknown>;
  positions: PositionMap;
  issues: ConfigIssue[];
  /** Warnings: the config works, but something in it may not do what its author meant. */
  notices: ConfigIssue[];
  files: string[];
}

export function joinPath(parts: readonly (string | number)[]): string {
  return parts.map(String).join('.');
}

/**
 * Loads and deep-merges config files (later wins), applies `--set key.path=value` overrides
 * and `${env:…}`/`${file:…}` substitution, and remembers the file:line:col of every node so
 * that any later error can point at it. Collects every problem instead of stopping at the first.
 */
export interface LoadOptions {
  /** false: keep `${…}` references as written (e.g. a manifest's embedded config, expanded at run time). */
  expand?: boolean;
}

export function loadConfigSources(files: string[], sets: string[] = [], env: NodeJS.ProcessEnv = process.env, options: LoadOptions = {}): LoadedConfig {
  const out: LoadedConfig = { raw: {}, positions: new Map(), issues: [], notices: [], files };
  for (const file of files) {
    let text: string;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch (err) {
      out.issues.push({ path: '', message: `cannot read config file ${file}: ${(err as Error).message}` });
      continue;
    }
    mergeYamlText(out, text, file, env, options);
  }
  for (const set of sets) applySet(out, set, env);
  return out;
}

/** Parses YAML text (a file or an embedded default) into `out`. */
export function mergeYamlText(out: LoadedConfig, text: string, file: string, env: NodeJS.ProcessEnv = process.env, options: LoadOptions = {}): void {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const rel = path.relative(process.cwd(), file);
  const displayName = rel && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel : file;
  for (const e of doc.errors) {
    const pos = lineCounter.linePos(e.pos[0]);
    out.issues.push({ path: '', location: { file: displayName, line: pos.line, col: pos.col }, message: `YAML syntax: ${e.message.split('\n')[0]}` });
  }
  if (doc.errors.length) return;
  const ctx: WalkContext = { file: displayName, dir: path.dirname(path.resolve(file)), lineCounter, out, env, expand: options.expand ?? true };
  const value = walk(doc.contents as YamlNode | null, [], ctx);
  if (value === undefined || value === null) return;
  if (typeof value !== 'object' || Array.isArray(value)) {
    out.issues.push({ path: '', location: { file: displayName, line: 1, col: 1 }, message: 'the config must be a mapping at the top level' });
    return;
  }
  out.raw = deepMerge(out.raw, value as Record<string, unknown>);
}

interface WalkContext {
  file: string;
  dir: string;
  lineCounter: LineCounter;
  out: LoadedConfig;
  env: NodeJS.ProcessEnv;
  expand: boolean;
}

function record(ctx: WalkContext, parts: (string | number)[], offset: number | undefined): SourceLocation | undefined {
  if (offset === undefined) return undefined;
  const p = ctx.lineCounter.linePos(offset);
  const loc = { file: ctx.file, line: p.line, col: p.col };
  ctx.out.positions.set(joinPath(parts), loc);
  return loc;
}

/** Scalar values also get their own position, so errors about a value point at the value. */
function recordValue(ctx: WalkContext, parts: (string | number)[], offset: number | undefined): void {
  if (offset === undefined) return;
  const p = ctx.lineCounter.linePos(offset);
  ctx.out.positions.set(joinPath(parts) + VALUE_SUFFIX, { file: ctx.file, line: p.line, col: p.col });
}

export const VALUE_SUFFIX = '=';

function walk(node: YamlNode | null, parts: (string | number)[], ctx: WalkContext): unknown {
  if (node === null || node === undefined) return null;
  if (isMap(node)) {
    const obj: Record<string, unknown> = {};
    for (const item of node.items) {
      if (!isPair(item)) continue;
      const keyNode = item.key as YamlNode;
      const key = isScalar(keyNode) ? String(keyNode.value) : String(keyNode);
      const childParts = [...parts, key];
      record(ctx, childParts, keyNode?.range?.[0]);
      const valueNode = item.value as YamlNode | null;
      if (valueNode && isScalar(valueNode)) recordValue(ctx, childParts, valueNode.range?.[0]);
      const value = walk(valueNode, childParts, ctx);
      // as the Collector: a setting that is only an unset ${env:…} is left unset (its default applies)
      if (value !== UNSET) obj[key] = value;
    }
    return obj;
  }
  if (isSeq(node)) {
    return node.items.map((child, i) => {
      const childParts = [...parts, i];
      record(ctx, childParts, (child as YamlNode | null)?.range?.[0]);
      const value = walk(child as YamlNode | null, childParts, ctx);
      return value === UNSET ? '' : value;
    });
  }
  if (isScalar(node)) {
    const v = node.value;
    if (typeof v === 'string' && ctx.expand) {
      const loc = { file: ctx.file, ...posOf(ctx, node.range?.[0]) };
      return expand(v, joinPath(parts), loc, ctx.dir, ctx.env, ctx.out.issues, ctx.out.notices);
    }
    return v;
  }
  return node.toJSON();
}

function posOf(ctx: WalkContext, offset: number | undefined): { line: number; col: number } {
  if (offset === undefined) return { line: 0, col: 0 };
  return ctx.lineCounter.linePos(offset);
}

const REF = /\$\$|\$\{([a-z]+):([^}]*)\}/g;

/**
 * `${env:VAR}`, `${env:VAR:-default}`, `${file:path}` (relative to the config file) and `$$`
 * for a literal `$`. When the whole value is one reference, the result is parsed as YAML so
 * `${env:PORT}` can yield a number, as in the OpenTelemetry Collector. An unset variable
 * expands to nothing with a notice, as in the Collector (Helm charts reference variables that
 * only some environments set); a value that is only such a reference is UNSET.
 */
export function expand(value: string, cfgPath: string, loc: SourceLocation | undefined, dir: string, env: NodeJS.ProcessEnv, issues: ConfigIssue[], notices: ConfigIssue[]): unknown {
  if (!value.includes('$')) return value;
  let whole = false;
  let unset = false;
  const replaced = value.replace(REF, (m: string, scheme: string | undefined, arg: string | undefined, offset: number) => {
    if (m === '$$') return '$';
    whole = offset === 0 && m.length === value.length;
    if (scheme === 'env') {
      const sep = arg!.indexOf(':-');
      const name = sep >= 0 ? arg!.slice(0, sep) : arg!;
      const dflt = sep >= 0 ? arg!.slice(sep + 2) : undefined;
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
        issues.push({ path: cfgPath, location: loc, message: `invalid environment variable name in ${m}` });
        return '';
      }
      const v = env[name];
      if (v === undefined || v === '') {
        if (dflt !== undefined) return dflt;
        notices.push({ path: cfgPath, location: loc, message: `environment variable ${name} is not set; ${m} expands to an empty value (use \${env:${name}:-default} for a default)` });
        unset = true;
        return '';
      }
      return v;
    }
    if (scheme === 'file') {
      const p = path.resolve(dir, arg!);
      try {
        return fs.readFileSync(p, 'utf8').replace(/\r?\n$/, '');
      } catch (err) {
        issues.push({ path: cfgPath, location: loc, message: `cannot read ${m}: ${(err as Error).message}` });
        return '';
      }
    }
    issues.push({ path: cfgPath, location: loc, message: `unknown reference scheme "${scheme}" in ${m} (known: env, file)` });
    return '';
  });
  if (whole && unset) return UNSET;
  if (whole) {
    try {
      return parseYamlValue(replaced);
    } catch {
      return replaced;
    }
  }
  return replaced;
}

/** What a value that is only an unset `${env:…}` expands to: the setting is left out (see walk). */
export const UNSET: unique symbol = Symbol('unset');

export function deepMerge(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const k of Object.keys(over)) {
    const a = out[k];
    const b = over[k];
    out[k] = isPlainObject(a) && isPlainObject(b) ? deepMerge(a, b) : b;
  }
  return out;
}

export function isPlainObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

/**
 * `--set processors.batch.timeout=2s`. Component ids contain `/`, never `.`, so the dotted path
 * splits cleanly. The value is parsed as YAML (numbers, booleans, [lists]).
 */
function applySet(out: LoadedConfig, set: string, env: NodeJS.ProcessEnv): void {
  const eq = set.indexOf('=');
  if (eq <= 0) {
    out.issues.push({ path: '', location: { file: '--set', line: 1, col: 1 }, message: `--set expects key.path=value, got "${set}"` });
    return;
  }
  const key = set.slice(0, eq);
  const parts = key.split('.');
  let value: unknown;
  try {
    value = parseYamlValue(set.slice(eq + 1));
  } catch {
    value = set.slice(eq + 1);
  }
  if (typeof value === 'string') value = expand(value, key, { file: '--set', line: 1, col: eq + 2 }, process.cwd(), env, out.issues, out.notices);
  if (value === UNSET) return;
  let obj: Record<string, unknown> = out.raw;
  for (let i = 0; i < parts.length - 1; i++) {
    const next = obj[parts[i]!];
    if (!isPlainObject(next)) obj[parts[i]!] = {};
    obj = obj[parts[i]!] as Record<string, unknown>;
  }
  obj[parts[parts.length - 1]!] = value;
  out.positions.set(key, { file: `--set ${key}`, line: 1, col: 1 });
}

/** The location recorded for a path (its value's when `onValue`), or the nearest ancestor's. */
export function locate(positions: PositionMap, parts: readonly (string | number)[], onValue = false): SourceLocation | undefined {
  if (onValue) {
    const v = positions.get(joinPath(parts) + VALUE_SUFFIX);
    if (v) return v;
  }
  for (let n = parts.length; n > 0; n--) {
    const loc = positions.get(joinPath(parts.slice(0, n)));
    if (loc) return loc;
  }
  return undefined;
}
