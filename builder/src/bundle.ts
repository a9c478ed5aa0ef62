import * as fs from 'node:fs';
import * as path from 'node:path';
import { build as esbuild, type Plugin } from 'esbuild';

export interface BundleInput {
  name: string;
  entry: string;
  outDir: string;
  /** Package directories whose files locate data through __dirname (ours: core and components). */
  assetPackages: { name: string; dir: string }[];
}

export interface BundleResult {
  file: string;
  bytes: number;
  assetsDir: string;
  natives: string[];
}

const NATIVE_MARKERS = ['binding.gyp', 'prebuilds', path.join('build', 'Release')];

function packageRoot(resolvedFile: string, name: string): string {
  const marker = `${path.sep}node_modules${path.sep}${name.split('/').join(path.sep)}${path.sep}`;
  const i = resolvedFile.lastIndexOf(marker);
  if (i >= 0) return resolvedFile.slice(0, i + marker.length - 1);
  // A linked workspace package: walk up to its package.json.
  let d = path.dirname(resolvedFile);
  while (d !== path.dirname(d) && !fs.existsSync(path.join(d, 'package.json'))) d = path.dirname(d);
  return d;
}

/**
 * Bundles the generated entry into one JS file. Packages with native addons stay external and
 * are copied (with their dependencies) into `<out>/node_modules`; our packages' data files
 * (protos, rule libraries, dashboards, BPF objects) are copied into `<out>/<name>-assets/` and
 * their `__dirname` is rewritten to point there, so code that finds files next to itself works.
 */
export async function bundle(input: BundleInput): Promise<BundleResult> {
  fs.mkdirSync(input.outDir, { recursive: true });
  const assetsDirName = `${input.name}-assets`;
  const assetsDir = path.join(input.outDir, assetsDirName);
  fs.rmSync(assetsDir, { recursive: true, force: true });
  const roots = input.assetPackages.map((p) => ({ name: p.name, dir: fs.realpathSync(p.dir) }));
  const natives = new Map<string, string>();

  const nativePlugin: Plugin = {
    name: 'tapio-natives',
    setup(b) {
      b.onResolve({ filter: /^[^./]/ }, (args) => {
        if (args.kind === 'entry-point') return undefined;
        const name = args.path.startsWith('@') ? args.path.split('/').slice(0, 2).join('/') : args.path.split('/')[0]!;
        if (name.startsWith('node:')) return undefined;
        let resolved: string;
        try { resolved = require.resolve(args.path, { paths: [args.resolveDir] }); } catch { return undefined; }
        if (!path.isAbsolute(resolved)) return undefined; // a Node built-in
        const root = packageRoot(resolved, name);
        if (NATIVE_MARKERS.some((m) => fs.existsSync(path.join(root, m)))) {
          natives.set(name, root);
          return { path: args.path, external: true };
        }
        return undefined;
      });
      b.onResolve({ filter: /\.node$/ }, (args) => ({ path: args.path, external: true }));
    },
  };

  const dirnamePlugin: Plugin = {
    name: 'tapio-dirname',
    setup(b) {
      b.onLoad({ filter: /\.js$/ }, async (args) => {
        const real = fs.realpathSync(args.path);
        const root = roots.find((r) => real.startsWith(r.dir + path.sep));
        if (!root) return undefined;
        const rel = path.relative(root.dir, path.dirname(real)).split(path.sep).join('/');
        const text = await fs.promises.readFile(args.path, 'utf8');
        const prefix = `var __dirname = __tapioAsset(${JSON.stringify(`${root.name}/${rel}`)}), __filename = __dirname + ${JSON.stringify('/' + path.basename(real))};\n`;
        return { contents: prefix + text, loader: 'js', resolveDir: path.dirname(args.path) };
      });
    },
  };

  const file = path.join(input.outDir, `${input.name}.js`);
  await esbuild({
    entryPoints: [input.entry],
    outfile: file,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    minifyWhitespace: true,
    legalComments: 'none',
    logLevel: 'error',
    banner: {
      js: `#!/usr/bin/env node\nconst __tapioAssetsRoot = require("path").join(__dirname, ${JSON.stringify(assetsDirName)});\nfunction __tapioAsset(rel) { return require("path").join(__tapioAssetsRoot, rel); }`,
    },
    plugins: [nativePlugin, dirnamePlugin],
  });
  fs.chmodSync(file, 0o755);

  for (const r of roots) copyAssets(r.dir, path.join(assetsDir, r.name));
  fs.rmSync(path.join(input.outDir, 'node_modules'), { recursive: true, force: true });
  for (const [name, dir] of natives) copyPackageWithDeps(name, dir, path.join(input.outDir, 'node_modules'), new Set());
  return { file, bytes: fs.statSync(file).size, assetsDir, natives: [...natives.keys()] };
}

const SKIP_DIRS = new Set(['node_modules', 'test', '.build', 'testdata']);

/** Copies a package's data files: everything but sources, tests, typings, maps and bundled JS. */
function copyAssets(from: string, to: string): void {
  const walk = (dir: string, rel: string): void => {
    for (const ent of fs.readdirSync(dir, { withFileTypes: true })) {
      const relPath = rel ? `${rel}/${ent.name}` : ent.name;
      const full = path.join(dir, ent.name);
      if (ent.isDirectory()) {
        if (SKIP_DIRS.has(ent.name) || relPath === 'dist/test') continue;
        walk(full, relPath);
        continue;
      }
      if (/\.(ts|map|tsbuildinfo)$/.test(ent.name)) continue;
      if (relPath.startsWith('dist/') && ent.name.endsWith('.js')) continue; // already in the bundle
      const dest = path.join(to, relPath);
      fs.mkdirSync(path.dirname(dest), { recursive: true });
      fs.copyFileSync(full, dest);
      fs.chmodSync(dest, fs.statSync(full).mode);
    }
  };
  walk(from, '');
}

function keepInNativeCopy(rel: string, native: boolean): boolean {
  if (rel === '') return true;
  if (/^node_modules(\/|$)/.test(rel)) return false;
  if (!native) return true;
  if (/^(deps|src)(\/|$)/.test(rel)) return false;
  if (!rel.startsWith('build')) return true;
  return rel === 'build' || rel === 'build/Release' || /^build\/Release\/[^/]+\.node$/.test(rel);
}

// Dependencies native packages need only to install (download or build the addon), never at run time.
const INSTALL_ONLY = new Set(['prebuild-install', 'node-gyp', 'node-gyp-build-optional-packages', 'prebuildify', 'node-addon-api']);

function copyPackageWithDeps(name: string, dir: string, nodeModules: string, seen: Set<string>): void {
  if (seen.has(name) || INSTALL_ONLY.has(name)) return;
  seen.add(name);
  const dest = path.join(nodeModules, name);
  fs.rmSync(dest, { recursive: true, force: true });
  // Native packages carry their C/C++ sources and build intermediates; the built addon is enough.
  const native = fs.existsSync(path.join(dir, 'binding.gyp'));
  fs.cpSync(dir, dest, {
    recursive: true, dereference: true,
    filter: (src) => keepInNativeCopy(path.relative(dir, src).split(path.sep).join('/'), native),
  });
  const pkg = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')) as { dependencies?: Record<string, string> };
  for (const dep of Object.keys(pkg.dependencies ?? {})) {
    try {
      const depDir = path.dirname(require.resolve(`${dep}/package.json`, { paths: [dir] }));
      copyPackageWithDeps(dep, depDir, nodeModules, seen);
    } catch { /* optional at run time */ }
  }
}
