import * as http from 'node:http';
import * as https from 'node:https';
import type { ReplayRequest } from './reader';

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

