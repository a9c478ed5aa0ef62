import * as fs from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import * as path from 'node:path';
import type { Logger } from '@tapio/core';
import { checkBearer } from './auth';
import { FilterError, filterFromParams } from './filter';
import { openApiDocument } from './openapi';
import { RequestError, type ApiService, type IncidentItem } from './service';
import type { StoredEvent } from './store';

export interface HttpOptions {
  token?: string;
  tls?: { cert: Buffer; key: Buffer };
  dashboard: boolean;
  logger: Logger;
}

const PUBLIC_DIR = path.join(__dirname, '..', '..', 'public');
const CONTENT_TYPES: Record<string, string> = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8', '.svg': 'image/svg+xml' };
const HEARTBEAT_MS = 15_000;

/**
 * REST/JSON under /api/v1, Server-Sent Events for the two streams, the OpenAPI description and
 * the dashboard's static files. Plain node:http: the SSE path needs direct control of
 * back-pressure (write() → false, 'drain'), which is what bounds memory per slow client.
 */
export function createHttpServer(api: ApiService, o: HttpOptions): http.Server {
  const handler = (req: http.IncomingMessage, res: http.ServerResponse) => {
    try {
      route(api, o, req, res);
    } catch (err) {
      sendError(res, err, o.logger);
    }
  };
  return o.tls ? https.createServer({ cert: o.tls.cert, key: o.tls.key }, handler) : http.createServer(handler);
}

function route(api: ApiService, o: HttpOptions, req: http.IncomingMessage, res: http.ServerResponse): void {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const p = url.pathname;
  if (req.method !== 'GET' && req.method !== 'HEAD') throw new RequestError(400, `method ${req.method} is not supported; the API is read-only`);
  if (!p.startsWith('/api/')) return serveStatic(o, p, res);
  if (p === '/api/v1/openapi.json') return sendJson(res, 200, openApiDocument());
  if (!checkBearer(o.token, req.headers.authorization, url.searchParams.get('access_token'))) {
    res.setHeader('WWW-Authenticate', 'Bearer realm="tapio"');
    throw new RequestError(401, 'missing or wrong bearer token');
  }
  const q = url.searchParams;
  const parts = p.split('/').filter(Boolean).slice(2); // after api/v1
  if (!p.startsWith('/api/v1/')) throw new RequestError(404, `unknown API version in ${p}; use /api/v1`);
  const [a, b, c] = parts.map((x) => decodeURIComponent(x));
  switch (a) {
    case 'health': return sendJson(res, 200, api.health());
    case 'events':
      if (b === 'stream') return streamEvents(api, req, res, q);
      if (b) return sendJson(res, 200, api.getEvent(b).event);
      return sendPage(res, api.listEvents(filterFromParams(q), { limit: q.get('limit'), pageToken: q.get('page_token'), since: time(q, 'since'), until: time(q, 'until') }), 'events', (s) => s.json);
    case 'incidents':
      if (b === 'stream') return streamIncidents(api, req, res, q);
      if (b && c === 'actions') return sendJson(res, 200, { actions: api.incidentActions(b), dryRun: true });
      if (b && c === 'events') return sendPage(res, { items: api.incidentEvents(b) }, 'events', (s) => s.json);
      if (b) return sendJson(res, 200, api.getIncident(b));
      return sendPage(res, api.listIncidents({ status: q.get('status'), service: q.get('service'), limit: q.get('limit'), pageToken: q.get('page_token') }), 'incidents', (s) => JSON.stringify(s.incident));
    case 'correlate': return sendJson(res, 200, api.correlate(q.get('trace_id')));
    case 'traces':
      if (b && c === 'correlation') return sendJson(res, 200, api.correlate(b));
      break;
    case 'servicemap': return sendJson(res, 200, api.serviceMap());
  }
  throw new RequestError(404, `no such API path: ${p}`);
}

/** `since`/`until`: unix ns, or an ISO time. */
function time(q: URLSearchParams, key: string): number | undefined {
  const v = q.get(key);
  if (!v) return undefined;
  if (/^\d+$/.test(v)) return Number(v);
  const ms = Date.parse(v);
  if (Number.isNaN(ms)) throw new RequestError(400, `${key} must be unix nanoseconds or an ISO-8601 time, got '${v}'`);
  return ms * 1e6;
}

