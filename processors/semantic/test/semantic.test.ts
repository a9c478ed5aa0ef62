import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { conformance, createComponent, resolveYaml, SinkConsumer, testEvent, testHost, testReceiverFactory, testSinkExporterFactory, validConfig } from '@tapio/core/testing';
import { ConfigError, type Processor, type UnifiedEvent } from '@tapio/core';
import factory, { loadLibrary, registerRulePack, rulesCommand, type SemanticConfig } from '../src/index';
import { CASES } from './cases';

conformance(factory);

const INTENTS = new Set(('oom_kill, crash_loop, container_restart, image_pull_failure, scheduling_failure, eviction, node_not_ready, mount_failure, probe_failure, '
  + 'connection_refused, connection_reset, retransmit_storm, dns_failure, tls_error, disk_full, cpu_throttling, memory_allocation_failure, process_killed, '
  + 'http_5xx, grpc_unavailable, grpc_deadline_exceeded, database_timeout, exception, latency_slo_breach, deployment_rollout, memory_pressure').split(', '));

async function tag(events: UnifiedEvent[], overrides: Record<string, unknown> = {}): Promise<UnifiedEvent[]> {
  const sink = new SinkConsumer();
  const p = (await createComponent(factory, validConfig<SemanticConfig>(factory, overrides), sink)) as Processor;
  await p.start(testHost());
  await p.consume({ events });
  await p.shutdown();
  return sink.events;
}

