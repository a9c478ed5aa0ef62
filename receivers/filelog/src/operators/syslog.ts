import type { AttributeValue, UnifiedEvent } from '@tapio/core';
import { severityFromNumber, SYSLOG_SEVERITY, SYSLOG_SEVERITY_NAMES } from '../severity';
import { parseRfc3339Nanos } from '../timeparse';
import { Options } from './options';
import { Parser } from './parser';
import type { OperatorEnv } from './types';

const RFC5424 = /^<(\d{1,3})>(\d{1,2}) (\S+) (\S+) (\S+) (\S+) (\S+) (-|(?:\[(?:[^\]\\"]|\\.|"(?:[^"\\]|\\.)*")*\])+)(?: ([\s\S]*))?$/;
const SD_ELEMENT = /\[([^\s\]=]+)((?:\s+[^\s=\]]+="(?:[^"\\]|\\.)*")*)\s*\]/g;
const SD_PARAM = /([^\s=\]]+)="((?:[^"\\]|\\.)*)"/g;
// BSD syslog as files hold it: the <PRI> header is optional (rsyslog/journald files omit it),
// the timestamp is `Mmm dd hh:mm:ss` or RFC 3339 (rsyslog's high-precision file format).
const RFC3164 = /^(?:<(\d{1,3})>)?(?:([A-Z][a-z]{2}) {1,2}(\d{1,2}) (\d{2}):(\d{2}):(\d{2})|(\d{4}-\d{2}-\d{2}T\S+)) (\S+) (?:([^:[\s]+)(?:\[([^\]]*)\])?: ?)?([\s\S]*)$/;
const MONTHS: Record<string, number> = { Jan: 0, Feb: 1, Mar: 2, Apr: 3, May: 4, Jun: 5, Jul: 6, Aug: 7, Sep: 8, Oct: 9, Nov: 10, Dec: 11 };
const DAY_MS = 86_400_000;

/** `syslog_parser` with `protocol: rfc3164 | rfc5424`: header fields to attributes, time and severity set. */
export class SyslogParser extends Parser {
  private readonly protocol: 'rfc3164' | 'rfc5424';

  constructor(id: string, o: Options, env: OperatorEnv) {
    super(id, o, env);
    this.protocol = o.oneOf('protocol', ['rfc3164', 'rfc5424'] as const, 'rfc5424');
    const loc = o.str('location');
    // TODO(issue 8): IANA time zones for RFC 3164 timestamps; they are read as UTC today.
    if (loc !== undefined && loc !== 'UTC') throw new Error(`${o.where}.location: only UTC is supported so far`);
  }

  protected parse(value: AttributeValue, e: UnifiedEvent): Record<string, AttributeValue> | string {
    if (typeof value !== 'string') return `${this.from.text} is not a string`;
    return this.protocol === 'rfc5424' ? this.parse5424(value, e) : this.parse3164(value, e);
  }

  private setPriority(out: Record<string, AttributeValue>, pri: string | undefined, e: UnifiedEvent): void {
    if (pri === undefined) return;
    const p = Number(pri);
    const sev = p & 7;
    out.priority = p;
    out.facility = p >> 3;
    out.severity = sev;
    const log = e.log!;
    log.severityNumber = SYSLOG_SEVERITY[sev]!;
    log.severityText = SYSLOG_SEVERITY_NAMES[sev]!;
    e.severity = severityFromNumber(log.severityNumber);
  }

  private parse5424(line: string, e: UnifiedEvent): Record<string, AttributeValue> | string {
    const m = RFC5424.exec(line);
    if (!m) return 'not an RFC 5424 syslog line';
    const out: Record<string, AttributeValue> = { version: Number(m[2]) };
    this.setPriority(out, m[1], e);
    if (m[3] !== '-') {
      const t = parseRfc3339Nanos(m[3]!);
      if (Number.isNaN(t)) return `bad RFC 5424 timestamp "${m[3]}"`;
      e.time = t;
      out.timestamp = m[3]!;
    }
    if (m[4] !== '-') out.hostname = m[4]!;
    if (m[5] !== '-') out.appname = m[5]!;
    if (m[6] !== '-') out.proc_id = m[6]!;
    if (m[7] !== '-') out.msg_id = m[7]!;
    if (m[8] !== '-') out.structured_data = parseStructuredData(m[8]!);
    if (m[9] !== undefined) out.message = m[9].charCodeAt(0) === 0xfeff ? m[9].slice(1) : m[9];
    return out;
  }

  private parse3164(line: string, e: UnifiedEvent): Record<string, AttributeValue> | string {
    const m = RFC3164.exec(line);
    if (!m) return 'not an RFC 3164 syslog line';
    const out: Record<string, AttributeValue> = {};
    this.setPriority(out, m[1], e);
    if (m[7] !== undefined) {
      const t = parseRfc3339Nanos(m[7]);
      if (Number.isNaN(t)) return `bad timestamp "${m[7]}"`;
      e.time = t;
      out.timestamp = m[7];
    } else {
      const month = MONTHS[m[2]!];
      if (month === undefined) return `bad month "${m[2]}"`;
      // No year in RFC 3164: this year, unless that lands in the future (December lines read in January).
      const now = Date.now();
      let ms = Date.UTC(new Date(now).getUTCFullYear(), month, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]));
      if (ms > now + DAY_MS) ms = Date.UTC(new Date(now).getUTCFullYear() - 1, month, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]));
      e.time = ms * 1e6;
      out.timestamp = `${m[2]} ${m[3]} ${m[4]}:${m[5]}:${m[6]}`;
    }
    out.hostname = m[8]!;
    if (m[9] !== undefined) out.appname = m[9];
    if (m[10] !== undefined) out.proc_id = m[10];
    out.message = m[11]!;
    return out;
  }
}

export function parseStructuredData(sd: string): Record<string, AttributeValue> {
  const out: Record<string, AttributeValue> = {};
  for (const el of sd.matchAll(SD_ELEMENT)) {
    const params: Record<string, AttributeValue> = {};
    for (const p of (el[2] ?? '').matchAll(SD_PARAM)) params[p[1]!] = p[2]!.replace(/\\(["\\\]])/g, '$1');
    out[el[1]!] = params;
  }
  return out;
}
