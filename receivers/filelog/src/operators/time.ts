import type { UnifiedEvent } from '@tapio/core';
import { deleteField, getField, parseField, type FieldRef } from '../fields';
import { compileTimeParser, type TimeParser } from '../timeparse';
import { Options } from './options';
import { CONTINUE, failed, type Operator, type OperatorEnv, type OnError, type Verdict } from './types';

/** `time_parser` (and a parser's `timestamp:` block): sets the event time from a field. */
export class TimeOperator implements Operator {
  private readonly from: FieldRef;
  private readonly parse: TimeParser;
  private readonly remove: boolean;

  constructor(readonly id: string, o: Options, private readonly onError: OnError, private readonly env: OperatorEnv) {
    this.from = parseField(o.str('parse_from', 'attributes.time')!);
    this.parse = compileTimeParser(o.str('layout_type'), o.str('layout'));
    this.remove = o.bool('remove_field', false);
    o.str('location');
    if (o.cfg.location !== undefined && o.cfg.location !== 'UTC') {
      // TODO(issue 8): IANA time zones for layouts without an offset; only UTC today.
      throw new Error(`${o.where}.location: only UTC is supported so far`);
    }
  }

  process(e: UnifiedEvent): Verdict {
    const v = getField(e, this.from);
    if (v === undefined) return CONTINUE;
    const ns = this.parse(v);
    if (!Number.isFinite(ns)) return failed(this.env, this.id, this.onError, `cannot parse time "${String(v).slice(0, 64)}" from ${this.from.text}`);
    e.time = ns;
    if (this.remove) deleteField(e, this.from);
    return CONTINUE;
  }
}
