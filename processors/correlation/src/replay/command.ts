import * as fs from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import type { CliCommand } from '@tapio/core';
import { createDefaultConfig, engineSettings } from '../config';
import { readReplayRequests, type ReplayRequest } from './reader';
import { replayEmbedded } from './embedded';

const HELP = `usage: tapio replay <dir> [--endpoint http://host:4318] [--out incidents.jsonl]

Sends traces|logs|metrics.otlp.jsonl[.gz] (one OTLP/JSON export request per line) in event-time
order, as fast as the receiver accepts them.
  --endpoint URL   a running collector's OTLP/HTTP endpoint (POST application/json to /v1/traces …)
  (no endpoint)    embedded: decode in-process and correlate with default settings; incidents are
                   printed as JSON lines (or written to --out)`;

/** POSTs one request and resolves with the status code; keeps the connection alive. */
function post(url: URL, body: string, agent: http.Agent): Promise<number> {
  const mod = url.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const req = mod.request(url, { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end(body);
  });
}

export async function sendToEndpoint(requests: ReplayRequest[], endpoint: string, log: (s: string) => void = () => {}): Promise<{ sent: number; failed: number }> {
  const base = endpoint.replace(/\/+$/, '');
  const agent = new (base.startsWith('https:') ? https.Agent : http.Agent)({ keepAlive: true, maxSockets: 1 });
  let sent = 0; let failed = 0;
  try {
    for (const r of requests) {
      let status = 0;
      // Back-pressure: 429/503 mean "later", so wait and try again in order.
      for (let attempt = 0; attempt < 8; attempt++) {
        status = await post(new URL(`${base}/v1/${r.signal}`), r.line, agent);
        if (status !== 429 && status !== 503) break;
        await new Promise((res) => setTimeout(res, 50 * 2 ** attempt));
      }
      if (status >= 200 && status < 300) sent++; else { failed++; log(`replay: ${r.signal} request refused with HTTP ${status}`); }
    }
  } finally { agent.destroy(); }
  return { sent, failed };
}

export const replayCommand: CliCommand = {
  name: 'replay',
  description: 'Replay recorded OTLP/JSON lines (traces|logs|metrics.otlp.jsonl[.gz]) in event-time order',
  async run(args: string[]): Promise<number> {
    let dir: string | undefined; let endpoint: string | undefined; let out: string | undefined;
    for (let i = 0; i < args.length; i++) {
      const a = args[i]!;
      if (a === '--endpoint') endpoint = args[++i];
      else if (a === '--out') out = args[++i];
      else if (a === '-h' || a === '--help') { console.log(HELP); return 0; }
      else if (a.startsWith('-')) { console.error(`replay: unknown option ${a}\n${HELP}`); return 2; }
      else dir = a;
    }
    if (!dir) { console.error(HELP); return 2; }
    if (!fs.existsSync(dir)) { console.error(`replay: ${dir} does not exist`); return 2; }
    let requests: ReplayRequest[];
    try {
      requests = await readReplayRequests(dir, (f, n, e) => console.error(`replay: ${f}:${n}: skipped, not JSON (${e.message})`));
    } catch (err) { console.error(`replay: ${(err as Error).message}`); return 2; }
    const t0 = Date.now();
    if (endpoint) {
      try {
        const { sent, failed } = await sendToEndpoint(requests, endpoint, (s) => console.error(s));
        console.error(`replay: sent ${sent} requests (${failed} refused) to ${endpoint} in ${Date.now() - t0} ms`);
        return failed ? 1 : 0;
      } catch (err) { console.error(`replay: cannot reach ${endpoint}: ${(err as Error).message}`); return 1; }
    }
    const r = replayEmbedded(requests, engineSettings(createDefaultConfig()));
    const text = r.incidents.map((i) => JSON.stringify(i)).join('\n') + (r.incidents.length ? '\n' : '');
    if (out) fs.writeFileSync(out, text); else process.stdout.write(text);
    console.error(`replay: ${r.events} events, ${r.incidents.length} incident(s), ${r.predictions.length} prediction(s) in ${Date.now() - t0} ms (embedded)`);
    return 0;
  },
};
