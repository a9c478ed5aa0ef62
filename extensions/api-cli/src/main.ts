import * as fs from 'node:fs';
import { Command, CommanderError, Option } from 'commander';
import type { Incident } from '@tapio/core';
import { describeAction, parseFilter, parseRecommendation, type CorrelationSummary } from '@tapio/extension-api';
import { ApiClient, ApiError } from './client';
import { formatCorrelation, formatEventLine, formatIncident, formatIncidentList, table } from './format';
import { appsApi, kubeErrorMessage, planAction, type KubeOptions, type Plan } from './kube';

/** Where the CLI talks to; tests pass their own. */
export interface CliIO {
  out(text: string): void;
  err(text: string): void;
  /** Asks a yes/no question; false when there is no one to ask. */
  confirm(question: string): Promise<boolean>;
  /** Aborts long-running streams (Ctrl-C). */
  signal?: AbortSignal;
  /** Plans Kubernetes actions (tests inject a cluster double's client through the kubeconfig). */
  kube?: (o: KubeOptions) => Promise<Parameters<typeof planAction>[0]>;
}

interface Globals { endpoint: string; token?: string; tokenFile?: string; output: 'table' | 'json'; insecure?: boolean }

function client(g: Globals): ApiClient {
  let token = g.token;
  if (!token && g.tokenFile) token = fs.readFileSync(g.tokenFile, 'utf8').trim();
  return new ApiClient({ endpoint: g.endpoint, token, insecure: g.insecure });
}

/** Runs tapio-cli with the given arguments (without node and script); resolves to the exit code. */
export async function runCli(argv: string[], io: CliIO): Promise<number> {
  let code = 0;
  const program = new Command('tapio-cli')
    .description('Query and follow the Tapio API: events, incidents, correlations, and apply recommendations to Kubernetes')
    .option('--endpoint <url>', 'Tapio API (REST) address', process.env.TAPIO_ENDPOINT ?? 'http://localhost:7779')
    .option('--token <token>', 'bearer token (or TAPIO_TOKEN)', process.env.TAPIO_TOKEN)
    .option('--token-file <path>', 'file holding the bearer token')
    .option('--insecure', 'accept a self-signed TLS certificate')
    .addOption(new Option('-o, --output <format>', 'output format').choices(['table', 'json']).default('table'))
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(s), writeErr: (s) => io.err(s) });
  const globals = () => program.opts<Globals>();
  const print = (json: unknown, text: () => string) => io.out(globals().output === 'json' ? JSON.stringify(json, null, 2) + '\n' : text());

  program.command('health').description('API and store health').action(async () => {
    const h = await client(globals()).get('/api/v1/health');
    print(h, () => table(['STATUS', 'UPTIME', 'EVENTS', 'INCIDENTS', 'STORE', 'STREAM CLIENTS', 'DROPPED (SLOW CLIENTS)'], [[
      h.status, `${h.uptimeSeconds}s`, String(h.store.events), String(h.store.incidents), `${(h.store.bytes / 1048576).toFixed(1)} MiB`,
      String(h.streams.eventClients + h.streams.incidentClients), String(h.streams.droppedForSlowClients),
    ]]));
  });

  const stream = program.command('stream').description('follow live data');
  stream.command('events').description('follow live events').option('--filter <expr>', 'e.g. kind=kernel,service=payment (keys: kind, service, severity, trace_id, entity, namespace, intent, source)')
    .action(async (o: { filter?: string }) => {
      parseFilter(o.filter); // a bad filter fails here with the same message the server would give
      const q = o.filter ? `?filter=${encodeURIComponent(o.filter)}` : '';
      await client(globals()).stream(`/api/v1/events/stream${q}`, (_ev, e) => io.out(globals().output === 'json' ? JSON.stringify(e) + '\n' : formatEventLine(e) + '\n'), io.signal);
    });
  stream.command('incidents').description('follow incidents as they open and change').option('--status <s>', 'open or resolved').option('--service <name>')
    .action(async (o: { status?: string; service?: string }) => {
      const q = new URLSearchParams();
      if (o.status) q.set('status', o.status);
      if (o.service) q.set('service', o.service);
      await client(globals()).stream(`/api/v1/incidents/stream?${q}`, (_ev, i: Incident) => io.out(globals().output === 'json' ? JSON.stringify(i) + '\n' : formatIncidentList([i]).split('\n')[1] + '\n'), io.signal);
    });

  const incidents = program.command('incidents').description('list, show and act on incidents');
  incidents.command('list', { isDefault: true }).description('recent incidents, newest first').option('--status <s>', 'open or resolved').option('--service <name>').option('--limit <n>', 'how many', '20')
    .action(async (o: { status?: string; service?: string; limit: string }) => {
      const q = new URLSearchParams({ limit: o.limit });
      if (o.status) q.set('status', o.status);
      if (o.service) q.set('service', o.service);
      const page = await client(globals()).get(`/api/v1/incidents?${q}`);
      print(page, () => formatIncidentList(page.incidents));
    });
  incidents.command('show <id>').description('one incident: root cause, chain, impact, recommendations').action(async (id: string) => {
    const inc = await client(globals()).get<Incident>(`/api/v1/incidents/${encodeURIComponent(id)}`);
    print(inc, () => formatIncident(inc));
  });
  incidents.command('apply <id> <n>').description('apply recommendation N of an incident to Kubernetes (scale, roll back, restart)')
    .option('--yes', 'do not ask for confirmation')
    .option('--dry-run', 'show what would change and stop')
    .option('--kubeconfig <path>', 'kubeconfig file (default: KUBECONFIG or ~/.kube/config)')
    .option('--context <name>', 'kubeconfig context')
    .action(async (id: string, n: string, o: { yes?: boolean; dryRun?: boolean; kubeconfig?: string; context?: string }) => {
      code = await apply(client(globals()), io, id, n, o);
    });

  program.command('correlate').description('the correlation story of one trace: root cause, impact, users, detection time, chain, actions')
    .requiredOption('--trace-id <id>', 'trace id (hex)')
    .action(async (o: { traceId: string }) => {
      const s = await client(globals()).get<CorrelationSummary>(`/api/v1/correlate?trace_id=${encodeURIComponent(o.traceId)}`);
      print(s, () => formatCorrelation(s));
    });

  try {
    await program.parseAsync(argv, { from: 'user' });
    return code;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode;
    io.err(`tapio-cli: ${(err as Error).message}\n`);
    return err instanceof ApiError && err.status === 0 ? 3 : 1;
  }
}

