import { Command } from 'commander';
import { stringify } from 'yaml';
import { Collector } from '../collector';
import { redactSecrets } from '../config/ajv';
import { stabilityFor, supportedSignals } from '../component/define';
import { SIGNALS } from '../component/types';
import { describeError, formatConfigIssue, type ConfigIssue } from '../errors';
import { createLogger } from '../telemetry/logger';
import { CORE_VERSION } from '../version';
import { loadAll, loadComponents, pluginCommands, requireValid, type CommonOptions, type DistributionInfo } from './options';

const BUILTIN = new Set(['run', 'validate', 'components', 'print-config', 'help']);

function collect(v: string, prev: string[]): string[] { return [...prev, v]; }

function common(cmd: Command): Command {
  return cmd
    .option('-c, --config <file>', 'config file (repeatable; later files deep-merge over earlier ones)', collect, [])
    .option('--set <key.path=value>', 'override one config value (repeatable)', collect, [])
    .option('--plugin <package-or-path>', 'load a component plugin (repeatable)', collect, [])
    .option('--manifest <file>', 'load the components (and embedded default config) of a distribution manifest');
}

/** The `tapio` command line. Returns the exit code (run resolves when the collector stops). */
export async function runCli(argv: string[] = process.argv.slice(2), dist?: DistributionInfo): Promise<number> {
  // Plugin-provided sub-commands (`tapio rules test …`) need the plugins loaded first.
  const first = firstPositional(argv);
  if (first && !BUILTIN.has(first)) {
    const pre = preParse(argv);
    const { registry, errors } = loadComponents(pre, dist);
    const cmd = pluginCommands(registry).find((c) => c.name === first);
    if (cmd) return cmd.run(argv.slice(argv.indexOf(first) + 1));
    if (errors.length) process.stderr.write(errors.join('\n') + '\n');
    process.stderr.write(`unknown command "${first}". Commands: ${[...BUILTIN].join(', ')}${pluginCommands(registry).map((c) => ', ' + c.name).join('')}\n`);
    return 2;
  }

  let exitCode = 0;
  const program = new Command('tapio')
    .description('Tapio: a cross-layer observability collector')
    .version(versionText(argv, dist), '-v, --version', 'print the distribution, its version and its components')
    .exitOverride();
  program.configureOutput({ writeErr: (s) => process.stderr.write(s), writeOut: (s) => process.stdout.write(s) });

  common(program.command('run', { isDefault: true }).description('run the collector (default)')).action(async (o: CommonOptions) => {
    exitCode = await run(o, dist);
  });
  common(program.command('validate').description('check a config without starting anything')).action((o: CommonOptions) => {
    exitCode = validate(o, dist);
  });
  common(program.command('components').description('list the components this collector can run'))
    .option('--output <format>', 'table or json', 'table')
    .action((o: CommonOptions & { output: string }) => { exitCode = components(o, dist); });
  common(program.command('print-config').description('print the resolved config, secrets redacted')).action((o: CommonOptions) => {
    exitCode = printConfig(o, dist);
  });
  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (err) {
    const code = (err as { exitCode?: number }).exitCode;
    if (code !== undefined) return code;
    throw err;
  }
  return exitCode;
}

/** The first word that is neither an option nor an option's value: the sub-command, if any. */
function firstPositional(argv: string[]): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (/^(-c|--config|--set|--plugin|--manifest|--output)$/.test(a)) { i++; continue; }
    if (!a.startsWith('-')) return a;
  }
  return undefined;
}

function preParse(argv: string[]): Pick<CommonOptions, 'plugin' | 'manifest'> {
  const out: Pick<CommonOptions, 'plugin' | 'manifest'> = { plugin: [] };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--plugin' && argv[i + 1]) out.plugin.push(argv[++i]!);
    else if (argv[i] === '--manifest' && argv[i + 1]) out.manifest = argv[++i];
  }
  return out;
}

function versionText(argv: string[], dist?: DistributionInfo): string {
  if (!argv.includes('--version') && !argv.includes('-v')) return CORE_VERSION;
  try {
    const { registry, manifest } = loadComponents(preParse(argv), dist);
    const name = dist?.name ?? manifest?.dist.name ?? 'tapio';
    const version = dist?.version ?? manifest?.dist.version ?? CORE_VERSION;
    const lines = registry.all().map((r) => `  ${r.factory.kind} ${r.factory.type} (${r.packageName || 'built-in'}@${r.packageVersion || CORE_VERSION})`);
    return [`${name} ${version} (@tapio/core ${CORE_VERSION})`, ...lines].join('\n');
  } catch {
    return CORE_VERSION;
  }
}

function printIssues(err: unknown): number {
  process.stderr.write(describeError(err));
  return 1;
}

/** Warnings go to stderr, one per line like the errors, before the verdict. */
function printNotices(notices: ConfigIssue[]): void {
  for (const n of notices) process.stderr.write(`warning: ${formatConfigIssue(n)}\n`);
}

