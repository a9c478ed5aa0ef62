import type { Incident, UnifiedEvent } from '@tapio/core';
import type { CorrelationSummary } from '@tapio/extension-api';

const LAYER_TAG: Record<string, string> = { application: 'APP', network: 'NET', kubernetes: 'K8S', kernel: 'KERNEL' };
const SEVERITY_WORD: Record<string, string> = { fatal: 'CRITICAL', error: 'HIGH', warn: 'MEDIUM', info: 'LOW', debug: 'LOW' };

function heading(title: string): string {
  return `${title}\n${'═'.repeat(title.length)}\n`;
}

/** $45K, $1.2M, $310 */
export function money(n: number): string {
  if (n >= 1e6) return `$${trim(n / 1e6)}M`;
  if (n >= 1e3) return `$${trim(n / 1e3)}K`;
  return `$${trim(n)}`;
}
function trim(n: number): string { return n >= 100 ? String(Math.round(n)) : String(Math.round(n * 10) / 10); }

export function duration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 120) return `${Math.round(s * 10) / 10} seconds`;
  return `${Math.round(s / 6) / 10} minutes`;
}

function iso(ns: number): string { return new Date(ns / 1e6).toISOString(); }

/** The correlation story, as the seed README tells it. Unknown figures say so. */
export function formatCorrelation(s: CorrelationSummary, incidentHint = true): string {
  let out = heading('CORRELATION SUMMARY');
  out += `Trace: ${s.traceId}\n`;
  if (s.rootCause) {
    const where = [s.rootCause.entity ?? s.rootCause.service, s.rootCause.layer ? `${s.rootCause.layer} layer` : undefined, s.rootCause.confidence !== undefined ? `confidence ${Math.round(s.rootCause.confidence * 100)}%` : undefined].filter(Boolean).join(', ');
    out += `Root Cause: ${s.rootCause.summary}${where ? ` (${where})` : ''}\n`;
  } else {
    out += 'Root Cause: unknown (no failing event on this trace)\n';
  }
  if (s.impact) {
    const bits = [s.impact.revenueAtRisk !== undefined ? `${money(s.impact.revenueAtRisk)} revenue at risk` : undefined, s.impact.customerFacing ? 'customer-facing' : undefined, s.impact.sloViolation ? 'SLO violated' : undefined].filter(Boolean);
    out += `Business Impact: ${SEVERITY_WORD[s.impact.severity] ?? s.impact.severity.toUpperCase()}${bits.length ? ' - ' + bits.join(', ') : ''} (score ${s.impact.score.toFixed(2)})\n`;
  } else {
    out += 'Business Impact: unknown (no impact scored on these events)\n';
  }
  out += `Affected Users: ${s.affectedUsers === null ? 'unknown (no enduser.id on failing requests)' : s.affectedUsers.toLocaleString('en-US') + (s.affectedUsersSource === 'impact' ? ' (from the impact processor)' : '')}\n`;
  out += `Failed Requests: ${s.failedRequests.toLocaleString('en-US')}\n`;
  out += `Time to Detection: ${s.timeToDetectMs === null ? 'not detected (no incident covers this trace)' : duration(s.timeToDetectMs)}\n`;
  if (s.incidentId && incidentHint) out += `Incident: ${s.incidentId}\n`;
  out += '\n' + heading(`EVENT CHAIN (${s.eventCount} event${s.eventCount === 1 ? '' : 's'} correlated)`);
  s.chain.forEach((c, i) => {
    out += `${i + 1}. [${LAYER_TAG[c.layer] ?? c.layer.toUpperCase()}] ${c.summary}${c.count > 1 ? ` (×${c.count})` : ''}\n`;
    out += `   └─ ${iso(c.time)} · ${[c.service, c.entity, c.intent].filter(Boolean).join(' · ')}\n`;
  });
  const layers = Object.entries(s.byLayer).filter(([, n]) => n > 0).map(([l, n]) => `${l} ${n}`).join(', ');
  out += `   Layers: ${layers || 'none'}\n`;
  out += '\n' + heading('RECOMMENDED ACTIONS');
  if (!s.recommendations.length) out += 'none recorded\n';
  s.recommendations.forEach((r, i) => { out += `${i + 1}. ${r}\n`; });
  if (s.incidentId && s.recommendations.length) out += `\nApply one with: tapio-cli incidents apply ${s.incidentId} <N>\n`;
  return out;
}

