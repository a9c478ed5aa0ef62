import type { UnifiedEvent } from '@tapio/core';
import { getField, parseField, type FieldRef } from '../fields';
import { Options } from './options';
import { CONTINUE, failed, type Operator, type OperatorEnv, type OnError, type Verdict } from './types';

const HEX32 = /^[0-9a-fA-F]{32}$/;
const HEX16 = /^[0-9a-fA-F]{16}$/;
const ZERO32 = '0'.repeat(32);

function ref(o: Options, key: string, dflt: string): FieldRef {
  const block = o.obj(key);
  const from = block?.parse_from;
  if (from !== undefined && typeof from !== 'string') throw new Error(`${o.where}.${key}.parse_from must be a string`);
  return parseField(from ?? dflt);
}

/** Strips the Google Cloud form `projects/<p>/traces/<id>` down to the id. */
function lastSegment(s: string): string {
  const i = s.lastIndexOf('/');
  return i < 0 ? s : s.slice(i + 1);
}

/** `trace_parser` (and a parser's `trace:` block): trace id, span id and flags from fields. */
export class TraceOperator implements Operator {
  private readonly traceId: FieldRef;
  private readonly spanId: FieldRef;
  private readonly flags: FieldRef;

  constructor(readonly id: string, o: Options, private readonly onError: OnError, private readonly env: OperatorEnv) {
    this.traceId = ref(o, 'trace_id', 'attributes.trace_id');
    this.spanId = ref(o, 'span_id', 'attributes.span_id');
    this.flags = ref(o, 'trace_flags', 'attributes.trace_flags');
  }

  process(e: UnifiedEvent): Verdict {
    const t = getField(e, this.traceId);
    if (typeof t !== 'string') return CONTINUE;
    const traceId = lastSegment(t);
    if (!HEX32.test(traceId) || traceId === ZERO32) return failed(this.env, this.id, this.onError, `"${t.slice(0, 64)}" is not a trace id (32 hex digits)`);
    const trace: NonNullable<UnifiedEvent['trace']> = { traceId: traceId.toLowerCase() };
    const s = getField(e, this.spanId);
    if (typeof s === 'string' && s !== '') {
      if (!HEX16.test(s)) return failed(this.env, this.id, this.onError, `"${s.slice(0, 64)}" is not a span id (16 hex digits)`);
      trace.spanId = s.toLowerCase();
    }
    const f = getField(e, this.flags);
    if (typeof f === 'number') trace.flags = f;
    else if (typeof f === 'string' && /^[0-9a-fA-F]{1,2}$/.test(f)) trace.flags = parseInt(f, 16);
    else if (typeof f === 'boolean') trace.flags = f ? 1 : 0;
    e.trace = trace;
    return CONTINUE;
  }
}