function validate(o: CommonOptions, dist?: DistributionInfo): number {
  try {
    const l = loadAll(o, dist);
    printNotices(l.notices);
    requireValid(l);
    process.stdout.write(`config is valid: ${l.resolved!.pipelines.size} pipeline(s): ${[...l.resolved!.pipelines.keys()].join(', ')}\n`);
    return 0;
  } catch (err) {
    return printIssues(err);
  }
}

function components(o: CommonOptions & { output: string }, dist?: DistributionInfo): number {
  let registry;
  try {
    const r = loadComponents(o, dist);
    if (r.errors.length) return printIssues(new Error(r.errors.join('\n')));
    registry = r.registry;
  } catch (err) { return printIssues(err); }
  const rows = registry.all().map((r) => ({
    kind: r.factory.kind,
    type: r.factory.type,
    stability: supportedSignals(r.factory).map((s) => `${s}:${stabilityFor(r.factory, s)}`).join(' ') || SIGNALS.join(','),
    package: r.packageName || 'built-in',
    version: r.packageVersion || CORE_VERSION,
  }));
  if (o.output === 'json') { process.stdout.write(JSON.stringify(rows, null, 2) + '\n'); return 0; }
  const headers = ['kind', 'type', 'stability', 'package', 'version'] as const;
  const widths = headers.map((h) => Math.max(h.length, ...rows.map((r) => r[h].length)));
  const line = (cells: string[]): string => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd() + '\n';
  process.stdout.write(line(headers.map((h) => h.toUpperCase())));
  for (const r of rows) process.stdout.write(line(headers.map((h) => r[h])));
  return 0;
}

function printConfig(o: CommonOptions, dist?: DistributionInfo): number {
  try {
    const l = loadAll(o, dist);
    const cfg = requireValid(l);
    const out: Record<string, unknown> = { ...cfg.effective };
    for (const section of ['receivers', 'processors', 'exporters', 'extensions'] as const) {
      const red: Record<string, unknown> = {};
      for (const [id, cc] of cfg[section]) red[id] = redactSecrets(cc.config, cc.factory.configSchema);
      if (cfg[section].size) out[section] = red;
    }
    process.stdout.write(stringify(out));
    return 0;
  } catch (err) {
    return printIssues(err);
  }
}

async function run(o: CommonOptions, dist?: DistributionInfo): Promise<number> {
  let l;
  let config;
  try {
    l = loadAll(o, dist);
    config = requireValid(l);
  } catch (err) {
    return printIssues(err);
  }
  const logger = createLogger(config.telemetry.logs.level);
  for (const n of l.notices) logger.warn({ setting: n.path, at: n.location ? `${n.location.file}:${n.location.line}:${n.location.col}` : undefined }, n.message);
  const collector = new Collector({ name: l.distName, version: l.distVersion, logger });
  // A SIGTERM / SIGINT that arrives while the collector starts (e.g. right after it logged
  // "everything is ready", before the handlers below exist) is kept and acted on once started:
  // without a listener, Node would die of the signal instead of draining.
  let early: string | undefined;
  const onEarlySignal = (signal: NodeJS.Signals): void => { early ??= signal; };
  process.on('SIGTERM', onEarlySignal);
  process.on('SIGINT', onEarlySignal);
  try {
    await collector.start(config);
  } catch (err) {
    process.off('SIGTERM', onEarlySignal);
    process.off('SIGINT', onEarlySignal);
    logger.error({ err: (err as Error).message }, 'collector failed to start');
    await collector.shutdown().catch(() => undefined);
    return 1;
  }
  let current = config;
  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (signal: string): void => {
      if (stopping) { logger.warn({ signal }, 'second signal: exiting without waiting for the drain'); resolve(1); return; }
      stopping = true;
      logger.info({ signal }, 'received signal; draining');
      collector.shutdown().then(() => resolve(0), (err) => { logger.error({ err: (err as Error).message }, 'shutdown failed'); resolve(1); });
    };
    process.on('SIGTERM', () => stop('SIGTERM'));
    process.on('SIGINT', () => stop('SIGINT'));
    // the real handlers are in place before the early ones go: no moment without a listener
    process.off('SIGTERM', onEarlySignal);
    process.off('SIGINT', onEarlySignal);
    if (early) stop(early);
    process.on('SIGHUP', () => {
      if (stopping) return;
      logger.info('SIGHUP: reloading config');
      let next;
      try {
        next = loadAll(o, dist);
      } catch (err) {
        logger.error({ err: (err as Error).message }, 'reload rejected; the running pipelines are unchanged');
        return;
      }
      if (!next.resolved || next.issues.length) {
        logger.error({ errors: next.issues.map(formatConfigIssue) }, `reload rejected: ${next.issues.length} config error(s); the running pipelines are unchanged`);
        return;
      }
      const previous = current;
      current = next.resolved;
      collector.reload(next.resolved, previous).catch((err) => {
        current = previous;
        logger.error({ err: (err as Error).message }, 'reload failed; previous config restored');
      });
    });
  });
}