export function formatIncidentList(incidents: Incident[]): string {
  if (!incidents.length) return 'no incidents\n';
  const rows = incidents.map((i) => [
    i.id, i.status, iso(Number(i.detectedTimeUnixNano)).replace('T', ' ').slice(0, 19), `${Math.round(i.confidence * 100)}%`,
    i.impact ? (SEVERITY_WORD[i.impact.severity] ?? i.impact.severity) : '-', i.rootCause?.entity?.service ?? '-', i.title,
  ]);
  return table(['ID', 'STATUS', 'DETECTED (UTC)', 'CONF', 'IMPACT', 'SERVICE', 'TITLE'], rows);
}

export function formatIncident(i: Incident): string {
  let out = heading(`INCIDENT ${i.id} (${i.status})`);
  out += `${i.title}\n`;
  const ent = i.rootCause.entity;
  out += `Root Cause: ${i.rootCause.narrative} (${[ent.service, ent.pod, ent.namespace].filter(Boolean).join(', ')}; confidence ${Math.round(i.confidence * 100)}%)\n`;
  if (i.impact) out += `Impact: ${SEVERITY_WORD[i.impact.severity] ?? i.impact.severity}, score ${i.impact.score.toFixed(2)}${i.impact.revenueAtRisk !== undefined ? `, ${money(i.impact.revenueAtRisk)} revenue at risk` : ''}${i.impact.affectedUsers !== undefined ? `, ${i.impact.affectedUsers} users` : ''}\n`;
  out += `Started: ${iso(Number(i.startTimeUnixNano))}  Detected: ${iso(Number(i.detectedTimeUnixNano))}  Time to detection: ${duration(i.timeToDetectMs)}\n`;
  out += '\n' + heading('CHAIN');
  i.chain.forEach((l, n) => { out += `${n + 1}. [${LAYER_TAG[l.layer] ?? l.layer}] ${l.summary}  (${iso(l.time)}, event ${l.eventId})\n`; });
  if (i.rankedCauses?.length) {
    out += '\n' + heading('RANKED CAUSES');
    i.rankedCauses.forEach((c, n) => { out += `${n + 1}. ${[c.entity.service, c.entity.pod].filter(Boolean).join('/')} score ${c.score.toFixed(2)}\n`; });
  }
  out += '\n' + heading('RECOMMENDED ACTIONS');
  i.recommendations.forEach((r, n) => { out += `${n + 1}. ${r}\n`; });
  return out;
}

/** One line per streamed event. */
export function formatEventLine(e: UnifiedEvent): string {
  const who = (e.resource?.['service.name'] as string | undefined) ?? e.entity?.name ?? e.source;
  const what = e.semantic?.narrative ?? e.span?.name ?? (typeof e.log?.body === 'string' ? e.log.body : undefined) ?? e.k8s?.reason ?? e.kernel?.event ?? e.network?.event ?? e.metric?.name ?? (e.incident as { title?: string } | undefined)?.title ?? '';
  return `${iso(e.time)} ${e.severity.toUpperCase().padEnd(5)} ${e.kind.padEnd(11)} ${who}: ${what}${e.trace ? ` trace=${e.trace.traceId}` : ''}`;
}

export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => (r[c] ?? '').length)));
  const line = (cells: string[]) => cells.map((x, c) => (c === cells.length - 1 ? x : x.padEnd(widths[c]!))).join('  ').trimEnd() + '\n';
  return line(header) + rows.map(line).join('');
}