let tmp: string;
before(() => { tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tapio-semantic-')); });
after(() => { fs.rmSync(tmp, { recursive: true, force: true }); });

describe('semantic: shipped rules', () => {
  const shipped = loadLibrary({ include_builtin: true }).rules;

  it('every shipped rule has a positive and a near-miss test case, and uses the shared vocabulary', () => {
    const covered = new Set(CASES.map((c) => c.rule));
    for (const c of CASES) assert.ok(shipped.some((r) => r.id === c.rule), `test case for a rule that is not shipped: ${c.rule}`);
    const missing = shipped.filter((r) => !covered.has(r.id)).map((r) => r.id);
    assert.deepEqual(missing, [], 'rules without test cases');
    for (const r of shipped) assert.ok(INTENTS.has(r.intent), `${r.id}: intent ${r.intent} is not in the shared vocabulary`);
    const issueList = ['oom_kill', 'crash_loop', 'image_pull_failure', 'scheduling_failure', 'eviction', 'node_not_ready', 'mount_failure', 'probe_failure',
      'connection_refused', 'connection_reset', 'retransmit_storm', 'dns_failure', 'tls_error', 'disk_full', 'cpu_throttling', 'memory_allocation_failure',
      'http_5xx', 'grpc_unavailable', 'grpc_deadline_exceeded', 'database_timeout', 'exception', 'latency_slo_breach'];
    const intents = new Set(shipped.map((r) => r.intent));
    assert.deepEqual(issueList.filter((i) => !intents.has(i)), [], 'intents the issue asks for without a rule');
  });

  for (const c of CASES) {
    const rule = shipped.find((r) => r.id === c.rule);
    describe(c.rule, () => {
      it('matches its realistic positive', async () => {
        assert.ok(rule, `rule ${c.rule} is shipped`);
        const out = await tag(c.positive());
        const last = out[out.length - 1]!;
        assert.equal(last.semantic?.ruleId, c.rule, `matched ${last.semantic?.ruleId ?? 'nothing'}`);
        assert.equal(last.semantic?.intent, rule.intent);
        assert.ok(last.semantic!.narrative.length > 10 && !/\{\{|\[\[/.test(last.semantic!.narrative), last.semantic!.narrative);
        assert.ok(!last.semantic!.narrative.includes('unknown'), `narrative has a missing value: ${last.semantic!.narrative}`);
        if (c.narrative) assert.match(last.semantic!.narrative, c.narrative);
        assert.ok(last.semantic!.suggestedActions.length > 0);
      });
      it('does not match its near miss', async () => {
        assert.ok(rule);
        const out = await tag(c.negative());
        for (const e of out) {
          assert.notEqual(e.semantic?.ruleId, c.rule, `near miss matched: ${JSON.stringify(e.log?.body ?? e.k8s ?? e.kernel ?? e.network ?? e.attributes)}`);
          assert.notEqual(e.semantic?.intent, rule.intent, `near miss got intent ${rule.intent} from ${e.semantic?.ruleId}`);
        }
      });
    });
  }
});

describe('semantic: matching behaviour', () => {
  it('raises severity when a rule says so and leaves events that already carry semantic alone', async () => {
    const oom = testEvent('kernel', { severity: 'info', kernel: { event: 'oom_kill', pid: 1, comm: 'java' } });
    const pre = testEvent('k8s', { k8s: { reason: 'OOMKilled', message: 'x' } });
    pre.semantic = { intent: 'custom', category: 'resource', tags: [], narrative: 'from a receiver', confidence: 1, suggestedActions: [] };
    const out = await tag([oom, pre]);
    assert.equal(out[0]!.severity, 'fatal');
    assert.equal(out[1]!.semantic!.intent, 'custom');
  });

  it('uses per-service variables (a tighter latency SLO for one service)', async () => {
    const slow = (svc: string): UnifiedEvent => {
      const e = testEvent('span', { resource: { 'service.name': svc } });
      Object.assign(e.span!, { kind: 2, durationMs: 400 });
      return e;
    };
    const out = await tag([slow('payment'), slow('catalog')], { service_variables: { payment: { latency_slo_ms: 300 } } });
    assert.equal(out[0]!.semantic?.intent, 'latency_slo_breach');
    assert.equal(out[1]!.semantic, undefined);
  });

  it('lets config add rules inline and from files, override a shipped rule by id, and disable rules', async () => {
    const file = path.join(tmp, 'team.yaml');
    fs.writeFileSync(file, `rules:
  - id: team.payment_declined
    match:
      kind: log
      all:
        - field: body
          regex: 'card declined: (?<code>\\w+)'
    set:
      intent: exception
      category: application
      narrative: 'Card declined ({{match.code}}) in {{resource.service.name}}'
`);
    const inline = [{ id: 'k8s.crash_loop', match: { kind: 'k8s', all: [{ field: 'k8s.reason', equals: 'BackOff' }] }, set: { intent: 'crash_loop', category: 'availability', narrative: 'overridden' } }];
    const out = await tag([
      testEvent('log', { log: { body: 'card declined: insufficient_funds' } }),
      testEvent('k8s', { k8s: { reason: 'BackOff', message: 'Back-off restarting failed container' } }),
      testEvent('kernel', { kernel: { event: 'oom_kill', pid: 3 } }),
    ], { rules_files: [file], rules: inline, disabled_rules: ['kernel.oom_kill'] });
    assert.equal(out[0]!.semantic?.narrative, 'Card declined (insufficient_funds) in payment');
    assert.equal(out[1]!.semantic?.narrative, 'overridden');
    assert.equal(out[2]!.semantic, undefined);
  });

  it('takes rules from a plugin pack', async () => {
    registerRulePack('test-pack', { rules: [{ id: 'pack.canary', match: { kind: 'metric', all: [{ field: 'metric.name', equals: 'canary.failed' }] }, set: { intent: 'deployment_rollout', category: 'deployment', narrative: 'canary {{resource.service.name}} failed' } }] });
    const out = await tag([testEvent('metric', { metric: { name: 'canary.failed', value: 1 } })]);
    assert.equal(out[0]!.semantic?.narrative, 'canary payment failed');
  });
});

describe('semantic: broken rules', () => {
  it('a broken rule file fails create with the file, line, rule id and reason', async () => {
    const file = path.join(tmp, 'broken.yaml');
    fs.writeFileSync(file, `rules:
  - id: ok.rule
    match: { kind: log, all: [{ field: body, regex: 'fine' }] }
    set: { intent: exception, category: application, narrative: ok }
  - id: bad.regex
    match: { kind: log, all: [{ field: body, regex: '(unclosed' }] }
    set: { intent: exception, category: application, narrative: x }
  - id: bad.shape
    match: { kind: lgo, all: [{ field: body, gtt: 3 }] }
    set: { intent: exception, category: nonsense, narrative: x }
  - id: bad.field
    match: { kind: log, all: [{ field: payload.x, exists: true }] }
    set: { intent: exception, category: application, narrative: '{{ resource.service.name' }
`);
    await assert.rejects(
      async () => createComponent(factory, validConfig(factory, { include_builtin: false, rules_files: [file] })),
      (err: unknown) => {
        assert.ok(err instanceof ConfigError);
        const msg = err.message;
        assert.match(msg, /broken\.yaml:5: rule "bad\.regex" \(rules\[1\]\): match\.all\[0\]\.regex: invalid regex/);
        assert.match(msg, /broken\.yaml:8: rule "bad\.shape" \(rules\[2\]\): match\.kind: must be one of/);
        assert.match(msg, /rule "bad\.shape".*gtt/);
        assert.match(msg, /rule "bad\.shape".*set\.category/);
        assert.match(msg, /broken\.yaml:11: rule "bad\.field" \(rules\[3\]\): match\.all\[0\]: unknown field "payload\.x"/);
        assert.doesNotMatch(msg, /ok\.rule/);
        return true;
      },
    );
  });

  it('a broken rule file fails config validation (tapio validate) under processors.semantic.rules_files', () => {
    const file = path.join(tmp, 'validate-broken.yaml');
    fs.writeFileSync(file, "rules:\n  - id: v.bad\n    match: { kind: log, all: [{ field: body, gtt: 3 }] }\n    set: { intent: exception, category: application, narrative: x }\n");
    const yaml = `receivers: {testpush: }
processors:
  semantic:
    rules_files: [${JSON.stringify(file)}]
exporters: {testsink: }
service: {pipelines: {logs: {receivers: [testpush], processors: [semantic], exporters: [testsink]}}}
`;
    const { config, issues } = resolveYaml(yaml, [testReceiverFactory, testSinkExporterFactory, factory], 'collector.yaml');
    assert.equal(config, undefined);
    assert.equal(issues.length, 1);
    assert.equal(issues[0]!.path, 'processors.semantic.rules_files.0');
    assert.equal(issues[0]!.location?.file, 'collector.yaml');
    assert.match(issues[0]!.message, /validate-broken\.yaml:2: rule "v\.bad" \(rules\[0\]\): match\.all\.0\.gtt: unknown key "gtt"; did you mean "gt"\?/);
  });

  it('reports unreadable files, YAML errors and unknown variables', () => {
    assert.throws(() => loadLibrary({ include_builtin: false, rules_files: [path.join(tmp, 'missing.yaml')] }), /missing\.yaml: cannot read/);
    const bad = path.join(tmp, 'notyaml.yaml');
    fs.writeFileSync(bad, 'rules:\n  - id: x\n   match: [\n');
    assert.throws(() => loadLibrary({ include_builtin: false, rules_files: [bad] }), /notyaml\.yaml:\d+:\d+: not valid YAML/);
    assert.throws(() => loadLibrary({ include_builtin: false, rules: [{ id: 'v', match: { kind: 'span', all: [{ field: 'span.durationMs', gt: '$nope' }] }, set: { intent: 'exception', category: 'application', narrative: 'x' } }] as never }),
      /rule "v".*unknown variable "\$nope"/);
  });

  it('inline rules are checked by the config schema (tapio validate) with their path', () => {
    assert.throws(() => validConfig(factory, { rules: [{ id: 'x', match: { kind: 'log' }, set: { intent: 'exception', category: 'application' } }] }), /rules\.0\.set.*narrative/);
  });
});

describe('semantic: tapio rules test', () => {
  function capture(): { io: { out: (s: string) => void; err: (s: string) => void }; out: string[]; err: string[] } {
    const out: string[] = []; const err: string[] = [];
    return { io: { out: (s) => out.push(s), err: (s) => err.push(s) }, out, err };
  }

  it('prints which rule matched which event', async () => {
    const rules = path.join(tmp, 'cli-rules.yaml');
    fs.writeFileSync(rules, `rules:
  - id: cli.refused
    match: { kind: log, all: [{ field: body, iregex: 'connection refused' }] }
    set: { intent: connection_refused, category: network, narrative: 'refused in {{resource.service.name}}' }
`);
    const events = path.join(tmp, 'events.jsonl');
    fs.writeFileSync(events, [
      JSON.stringify({ kind: 'log', resource: { 'service.name': 'payment' }, log: { body: 'dial tcp 10.0.0.1:5432: connection refused' } }),
      JSON.stringify({ kind: 'log', resource: { 'service.name': 'payment' }, log: { body: 'all good' } }),
      JSON.stringify({ kind: 'k8s', k8s: { reason: 'OOMKilled', message: 'x' }, resource: { 'k8s.pod.name': 'p' } }),
    ].join('\n') + '\n');
    const c = capture();
    assert.equal(await rulesCommand(['test', rules, events], c.io), 0);
    const text = c.out.join('');
    assert.match(text, /#1 log "dial tcp 10.0.0.1:5432: connection refused" -> cli.refused \(connection_refused, network, confidence 0.8\): refused in payment/);
    assert.match(text, /#2 log "all good" -> no rule/);
    assert.match(text, /#3 k8s "OOMKilled" -> no rule/);
    assert.match(text, /1\/3 event\(s\) matched/);
    const c2 = capture();
    assert.equal(await rulesCommand(['test', rules, '--plugin', './processors/semantic', events, '--with-builtin'], c2.io), 0);
    assert.match(c2.out.join(''), /#3 k8s "OOMKilled" -> k8s.oom_killed/);
  });

  it('exits non-zero on a broken rule file or a bad events line, and is reachable through the factory', async () => {
    const rules = path.join(tmp, 'cli-broken.yaml');
    fs.writeFileSync(rules, 'rules:\n  - id: Bad Id\n    match: { kind: log }\n    set: { intent: x, category: application, narrative: y }\n');
    const events = path.join(tmp, 'bad.jsonl');
    fs.writeFileSync(events, '{"kind":"log"}\nnot json\n');
    const c = capture();
    assert.equal(await rulesCommand(['test', rules, events], c.io), 1);
    assert.match(c.err.join(''), /cli-broken\.yaml:2: rule "Bad Id" \(rules\[0\]\): id: must match pattern/);
    const good = path.join(tmp, 'cli-rules.yaml');
    const c2 = capture();
    assert.equal(await rulesCommand(['test', good, events], c2.io), 1);
    assert.match(c2.err.join(''), /bad\.jsonl:2: not an event/);
    assert.equal(factory.commands?.[0]?.name, 'rules');
  });
});
