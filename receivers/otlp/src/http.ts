import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { authenticateRequest, createHttpServer, enforceWriteTimeout, originPattern, parseByteSize, parseDuration, listenHost, splitHostPort, type Logger, type ServerAuthenticator } from '@tapio/core';
import { jsonToProto, protoToJson } from './codec/json';
import { parseJsonExact } from './codec/json-exact';
import { MalformedError } from './codec/reader';
import { encodePartialSuccess, encodeRpcStatus, SIGNAL_INFO, type OtlpSignal } from './codec/rpc';
import type { HttpServerConfig } from './config';
import { DecodeWorkerError } from './decode-pool';
import { clientMetadata, type ClientMetadata, type ExportHandler, type Outcome } from './handler';
import { INFLATABLE, inflateCapped, InflateError } from './inflate';

const PROTOBUF = 'application/x-protobuf';
const JSON_TYPE = 'application/json';

// gRPC codes used in google.rpc.Status bodies
const CODE_INVALID_ARGUMENT = 3;
const CODE_INTERNAL = 13;
const CODE_UNAVAILABLE = 14;
const CODE_UNAUTHENTICATED = 16;

/** Content-Encodings Tapio can decode (see inflateCapped); also the default of compression_algorithms (confighttp's, less lz4). */
const DECODABLE: ReadonlySet<string> = new Set(['identity', ...INFLATABLE]);

/** The retry hint when the decompression worker died with a request's bytes. */
const WORKER_RETRY_AFTER_MS = 1000;

class HttpError extends Error {
  constructor(readonly statusCode: number, message: string) { super(message); }
}

/** OTLP/HTTP: POST protobuf or JSON, optionally compressed (gzip, zlib, deflate, zstd, snappy), to /v1/{traces,metrics,logs}. */
export class OtlpHttpServer {
  private server: http.Server | undefined;
  private readonly routes = new Map<string, OtlpSignal>();
  private readonly maxBody: number;
  private readonly origins: RegExp[];
  /** compression_algorithms ("" → identity) that Tapio can decode. */
  private readonly encodings: Set<string>;
  private readonly writeTimeoutMs: number;
  private stopTlsReload: (() => void) | undefined;
  port = 0;
  /** Set by the receiver from `auth` before start(); every request but CORS preflights must pass it. */
  authenticator: ServerAuthenticator | undefined;

  constructor(readonly cfg: HttpServerConfig, private readonly handler: ExportHandler, private readonly logger: Logger) {
    this.routes.set(urlPath(cfg.traces_url_path), 'traces');
    this.routes.set(urlPath(cfg.metrics_url_path), 'metrics');
    this.routes.set(urlPath(cfg.logs_url_path), 'logs');
    this.maxBody = typeof cfg.max_request_body_size === 'number' ? cfg.max_request_body_size : parseByteSize(cfg.max_request_body_size);
    this.origins = (cfg.cors?.allowed_origins ?? []).map(originPattern);
    const listed = (cfg.compression_algorithms ?? [...DECODABLE]).map((a) => a || 'identity');
    this.encodings = new Set(listed.filter((a) => DECODABLE.has(a)));
    const undecodable = listed.filter((a) => !DECODABLE.has(a));
    if (undecodable.length) logger.warn({ encodings: undecodable }, 'protocols.http.compression_algorithms lists encodings Tapio cannot decode; such requests get 415');
    this.writeTimeoutMs = cfg.write_timeout ? parseDuration(cfg.write_timeout) : 0;
  }