/** An event's SSE frame, built once and shared by every client that gets the event. */
function sseFrame(s: StoredEvent): Buffer {
  return (s.sse ??= Buffer.from(`event: event\nid: ${s.seq}\ndata: ${s.json}\n\n`));
}

function streamEvents(api: ApiService, req: http.IncomingMessage, res: http.ServerResponse, q: URLSearchParams): void {
  const filter = filterFromParams(q);
  const sink = {
    write(items: StoredEvent[]): boolean {
      const frames = new Array<Buffer>(items.length);
      for (let i = 0; i < items.length; i++) frames[i] = sseFrame(items[i]!);
      return res.write(frames.length === 1 ? frames[0]! : Buffer.concat(frames));
    },
  };
  const sub = api.subscribeEvents(filter, sink);
  openSse(res);
  // Resume after a reconnect: replay what the client missed (bounded by its queue size).
  const last = Number(req.headers['last-event-id']);
  if (Number.isInteger(last) && last > 0) {
    for (const s of api.store.queryEvents({ filter, afterSeq: last, limit: sub.capacity })) sub.enqueue(s);
    sub.flush();
  }
  attach(res, sub, () => api.events.unsubscribe(sub));
}

function streamIncidents(api: ApiService, _req: http.IncomingMessage, res: http.ServerResponse, q: URLSearchParams): void {
  const sink = sseSink<IncidentItem>(res, 'incident', (i) => i.json);
  const sub = api.subscribeIncidents({ status: q.get('status') ?? undefined, service: q.get('service') ?? undefined }, sink);
  openSse(res);
  attach(res, sub, () => api.incidents.unsubscribe(sub));
}

function sseSink<T extends { seq: number }>(res: http.ServerResponse, event: string, json: (item: T) => string) {
  return {
    write(items: T[]): boolean {
      let text = '';
      for (const it of items) text += `event: ${event}\nid: ${it.seq}\ndata: ${json(it)}\n\n`;
      return res.write(text);
    },
  };
}

function openSse(res: http.ServerResponse): void {
  res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', connection: 'keep-alive', 'x-accel-buffering': 'no' });
  res.write('retry: 2000\n\n');
}

function attach(res: http.ServerResponse, sub: { resume(): void }, close: () => void): void {
  res.on('drain', () => sub.resume());
  const heartbeat = setInterval(() => { if (res.writableLength === 0) res.write(': keep-alive\n\n'); }, HEARTBEAT_MS);
  heartbeat.unref();
  res.on('close', () => { clearInterval(heartbeat); close(); });
}

function serveStatic(o: HttpOptions, p: string, res: http.ServerResponse): void {
  if (!o.dashboard) throw new RequestError(404, 'the dashboard is disabled (dashboard.enabled: false)');
  const rel = p === '/' || p.startsWith('/incidents/') || p === '/events' || p === '/map' ? 'index.html' : p.replace(/^\/+/, '');
  const file = path.join(PUBLIC_DIR, path.normalize(rel));
  if (!file.startsWith(PUBLIC_DIR + path.sep) || !fs.existsSync(file) || !fs.statSync(file).isFile()) throw new RequestError(404, `not found: ${p}`);
  res.writeHead(200, { 'content-type': CONTENT_TYPES[path.extname(file)] ?? 'application/octet-stream', 'cache-control': 'no-cache' });
  res.end(fs.readFileSync(file));
}

function sendPage<T>(res: http.ServerResponse, page: { items: T[]; nextPageToken?: string }, key: string, json: (t: T) => string): void {
  // Stored events are already JSON: splice them in rather than parse and re-serialise.
  const body = `{"${key}":[${page.items.map(json).join(',')}]${page.nextPageToken ? `,"next_page_token":"${page.nextPageToken}"` : ''}}`;
  res.writeHead(200, { 'content-type': 'application/json; charset=utf-8' });
  res.end(body);
}

function sendJson(res: http.ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
  res.end(JSON.stringify(body));
}

function sendError(res: http.ServerResponse, err: unknown, logger: Logger): void {
  if (res.headersSent) { res.destroy(); return; }
  if (err instanceof RequestError) return sendJson(res, err.status, { error: err.message, status: err.status });
  if (err instanceof FilterError) return sendJson(res, 400, { error: err.message, status: 400 });
  logger.error({ err: (err as Error).message }, 'API request failed');
  sendJson(res, 500, { error: 'internal error', status: 500 });
}