async function apply(api: ApiClient, io: CliIO, id: string, nText: string, o: { yes?: boolean; dryRun?: boolean; kubeconfig?: string; context?: string }): Promise<number> {
  const inc = await api.get<Incident>(`/api/v1/incidents/${encodeURIComponent(id)}`);
  const n = Number(nText);
  if (!Number.isInteger(n) || n < 1 || n > inc.recommendations.length) {
    io.err(`tapio-cli: incident ${id} has ${inc.recommendations.length} recommendation(s); pick 1..${inc.recommendations.length}\n`);
    return 2;
  }
  const text = inc.recommendations[n - 1]!;
  const action = parseRecommendation(text, inc);
  if (!action) {
    io.err(`tapio-cli: recommendation ${n} ("${text}") is not a Kubernetes action tapio-cli can apply (scale, roll back, restart); do it by hand\n`);
    return 2;
  }
  const kubeOpts = { kubeconfig: o.kubeconfig, context: o.context };
  let plan: Plan;
  try {
    plan = await planAction(await (io.kube ?? appsApi)(kubeOpts), action);
  } catch (err) {
    io.err(`tapio-cli: cannot read ${action.namespace}/${action.deployment}: ${kubeErrorMessage(err)}\n`);
    return 1;
  }
  io.out(`Recommendation ${n}: ${text}\nAction: ${describeAction(action)}\nChanges to ${plan.target}:\n`);
  for (const c of plan.changes) io.out(`  ${c.field}: ${c.from} → ${c.to}\n`);
  if (o.dryRun) { io.out('Dry run: nothing was changed.\n'); return 0; }
  if (!o.yes && !(await io.confirm('Apply these changes? [y/N] '))) { io.out('Not applied.\n'); return 1; }
  try {
    await plan.apply();
  } catch (err) {
    io.err(`tapio-cli: the Kubernetes API refused the change: ${kubeErrorMessage(err)}\n`);
    return 1;
  }
  io.out(`✓ ${describeAction(action)}: done\n`);
  return 0;
}