  async start(): Promise<void> {
    const { server, stop } = createHttpServer(this.cfg, (req, res) => this.onRequest(req, res), this.logger);
    this.stopTlsReload = stop;
    // longer than the 60 s idle timeout common in load balancers, so they close first
    if (this.cfg.idle_timeout === undefined) server.keepAliveTimeout = 65_000;
    const { host, port } = splitHostPort(this.cfg.endpoint);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, listenHost(host), () => { server.off('error', reject); resolve(); });
    });
    server.on('clientError', (_err, socket) => { if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n'); else socket.destroy(); });
    this.port = (server.address() as AddressInfo).port;
    this.server = server;
    this.logger.info({ endpoint: `${host || '[::]'}:${this.port}` }, 'OTLP/HTTP receiver listening');
  }

  private onRequest(req: http.IncomingMessage, res: http.ServerResponse): void {
    const extra = this.cfg.response_headers;
    if (extra) for (const name of Object.keys(extra)) res.setHeader(name, extra[name]!);
    enforceWriteTimeout(req, res, this.writeTimeoutMs);
    const origin = req.headers.origin;
    if (origin !== undefined && this.origins.some((re) => re.test(origin))) {
      res.setHeader('Access-Control-Allow-Origin', origin);
      res.setHeader('Vary', 'Origin');
      if (req.method === 'OPTIONS') {
        res.setHeader('Access-Control-Allow-Methods', 'POST');
        const requested = req.headers['access-control-request-headers'];
        const allowed = ['content-type', 'content-encoding', ...(this.cfg.cors?.allowed_headers ?? []).map((h) => h.toLowerCase())];
        if (requested) res.setHeader('Access-Control-Allow-Headers', allowed.includes('*') ? requested : allowed.join(', '));
        if (this.cfg.cors?.max_age !== undefined) res.setHeader('Access-Control-Max-Age', String(this.cfg.cors.max_age));
        res.writeHead(204).end();
        return;
      }
    } else if (req.method === 'OPTIONS') {
      res.writeHead(origin === undefined ? 405 : 403).end();
      return;
    }
    // the body waits unread (no 'data' listener yet) until the check is done
    if (this.authenticator) authenticateRequest(this.authenticator, req.headers, () => this.serve(req, res), (reason) => this.unauthorized(req, res, reason));
    else this.serve(req, res);
  }

  private unauthorized(req: http.IncomingMessage, res: http.ServerResponse, message: string): void {
    const ctype = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase() === PROTOBUF ? PROTOBUF : JSON_TYPE;
    this.fail(req, res, 401, ctype, message);
  }

  /** A request past CORS and authentication: routing, checks, admission, body, export, answer. */
  private serve(req: http.IncomingMessage, res: http.ServerResponse): void {
    const q = req.url!.indexOf('?');
    const signal = this.routes.get(q < 0 ? req.url! : req.url!.slice(0, q));
    if (!signal) { this.fail(req, res, 404, JSON_TYPE, `no OTLP endpoint at ${req.url}`); return; }
    if (req.method !== 'POST') { res.setHeader('Allow', 'POST'); this.fail(req, res, 405, JSON_TYPE, 'only POST is allowed'); return; }
    const ctype = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
    if (ctype !== PROTOBUF && ctype !== JSON_TYPE) { this.fail(req, res, 415, JSON_TYPE, `unsupported content type "${ctype}"; use ${PROTOBUF} or ${JSON_TYPE}`); return; }
    const encoding = (req.headers['content-encoding'] || 'identity').toLowerCase();
    if (!this.encodings.has(encoding)) { this.fail(req, res, 415, ctype, `unsupported content encoding "${encoding}" (accepted: ${[...this.encodings].join(', ')})`); return; }
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > this.maxBody) { this.fail(req, res, 413, ctype, `request body of ${declared} bytes exceeds the limit of ${this.maxBody}`); return; }
    // Admission on Content-Length, before the body is read: under overload a refused request
    // costs its headers, not its body held in memory (the answer closes the connection, as for
    // any refused unread body). A chunked request without a length is admitted once read.
    let reserved = 0;
    if (declared > 0) {
      if (!this.handler.reserve(declared)) { this.respond(req, res, signal, ctype, this.handler.busy()); return; }
      reserved = declared;
    }
    let handedOff = false;
    const giveBack = (): void => { if (!handedOff) { handedOff = true; if (reserved) this.handler.unreserve(reserved); } };

    const chunks: Buffer[] = [];
    let size = 0;
    let tooBig = false;
    req.on('data', (c: Buffer) => {
      if (tooBig) return;
      size += c.length;
      if (size > this.maxBody) { tooBig = true; chunks.length = 0; giveBack(); this.fail(req, res, 413, ctype, `request body exceeds the limit of ${this.maxBody} bytes`); return; }
      chunks.push(c);
    });
    req.on('error', () => { /* client went away; nothing to answer */ });
    // a client that goes away mid-body never reaches 'end': its reservation is given back here
    req.on('close', giveBack);
    req.on('end', () => {
      if (tooBig || handedOff) return;
      handedOff = true; // process() owns the reservation from here
      // a single chunk is a view into the socket's read buffer; a concatenation is ours alone
      const owned = chunks.length > 1;
      const raw = owned ? Buffer.concat(chunks, size) : chunks[0] ?? Buffer.alloc(0);
      const metadata = this.cfg.include_metadata ? clientMetadata(req.headers) : undefined;
      this.process(signal, ctype, encoding, raw, owned, reserved, metadata).then((o) => this.respond(req, res, signal, ctype, o), (err: unknown) => {
        const e = err instanceof HttpError ? err : new HttpError(500, (err as Error).message);
        if (e.statusCode === 500) this.logger.error({ err: e.message }, 'OTLP/HTTP export failed unexpectedly');
        this.fail(req, res, e.statusCode, ctype, e.message);
      });
    });
  }

  /** `reserved`: admission bytes reserved from Content-Length, handed to the handler or given back here. */
  private async process(signal: OtlpSignal, ctype: string, encoding: string, raw: Buffer, rawOwned: boolean, reserved: number, metadata: ClientMetadata | undefined): Promise<Outcome> {
    let body = raw;
    let owned = rawOwned;
    try {
      if (encoding !== 'identity') { body = await inflate(raw, encoding, this.maxBody, rawOwned); owned = true; }
      if (ctype === JSON_TYPE) {
        let parsed: unknown;
        try {
          parsed = parseJsonExact(body.toString('utf8'));
          body = jsonToProto(SIGNAL_INFO[signal].request, parsed);
          owned = true;
        } catch (err) {
          throw new HttpError(400, err instanceof MalformedError ? err.message : `invalid JSON: ${(err as Error).message}`);
        }
      }
    } catch (err) {
      if (reserved) this.handler.unreserve(reserved);
      if (err instanceof DecodeWorkerError) return { status: 'unavailable', message: err.message, retryAfterMs: WORKER_RETRY_AFTER_MS };
      throw err;
    }
    return this.handler.export(signal, body, owned, reserved, metadata);
  }

  private respond(req: http.IncomingMessage, res: http.ServerResponse, signal: OtlpSignal, ctype: string, o: Outcome): void {
    switch (o.status) {
      case 'ok': {
        const pb = encodePartialSuccess(o.rejected, o.message);
        const body = ctype === JSON_TYPE ? JSON.stringify(pb.length ? protoToJson(SIGNAL_INFO[signal].response, pb) : {}) : pb;
        res.writeHead(200, { 'Content-Type': ctype, 'Content-Length': Buffer.byteLength(body) }).end(body);
        return;
      }
      case 'invalid': this.fail(req, res, 400, ctype, o.message); return;
      // the request was fine and the pipeline refused it for good: a server-side failure, as the
      // Collector takes a permanent error without a gRPC status (500 is not retried either)
      case 'permanent': this.fail(req, res, 500, ctype, o.message); return;
      case 'unavailable':
        res.setHeader('Retry-After', String(Math.max(1, Math.ceil(o.retryAfterMs / 1000))));
        this.fail(req, res, 503, ctype, o.message, o.retryAfterMs);
    }
  }

  /** An error answer: a google.rpc.Status in the request's encoding, as the OTLP spec asks. */
  private fail(req: http.IncomingMessage, res: http.ServerResponse, statusCode: number, ctype: string, message: string, retryAfterMs?: number): void {
    if (res.headersSent) return;
    const code = rpcCode(statusCode);
    const body = ctype === PROTOBUF ? encodeRpcStatus(code, message, retryAfterMs) : JSON.stringify({ code, message });
    // Stop reading a body we refused: close the connection rather than drain a huge upload.
    const unread = !req.complete;
    if (unread) res.setHeader('Connection', 'close');
    res.writeHead(statusCode, { 'Content-Type': ctype === PROTOBUF ? PROTOBUF : JSON_TYPE, 'Content-Length': Buffer.byteLength(body) }).end(body);
    if (unread) res.on('finish', () => req.destroy());
  }

  async shutdown(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    this.stopTlsReload?.();
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeIdleConnections();
      // connections still busy get a grace period, then are cut
      setTimeout(() => server.closeAllConnections(), 5000).unref();
    });
  }
}

/** The google.rpc.Status code in an error answer with this HTTP status. */
function rpcCode(statusCode: number): number {
  switch (statusCode) {
    case 503: return CODE_UNAVAILABLE;
    case 401: return CODE_UNAUTHENTICATED;
    case 500: return CODE_INTERNAL;
    default: return CODE_INVALID_ARGUMENT;
  }
}

/**
 * A configured *_url_path with its leading "/": requests always have one, so "v1/traces" would
 * match nothing. The Collector's otlpreceiver sanitizes the paths the same way.
 */
function urlPath(path: string): string {
  return path.startsWith('/') ? path : `/${path}`;
}

/** Decompression with a hard cap on the output, so a compression bomb costs at most `limit` bytes. */
async function inflate(raw: Buffer, encoding: string, limit: number, owned: boolean): Promise<Buffer> {
  try {
    return await inflateCapped(raw, encoding, limit, owned);
  } catch (err) {
    if (err instanceof InflateError) throw new HttpError(err.tooLarge ? 413 : 400, err.message);
    throw err;
  }
}
