import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Command } from 'commander';
import { describeError } from '@tapio/core';
import { bundle } from './bundle';
import { BuildError, generate, outputDir, resolveComponent, type ResolvedComponent } from './generate';
import { readBuildManifest } from './manifest';
import { STARTER_MANIFEST } from './starter';

export interface BuildOptions {
  manifest: string;
  skipGenerate?: boolean;
  skipInstall?: boolean;
  skipBundle?: boolean;
  offline?: boolean;
  log?: (line: string) => void;
}

export interface BuildReport {
  output?: string;
  bytes?: number;
  components: ResolvedComponent[];
  natives: string[];
}

/** generate → install → check → bundle, each step skippable. */
export async function buildDistribution(o: BuildOptions): Promise<BuildReport> {
  const log = o.log ?? ((l: string) => process.stderr.write(l + '\n'));
  const m = readBuildManifest(o.manifest);
  const t0 = Date.now();
  const gen = o.skipGenerate ? undefined : generate(m);
  const dir = gen?.dir ?? path.join(outputDir(m), '.build');
  if (gen) log(`generated ${path.relative(process.cwd(), gen.entry)} (${m.components.length} components, @tapio/core ${gen.coreVersion})`);
  if (!fs.existsSync(path.join(dir, 'package.json'))) throw new BuildError(`${dir} has no generated package.json; run without --skip-generate first`);
  if (!o.skipInstall) {
    const args = ['install', '--no-audit', '--no-fund', '--install-links=false', '--loglevel=error'];
    if (o.offline) args.push('--offline');
    const r = spawnSync('npm', args, { cwd: dir, encoding: 'utf8' });
    if (r.status !== 0) throw new BuildError(`npm ${args.join(' ')} failed in ${dir}:\n${r.stderr || r.stdout}`);
    log(`installed dependencies (${o.offline ? 'offline' : 'online'}) in ${Date.now() - t0} ms`);
  }
  // Every component, local or from the registry, is checked against the core actually installed.
  const nodeModules = path.join(dir, 'node_modules');
  const coreVersion = gen?.coreVersion ?? JSON.parse(fs.readFileSync(path.join(nodeModules, '@tapio/core/package.json'), 'utf8')).version;
  const components = m.components.map((c) => resolveComponent(c, coreVersion, nodeModules));
  const report: BuildReport = { components, natives: [] };
  if (!o.skipBundle) {
    const coreDir = fs.realpathSync(path.join(nodeModules, '@tapio/core'));
    const result = await bundle({
      name: m.dist.name,
      entry: path.join(dir, 'main.js'),
      outDir: outputDir(m),
      assetPackages: [{ name: '@tapio/core', dir: coreDir }, ...components.map((c) => ({ name: c.packageName, dir: fs.realpathSync(path.join(nodeModules, c.packageName)) }))],
    });
    report.output = result.file;
    report.bytes = result.bytes;
    report.natives = result.natives;
    log(`bundled ${path.relative(process.cwd(), result.file)}: ${(result.bytes / 1e6).toFixed(2)} MB${result.natives.length ? `, native: ${result.natives.join(', ')}` : ''} in ${Date.now() - t0} ms`);
  }
  return report;
}

function fail(err: unknown): number {
  process.stderr.write(describeError(err, 'manifest'));
  return 1;
}

export async function main(argv: string[]): Promise<number> {
  let code = 0;
  const program = new Command('tapio-builder').description('Build custom Tapio distributions').exitOverride();
  const withManifest = (c: Command): Command => c.requiredOption('-m, --manifest <file>', 'distribution manifest (YAML)');
  withManifest(program.command('generate').description('write the entry point and package.json of the distribution')).action((o: { manifest: string }) => {
    try { const g = generate(readBuildManifest(o.manifest)); process.stdout.write(`${g.entry}\n`); } catch (err) { code = fail(err); }
  });
  withManifest(program.command('build', { isDefault: true }).description('generate, install and bundle (default)'))
    .option('--skip-generate', 'reuse the generated build directory')
    .option('--skip-install', 'do not run npm install')
    .option('--skip-bundle', 'stop before bundling')
    .option('--offline', 'install from local paths/tarballs and the npm cache only')
    .action(async (o: BuildOptions) => {
      try { const r = await buildDistribution(o); if (r.output) process.stdout.write(`${r.output}\n`); } catch (err) { code = fail(err); }
    });
  program.command('init').description('write a starter manifest').option('-o, --out <file>', 'where', 'tapio-dist.yaml').action((o: { out: string }) => {
    if (fs.existsSync(o.out)) { code = fail(new Error(`${o.out} exists; not overwriting`)); return; }
    fs.writeFileSync(o.out, STARTER_MANIFEST);
    process.stdout.write(`wrote ${o.out}; edit it, then: tapio-builder build --manifest ${o.out}\n`);
  });
  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (err) {
    const c = (err as { exitCode?: number }).exitCode;
    return c ?? fail(err);
  }
  return code;
}
