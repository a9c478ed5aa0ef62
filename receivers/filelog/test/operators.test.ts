import * as assert from 'node:assert/strict';
import { createEvent, type UnifiedEvent } from '@tapio/core';
import { OperatorChain, k8sFromPath, parseRfc3339Nanos, compileTimeParser, type OperatorConfig } from '../src/index';
import type { FileContext } from '../src/operators';

function chainOf(ops: OperatorConfig[]): { chain: OperatorChain; errors: string[] } {
  const errors: string[] = [];
  return { chain: new OperatorChain(ops, { parseError: (id, msg) => errors.push(`${id}: ${msg}`) }), errors };
}

function entry(body: string): UnifiedEvent {
  return createEvent({ kind: 'log', source: 'filelog', log: { body } });
}

function runOne(ops: OperatorConfig[], body: string, file: FileContext = { path: '/var/log/app.log' }): { e: UnifiedEvent; verdict: number; errors: string[] } {
  const { chain, errors } = chainOf(ops);
  const e = entry(body);
  return { e, verdict: chain.run(e, file), errors };
}

describe('filelog operators', () => {
  it('json_parser puts fields into attributes and maps embedded timestamp and severity', () => {
    const { e } = runOne([{ type: 'json_parser', timestamp: { parse_from: 'attributes.ts', layout_type: 'epoch', layout: 'ms' }, severity: { parse_from: 'attributes.level' } }],
      '{"ts":1700000000123,"level":"ERROR","msg":"boom","n":3}');
    assert.equal(e.attributes.msg, 'boom');
    assert.equal(e.attributes.n, 3);
    assert.equal(e.time, 1700000000123 * 1e6);
    assert.equal(e.severity, 'error');
    assert.equal(e.log!.severityNumber, 17);
    assert.equal(e.log!.severityText, 'ERROR');
  });

  it('passes a line that is not JSON through as a plain body and counts it (on_error: send)', () => {
    const { e, verdict, errors } = runOne([{ type: 'json_parser' }], 'plain text line');
    assert.equal(verdict, 0);
    assert.equal(e.log!.body, 'plain text line');
    assert.equal(errors.length, 1);
  });

  it('drops an unparseable entry when on_error is drop', () => {
    const { verdict } = runOne([{ type: 'json_parser', on_error: 'drop' }], 'nope');
    assert.equal(verdict, 1);
  });

  it('regex_parser accepts Go-style (?P<name>) groups', () => {
    const { e } = runOne([{ type: 'regex_parser', regex: '^(?P<time>\\S+) \\[(?P<level>\\w+)\\] (?P<msg>.*)$', severity: { parse_from: 'attributes.level' } }],
      '2024-05-01T10:00:00Z [WARN] disk almost full');
    assert.deepEqual({ ...e.attributes }, { time: '2024-05-01T10:00:00Z', level: 'WARN', msg: 'disk almost full' });
    assert.equal(e.severity, 'warn');
  });

  it('syslog_parser reads RFC 5424 with structured data, time and severity', () => {
    const { e, errors } = runOne([{ type: 'syslog_parser', protocol: 'rfc5424' }],
      '<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog 1234 ID47 [exampleSDID@32473 iut="3" eventSource="Application"] An application event');
    assert.deepEqual(errors, []);
    assert.equal(e.attributes.hostname, 'mymachine.example.com');
    assert.equal(e.attributes.appname, 'evntslog');
    assert.equal(e.attributes.proc_id, '1234');
    assert.equal(e.attributes.msg_id, 'ID47');
    assert.equal(e.attributes.message, 'An application event');
    assert.deepEqual(e.attributes.structured_data, { 'exampleSDID@32473': { iut: '3', eventSource: 'Application' } });
    assert.equal(e.attributes.facility, 20);
    assert.equal(e.log!.severityText, 'notice');
    assert.equal(e.time, Date.UTC(2003, 9, 11, 22, 14, 15, 3) * 1e6);
  });

  it('syslog_parser reads RFC 3164 with and without <PRI>, and rsyslog high-precision time', () => {
    const a = runOne([{ type: 'syslog_parser', protocol: 'rfc3164' }], '<34>Oct 11 22:14:15 mymachine su[42]: \'su root\' failed for lonvick on /dev/pts/8').e;
    assert.equal(a.attributes.appname, 'su');
    assert.equal(a.attributes.proc_id, '42');
    assert.equal(a.attributes.hostname, 'mymachine');
    assert.equal(a.severity, 'fatal');
    assert.equal(new Date(a.time / 1e6).getUTCMonth(), 9);
    const b = runOne([{ type: 'syslog_parser', protocol: 'rfc3164' }], 'Jan  5 01:02:03 host kernel: Out of memory: Killed process 42').e;
    assert.equal(b.attributes.appname, 'kernel');
    assert.equal(b.attributes.message, 'Out of memory: Killed process 42');
    const c = runOne([{ type: 'syslog_parser', protocol: 'rfc3164' }], '2024-05-01T10:00:00.123456+02:00 web1 nginx[7]: started').e;
    assert.equal(c.time, Date.UTC(2024, 4, 1, 8, 0, 0, 123) * 1e6 + 456e3);
  });

  it('container parses CRI lines, joins partial (P) lines and adds Kubernetes metadata from the path', () => {
    const { chain } = chainOf([{ type: 'container' }]);
    const file: FileContext = { path: '/var/log/pods/hipster_frontend-579b9bff58-t2dbm_0f1e2d3c-aaaa-bbbb-cccc-123456789abc/server/2.log' };
    const p1 = entry('2022-08-22T03:52:00.123456789Z stdout P first half, ');
    assert.equal(chain.run(p1, file), 2, 'partial line is held');
    const p2 = entry('2022-08-22T03:52:00.200000000Z stdout F second half');
    assert.equal(chain.run(p2, file), 0);
    assert.equal(p2.log!.body, 'first half, second half');
    assert.equal(p2.time, parseRfc3339Nanos('2022-08-22T03:52:00.123456789Z'));
    assert.equal(p2.attributes['log.iostream'], 'stdout');
    assert.equal(p2.resource['k8s.namespace.name'], 'hipster');
    assert.equal(p2.resource['k8s.pod.name'], 'frontend-579b9bff58-t2dbm');
    assert.equal(p2.resource['k8s.pod.uid'], '0f1e2d3c-aaaa-bbbb-cccc-123456789abc');
    assert.equal(p2.resource['k8s.container.name'], 'server');
    assert.equal(p2.resource['k8s.container.restart_count'], 2);
    assert.deepEqual(p2.entity, { kind: 'pod', name: 'frontend-579b9bff58-t2dbm', namespace: 'hipster', uid: '0f1e2d3c-aaaa-bbbb-cccc-123456789abc' });
  });

  it('container parses Docker JSON lines and joins lines split by the runtime', () => {
    const { chain } = chainOf([{ type: 'container', format: 'docker' }]);
    const file: FileContext = { path: '/var/lib/docker/containers/abc/abc-json.log' };
    const a = entry('{"log":"part one ","stream":"stderr","time":"2024-01-02T03:04:05.000000006Z"}');
    assert.equal(chain.run(a, file), 2);
    const b = entry('{"log":"part two\\n","stream":"stderr","time":"2024-01-02T03:04:05.100Z"}');
    assert.equal(chain.run(b, file), 0);
    assert.equal(b.log!.body, 'part one part two');
    assert.equal(b.attributes['log.iostream'], 'stderr');
    assert.equal(b.time, Date.UTC(2024, 0, 2, 3, 4, 5) * 1e6 + 6);
  });

  it('container sends a run of partial lines once it reaches max_log_size, instead of holding it forever', () => {
    const { chain } = chainOf([{ type: 'container', max_log_size: 100 }]);
    const file: FileContext = { path: '/x/0.log' };
    const verdicts = Array.from({ length: 4 }, () => chain.run(entry(`2024-01-01T00:00:00Z stdout P ${'y'.repeat(40)}`), file));
    assert.deepEqual(verdicts, [2, 2, 0, 2], 'third piece passes 100 characters: the joined entry goes out');
  });

  it('reads pod metadata from /var/log/containers symlink names too', () => {
    const id = 'a'.repeat(64);
    assert.deepEqual(k8sFromPath(`/var/log/containers/web-1_shop_nginx-${id}.log`), {
      'k8s.pod.name': 'web-1', 'k8s.namespace.name': 'shop', 'k8s.container.name': 'nginx', 'container.id': id,
    });
    assert.deepEqual(k8sFromPath('/var/log/syslog'), {});
  });

  it('trace_parser takes trace/span ids and flags, and the Google Cloud trace form', () => {
    const { e } = runOne([{ type: 'json_parser' }, { type: 'trace_parser', trace_id: { parse_from: 'attributes["logging.googleapis.com/trace"]' }, span_id: { parse_from: 'attributes["logging.googleapis.com/spanId"]' } }],
      '{"logging.googleapis.com/trace":"projects/p/traces/8B51E36EAEE3265BEC099D0C5C63FD37","logging.googleapis.com/spanId":"69f0ab5eab6ab97b"}');
    assert.deepEqual(e.trace, { traceId: '8b51e36eaee3265bec099d0c5c63fd37', spanId: '69f0ab5eab6ab97b' });
  });

  it('trace_parser counts an invalid trace id and leaves the entry without trace', () => {
    const { e, errors } = runOne([{ type: 'json_parser' }, { type: 'trace_parser' }], '{"trace_id":"xyz"}');
    assert.equal(e.trace, undefined);
    assert.equal(errors.length, 1);
  });

  it('severity_parser maps custom values and HTTP status ranges', () => {
    const ops: OperatorConfig[] = [{ type: 'json_parser' }, { type: 'severity_parser', parse_from: 'attributes.status', mapping: { error: { min: 500, max: 599 }, warn: [{ min: 400, max: 499 }, 'slow'] } }];
    assert.equal(runOne(ops, '{"status":503}').e.severity, 'error');
    assert.equal(runOne(ops, '{"status":404}').e.severity, 'warn');
    assert.equal(runOne(ops, '{"status":"slow"}').e.severity, 'warn');
    assert.equal(runOne(ops, '{"status":200}').e.severity, 'info');
  });

  it('move puts a parsed message into the body', () => {
    const { e } = runOne([{ type: 'json_parser' }, { type: 'move', from: 'attributes.message', to: 'body' }], '{"message":"hello","x":1}');
    assert.equal(e.log!.body, 'hello');
    assert.equal(e.attributes.message, undefined);
  });

  it('time_parser understands strptime, Go layouts and epoch', () => {
    assert.equal(compileTimeParser('strptime', '%d/%b/%Y:%H:%M:%S %z')('10/Oct/2000:13:55:36 -0700'), Date.UTC(2000, 9, 10, 20, 55, 36) * 1e6);
    assert.equal(compileTimeParser('gotime', '2006-01-02 15:04:05.000')('2024-03-04 05:06:07.089'), Date.UTC(2024, 2, 4, 5, 6, 7, 89) * 1e6);
    assert.equal(compileTimeParser('epoch', 's.ms')('1700000000.5'), 1700000000.5e9);
    assert.ok(Number.isNaN(compileTimeParser('strptime', '%Y-%m-%d')('not a date')));
  });

  it('rejects bad operator configs with the operator path in the message', () => {
    assert.throws(() => chainOf([{ type: 'regex_parser', regex: '(no groups)' }]), /operators\.0\.regex needs at least one named group/);
    assert.throws(() => chainOf([{ type: 'json_parser', parse_fro: 'body' }]), /operators\.0: unknown option "parse_fro"/);
    assert.throws(() => chainOf([{ type: 'severity_parser', mapping: { loud: 'x' } }]), /"loud" is not a severity/);
  });
});
