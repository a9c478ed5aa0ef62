import * as fs from 'node:fs';
import * as path from 'node:path';
import * as readline from 'node:readline';
import * as zlib from 'node:zlib';
import type { OtlpSignal } from '../otlp/decode';

export interface ReplayRequest { signal: OtlpSignal; time: number; line: string; body: Record<string, unknown> }

const SIGNALS: OtlpSignal[] = ['traces', 'logs', 'metrics'];

/** The replayable files of a directory: `traces|logs|metrics.otlp.jsonl[.gz]`. */
export function replayFiles(dir: string): { signal: OtlpSignal; file: string }[] {
  const out: { signal: OtlpSignal; file: string }[] = [];
  for (const signal of SIGNALS) {
    for (const name of [`${signal}.otlp.jsonl`, `${signal}.otlp.jsonl.gz`]) {
      const f = path.join(dir, name);
      if (fs.existsSync(f)) out.push({ signal, file: f });
    }
  }
  return out;
}

/** Earliest timestamp (unix ns) of one export request; NaN when it has none. */
export function requestTime(signal: OtlpSignal, body: any): number {
  let min = Infinity;
  const top = body[signal === 'traces' ? 'resourceSpans' : signal === 'logs' ? 'resourceLogs' : 'resourceMetrics'] ?? [];
  for (const r of top) for (const s of (r.scopeSpans ?? r.scopeLogs ?? r.scopeMetrics ?? [])) {
    if (signal === 'traces') for (const x of s.spans ?? []) { const t = Number(x.startTimeUnixNano); if (t < min) min = t; }
    else if (signal === 'logs') for (const x of s.logRecords ?? []) { const t = Number(x.timeUnixNano || x.observedTimeUnixNano); if (t < min) min = t; }
    else for (const m of s.metrics ?? []) for (const k of ['gauge', 'sum', 'histogram', 'exponentialHistogram', 'summary']) for (const p of m[k]?.dataPoints ?? []) { const t = Number(p.timeUnixNano); if (t < min) min = t; }
  }
  return Number.isFinite(min) ? min : NaN;
}

async function readLines(file: string): Promise<string[]> {
  const input = file.endsWith('.gz') ? fs.createReadStream(file).pipe(zlib.createGunzip()) : fs.createReadStream(file);
  const rl = readline.createInterface({ input, crlfDelay: Infinity });
  const out: string[] = [];
  for await (const line of rl) if (line.trim()) out.push(line);
  return out;
}

/**
 * Every export request of a directory, in event-time order (by each request's earliest
 * timestamp; ties keep file order, traces before logs before metrics). Bad lines are reported
 * through onBadLine and skipped.
 */
export async function readReplayRequests(dir: string, onBadLine: (file: string, lineNo: number, err: Error) => void = () => {}): Promise<ReplayRequest[]> {
  const files = replayFiles(dir);
  if (!files.length) throw new Error(`${dir}: no traces|logs|metrics.otlp.jsonl[.gz] files`);
  const all: ReplayRequest[] = [];
  for (const { signal, file } of files) {
    const lines = await readLines(file);
    lines.forEach((line, i) => {
      try {
        const body = JSON.parse(line) as Record<string, unknown>;
        all.push({ signal, time: requestTime(signal, body), line, body });
      } catch (err) { onBadLine(file, i + 1, err as Error); }
    });
  }
  // Stable sort: requests without timestamps keep their place at the front of their file.
  return all.map((r, i) => ({ r, i })).sort((a, b) => (a.r.time || 0) - (b.r.time || 0) || a.i - b.i).map((x) => x.r);
}
