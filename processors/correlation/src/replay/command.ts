import * as fs from 'node:fs';
import type { CliCommand } from '@tapio/core';
import { createDefaultConfig, engineSettings } from '../config';
import { readReplayRequests, type ReplayRequest } from './reader';
import { replayEmbedded } from './embedded';
import { replayThroughOtlpReceiver } from './otlp-pipeline';
import { sendToEndpoint } from './send';

const HELP = `usage: tapio replay <dir> [--endpoint http://host:4318] [--out incidents.jsonl]

Sends traces|logs|metrics.otlp.jsonl[.gz] (one OTLP/JSON export request per line) in event-time
order, as fast as the receiver accepts them.
  --endpoint URL   a running collector's OTLP/HTTP endpoint (POST application/json to /v1/traces …)
  (no endpoint)    embedded: the otlp receiver (when installed; else in-process decoding) feeding a
                   correlation processor with default settings; incidents are printed as JSON lines
                   (or written to --out)`;

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
    const settings = engineSettings(createDefaultConfig());
    const viaOtlp = await replayThroughOtlpReceiver(requests, settings);
    const r = viaOtlp ?? replayEmbedded(requests, settings);
    const text = r.incidents.map((i) => JSON.stringify(i)).join('\n') + (r.incidents.length ? '\n' : '');
    if (out) fs.writeFileSync(out, text); else process.stdout.write(text);
    console.error(`replay: ${r.events} events, ${r.incidents.length} incident(s), ${r.predictions.length} prediction(s) in ${Date.now() - t0} ms (embedded, ${viaOtlp ? 'through the otlp receiver' : 'in-process decoding'})`);
    return 0;
  },
};
