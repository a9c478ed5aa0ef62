import type { AttributeValue, UnifiedEvent } from '@tapio/core';
import { getField, mergeInto, parseField, type FieldRef } from '../fields';
import { Options } from './options';
import { SeverityOperator } from './severity';
import { TimeOperator } from './time';
import { TraceOperator } from './trace';
import { CONTINUE, DROP, failed, type FileContext, type Operator, type OperatorEnv, type OnError, type Verdict } from './types';

export const ON_ERROR = ['send', 'send_quiet', 'drop', 'drop_quiet'] as const;

/**
 * What json_parser, regex_parser and syslog_parser share (as in OTel stanza's ParserConfig):
 * `parse_from` (default body), `parse_to` (default attributes), `on_error`, and embedded
 * `timestamp:`, `severity:` and `trace:` blocks applied after a successful parse.
 */
export abstract class Parser implements Operator {
  protected readonly from: FieldRef;
  protected readonly to: FieldRef;
  protected readonly onError: OnError;
  private readonly after: Operator[] = [];

  constructor(readonly id: string, o: Options, protected readonly env: OperatorEnv) {
    this.from = parseField(o.str('parse_from', 'body')!);
    this.to = parseField(o.str('parse_to', 'attributes')!);
    this.onError = o.oneOf('on_error', ON_ERROR, 'send');
    const ts = o.obj('timestamp');
    if (ts) this.after.push(built(new Options(ts as never, `${o.where}.timestamp`), (p) => new TimeOperator(`${id}.timestamp`, p, this.onError, env)));
    const sev = o.obj('severity');
    if (sev) this.after.push(built(new Options(sev as never, `${o.where}.severity`), (p) => new SeverityOperator(`${id}.severity`, p)));
    const tr = o.obj('trace');
    if (tr) this.after.push(built(new Options(tr as never, `${o.where}.trace`), (p) => new TraceOperator(`${id}.trace`, p, this.onError, env)));
  }

  /** The parsed fields, or an error message. */
  protected abstract parse(value: AttributeValue, e: UnifiedEvent): Record<string, AttributeValue> | string;

  process(e: UnifiedEvent, file: FileContext): Verdict {
    const v = getField(e, this.from);
    if (v === undefined || v === null) return failed(this.env, this.id, this.onError, `entry has no ${this.from.text}`);
    const out = this.parse(v, e);
    if (typeof out === 'string') return failed(this.env, this.id, this.onError, out);
    mergeInto(e, this.to, out);
    for (let i = 0; i < this.after.length; i++) {
      if (this.after[i]!.process(e, file) === DROP) return DROP;
    }
    return CONTINUE;
  }
}

function built<T>(o: Options, make: (o: Options) => T): T {
  const op = make(o);
  o.done();
  return op;
}
