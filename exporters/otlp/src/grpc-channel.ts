import * as dns from 'node:dns';
import * as http2 from 'node:http2';
import * as net from 'node:net';
import type { Duplex } from 'node:stream';
import * as tls from 'node:tls';
import { GRPC_STATUS, GRPC_STATUS_NAME, inflateCapped } from '@tapio/receiver-otlp';
import type { Compressor } from './compression';
import type { ClientTlsOptions } from '@tapio/core';
import { hostPort, openTunnel, pendingSocket } from './tunnel';

/** A `host:port` target (host possibly `[v6]`, port possibly missing) as its bare host and its port (default by scheme). */
export function splitTarget(target: string, secure: boolean): { host: string; port: string } {
  const port = /:(\d+)$/.exec(target)?.[1];
  const host = (port ? target.slice(0, -port.length - 1) : target).replace(/^\[|\]$/g, '');
  return { host, port: port ?? (secure ? '443' : '80') };
}

/** A call that ended with a non-OK status: the code, the server's message and its google.rpc.Status details, if any. */
export class GrpcCallError extends Error {
  constructor(readonly code: number, readonly details: string, readonly statusDetails?: Buffer) {
    super(`${GRPC_STATUS_NAME[code] ?? code} ${details}`);
  }
}

export interface ChannelOptions {
  /** `host:port` to connect to */
  target: string;
  /** The :authority header; default `target`. */
  authority?: string;
  secure: boolean;
  /** TLS client options (CA, client certificate, verification) for the next connection, when `secure`. */
  tls?: () => ClientTlsOptions;
  /** Extra request headers (gRPC metadata), names in lower case. */
  headers: Record<string, string>;
  /** Headers asked for on every call (an authenticator's, which may rotate), names in lower case. */
  callHeaders?: () => Record<string, string>;
  /** How request messages are compressed (grpc-encoding); none when undefined. */
  compressor?: Compressor;
  connections: number;
  /**
   * balancer_name round_robin: connection i goes to address i (mod their number) of the
   * target host's DNS answer, looked up again at every (re)connect, so calls spread over the
   * backends behind the name. Otherwise every connection goes where the OS's first answer points.
   */
  roundRobin?: boolean;
  /** wait_for_ready: a call waits (until its deadline) for a connection instead of failing when none can be made. */
  waitForReady?: boolean;
  /** DNS lookup for round_robin (tests give their own). */
  lookupAll?: (host: string) => Promise<dns.LookupAddress[]>;
  /** An http:// proxy to reach the target through a CONNECT tunnel (HTTPS_PROXY, as gRPC-Go); the proxy resolves the name. */
  proxy?: URL;
  /** PING each connection every `timeMs` (only while calls are in flight unless `withoutCalls`); no answer within `timeoutMs` drops it. */
  keepalive?: { timeMs: number; timeoutMs: number; withoutCalls: boolean };
}

/** A server answer with no grpc-status: its HTTP status mapped as gRPC specifies (doc/http-grpc-status-mapping.md). */
function codeForHttpStatus(status: number): number {
  if (status === 400) return GRPC_STATUS.INTERNAL;
  if (status === 401) return GRPC_STATUS.UNAUTHENTICATED;
  if (status === 403) return GRPC_STATUS.PERMISSION_DENIED;
  if (status === 404) return GRPC_STATUS.UNIMPLEMENTED;
  if (status === 429 || status === 502 || status === 503 || status === 504) return GRPC_STATUS.UNAVAILABLE;
  return GRPC_STATUS.UNKNOWN;
}

/** A stream reset by the peer before it gave a status (as grpc-js maps RST_STREAM codes). */
function codeForRst(rst: number): number {
  const c = http2.constants;
  if (rst === c.NGHTTP2_REFUSED_STREAM) return GRPC_STATUS.UNAVAILABLE;
  if (rst === c.NGHTTP2_CANCEL) return GRPC_STATUS.CANCELLED;
  if (rst === c.NGHTTP2_ENHANCE_YOUR_CALM) return GRPC_STATUS.RESOURCE_EXHAUSTED;
  if (rst === c.NGHTTP2_INADEQUATE_SECURITY) return GRPC_STATUS.PERMISSION_DENIED;
  return GRPC_STATUS.INTERNAL;
}

/** grpc-timeout: at most 8 digits, so long deadlines go out in coarser units. */
function grpcTimeout(ms: number): string {
  const t = Math.max(1, Math.ceil(ms));
  return t < 1e8 ? `${t}m` : `${Math.min(99_999_999, Math.ceil(t / 1000))}S`;
}

const MAX_RESPONSE_BYTES = 4 * 1024 * 1024;
/** Response compressions this client reads (and advertises in grpc-accept-encoding). */
const RESPONSE_ENCODINGS = 'identity,gzip,deflate,zstd,snappy';
/** wait_for_ready: pause between connection attempts, doubling up to the cap. */
const RECONNECT_FIRST_MS = 100;
const RECONNECT_MAX_MS = 2000;
/** How long a proxy may take to answer CONNECT (gRPC-Go's default connect timeout). */
const PROXY_CONNECT_TIMEOUT_MS = 20_000;
/** After a call's deadline passed, how long the connection has to answer a PING before it is dropped as dead. */
const PING_TIMEOUT_MS = 2000;

/**
 * Unary gRPC calls over node:http2, on `connections` HTTP/2 connections used in turn. Not
 * grpc-js: its client framed every message into a fresh buffer (an MB-sized copy per export),
 * and its transport, measured on the server side, cost 670-730 µs of CPU per 213 KB call where
 * node:http2 took 450-490 µs (test/bench/otlp-grpc-server.js). Here
 * the 5-byte prefix and the caller's body go out as two writes, and `onBodySent` tells the
 * caller when HTTP/2 no longer reads its buffer.
 * A connection that fails, closes or receives GOAWAY is dropped and the next call reconnects;
 * the calls on it fail with UNAVAILABLE, which the sending helper retries with backoff. A call
 * that misses its deadline makes its connection prove it is alive with a PING: a peer that
 * vanished without closing TCP would otherwise time out every retry on the same connection.
 */
export class GrpcChannel {
  private readonly sessions: (http2.ClientHttp2Session | undefined)[];
  private next = 0;
  private closed = false;
  private readonly probing = new WeakSet<http2.ClientHttp2Session>();
  /** Calls in flight per connection, for keepalive without `withoutCalls`. */
  private readonly calls = new WeakMap<http2.ClientHttp2Session, number>();

  constructor(private readonly o: ChannelOptions) {
    this.sessions = new Array(Math.max(1, o.connections)).fill(undefined);
  }

  /** Changes the number of connections (round_robin: at least one per address); only before the first call. */
  resize(connections: number): void {
    if (this.next === 0) this.sessions.length = Math.max(1, connections);
  }

  private pick(): number {
    return this.next++ % this.sessions.length;
  }

  private session(i: number): http2.ClientHttp2Session {
    const existing = this.sessions[i];
    if (existing && !existing.closed && !existing.destroyed) return existing;
    const url = `${this.o.secure ? 'https' : 'http'}://${this.o.target}`;
    const s = http2.connect(url, {
      ...(this.o.secure ? { ...this.o.tls?.(), ALPNProtocols: ['h2'] } : {}),
      ...(this.o.proxy ? { createConnection: () => this.tunnel() } : this.o.roundRobin ? { lookup: this.lookupFor(i) } : {}),
      // queued outbound data counts against this credit limit (Node's default is 10 MB): a few
      // MB-sized exports in flight must not make the session refuse new streams
      maxSessionMemory: 256,
      settings: { initialWindowSize: 1 << 20 },
    });
    let keepalive: NodeJS.Timeout | undefined;
    const drop = (): void => {
      if (keepalive) clearInterval(keepalive);
      if (this.sessions[i] === s) this.sessions[i] = undefined;
    };
    const ka = this.o.keepalive;
    if (ka && ka.timeMs > 0) {
      keepalive = setInterval(() => { if (ka.withoutCalls || (this.calls.get(s) ?? 0) > 0) this.probe(s, ka.timeoutMs); }, ka.timeMs);
      keepalive.unref();
    }
    // errors reach the calls on the session as stream errors; this listener keeps one from being
    // thrown as an uncaught 'error' event and forgets the session so the next call reconnects
    s.on('error', drop);
    s.on('goaway', drop);
    s.on('close', drop);
    this.sessions[i] = s;
    return s;
  }

  /**
   * Sends one request message to `path` and resolves with the response message; rejects with a
   * GrpcCallError. `deadlineMs` 0 means none. `onBodySent` runs exactly once, when `body` is no
   * longer read (sent, compressed into another buffer, or the call failed first).
   */
  async unary(path: string, body: Buffer, deadlineMs: number, signal: AbortSignal | undefined, onBodySent: () => void): Promise<Buffer> {
    const startedAt = Date.now();
    let payload = body;
    const c = this.o.compressor;
    if (c) {
      try { payload = await c.compress(body); } finally { onBodySent(); }
    }
    const i = this.pick();
    try {
      if (this.closed) throw new GrpcCallError(GRPC_STATUS.UNAVAILABLE, 'channel closed');
      if (this.o.waitForReady) await this.connected(i, deadlineMs ? startedAt + deadlineMs : Infinity, signal);
    } catch (err) {
      if (!c) onBodySent();
      throw err;
    }
    const left = deadlineMs ? Math.max(1, startedAt + deadlineMs - Date.now()) : 0;
    return this.call(i, path, payload, left, signal, c ? undefined : onBodySent);
  }

  /**
   * wait_for_ready: resolves once connection `i` is up, connecting again (with backoff) while
   * attempts fail; rejects with DEADLINE_EXCEEDED at the deadline, CANCELLED on abort. gRPC
   * without wait_for_ready fails such a call at once with UNAVAILABLE, as `call` does.
   */
  private async connected(i: number, deadlineAt: number, signal: AbortSignal | undefined): Promise<void> {
    let pause = RECONNECT_FIRST_MS;
    let lastError = '';
    for (;;) {
      if (signal?.aborted) throw new GrpcCallError(GRPC_STATUS.CANCELLED, 'cancelled');
      if (Date.now() >= deadlineAt) throw new GrpcCallError(GRPC_STATUS.DEADLINE_EXCEEDED, `no connection before the deadline (wait_for_ready)${lastError ? `: ${lastError}` : ''}`);
      if (this.closed) throw new GrpcCallError(GRPC_STATUS.UNAVAILABLE, 'channel closed');
      const s = this.session(i);
      if (!s.connecting) return;
      const wait = Math.max(1, Math.min(deadlineAt - Date.now(), 2 ** 31 - 1));
      const up = await new Promise<boolean>((resolve) => {
        const done = (ok: boolean): void => { clearTimeout(timer); s.off('connect', onUp); s.off('error', onErr); s.off('close', onDown); resolve(ok); };
        const onUp = (): void => done(true);
        const onErr = (err: Error): void => { lastError = err.message; done(false); };
        const onDown = (): void => done(false);
        const timer = setTimeout(() => done(false), wait);
        s.once('connect', onUp); s.once('error', onErr); s.once('close', onDown);
      });
      if (up) return;
      await new Promise((r) => setTimeout(r, Math.max(0, Math.min(pause, deadlineAt - Date.now()))));
      pause = Math.min(RECONNECT_MAX_MS, pause * 2);
    }
  }

  /** A connection through the proxy's CONNECT tunnel; TLS, when secure, runs end to end inside it. */
  private tunnel(): Duplex {
    const { host, port } = splitTarget(this.o.target, this.o.secure);
    const socket = pendingSocket(openTunnel(this.o.proxy!, hostPort(host, port), PROXY_CONNECT_TIMEOUT_MS));
    if (!this.o.secure) return socket;
    const options = this.o.tls?.() ?? {};
    // http2.connect sets the SNI name from the URL itself only when it opens the socket
    return tls.connect({ ...options, socket, ALPNProtocols: ['h2'], servername: options.servername ?? (net.isIP(host) ? undefined : host) });
  }

  /** round_robin: connection `i` connects to address i of a fresh lookup of the target host. */
  private lookupFor(i: number): net.LookupFunction {
    const all = this.o.lookupAll ?? ((host: string) => dns.promises.lookup(host, { all: true }));
    return ((host: string, opts: unknown, cb: (err: Error | null, address: string | dns.LookupAddress[], family?: number) => void) => {
      all(host).then((addrs) => {
        if (!addrs.length) { cb(new Error(`no address for ${host}`), '', 4); return; }
        const a = addrs[i % addrs.length]!;
        // Node 20 asks with {all: true} when it may try several families (autoSelectFamily)
        if ((opts as { all?: boolean })?.all) cb(null, [a]);
        else cb(null, a.address, a.family);
      }, (err: Error) => cb(err, '', 4));
    }) as net.LookupFunction;
  }

  private call(i: number, path: string, payload: Buffer, deadlineMs: number, signal: AbortSignal | undefined, onBodySent: (() => void) | undefined): Promise<Buffer> {
    return new Promise<Buffer>((resolve, reject) => {
      let sent = false;
      const bodySent = (): void => { if (!sent) { sent = true; onBodySent?.(); } };
      const headers: http2.OutgoingHttpHeaders = {
        ...this.o.headers,
        ...this.o.callHeaders?.(),
        ':method': 'POST', ':path': path, 'content-type': 'application/grpc', te: 'trailers',
        'user-agent': 'tapio-otlp-exporter/0.1 (node:http2)', 'grpc-accept-encoding': RESPONSE_ENCODINGS,
      };
      if (this.o.authority) headers[':authority'] = this.o.authority;
      if (this.o.compressor) headers['grpc-encoding'] = this.o.compressor.encoding;
      if (deadlineMs) headers['grpc-timeout'] = grpcTimeout(deadlineMs);
      let stream: http2.ClientHttp2Stream;
      let session: http2.ClientHttp2Session;
      try {
        session = this.session(i);
        stream = session.request(headers);
        this.calls.set(session, (this.calls.get(session) ?? 0) + 1);
      } catch (err) {
        // invalid metadata is caught by the config schema; what is left here will not fix itself
        bodySent();
        reject(new GrpcCallError(GRPC_STATUS.INTERNAL, `cannot start the call: ${(err as Error).message}`));
        return;
      }
      let httpStatus = 0;
      let grpcStatus: number | undefined;
      let grpcMessage = '';
      let details: Buffer | undefined;
      let responseEncoding = 'identity';
      let ended: { code: number; message: string } | undefined; // set when we end the call ourselves
      let streamError: Error | undefined;
      const chunks: Buffer[] = [];
      let received = 0;
      const readStatus = (h: http2.IncomingHttpHeaders): void => {
        if (h['grpc-status'] === undefined) return;
        grpcStatus = Number(h['grpc-status']);
        grpcMessage = decodeGrpcMessage(String(h['grpc-message'] ?? ''));
        const bin = h['grpc-status-details-bin'];
        if (typeof bin === 'string' && bin) details = Buffer.from(bin, 'base64');
      };
      const endCall = (code: number, message: string, rst: number): void => {
        if (ended || stream.closed) return;
        ended = { code, message };
        stream.close(rst);
      };
      const timer = deadlineMs ? setTimeout(() => {
        endCall(GRPC_STATUS.DEADLINE_EXCEEDED, `deadline of ${deadlineMs} ms exceeded`, http2.constants.NGHTTP2_CANCEL);
        this.probe(session);
      }, deadlineMs) : undefined;
      const onAbort = (): void => endCall(GRPC_STATUS.CANCELLED, 'cancelled', http2.constants.NGHTTP2_CANCEL);
      signal?.addEventListener('abort', onAbort, { once: true });
      stream.on('response', (h) => {
        httpStatus = Number(h[':status']);
        responseEncoding = String(h['grpc-encoding'] ?? 'identity');
        readStatus(h); // trailers-only answer
      });
      stream.on('data', (c: Buffer) => {
        received += c.length;
        if (received <= MAX_RESPONSE_BYTES) chunks.push(c);
        else endCall(GRPC_STATUS.RESOURCE_EXHAUSTED, `response larger than ${MAX_RESPONSE_BYTES} bytes`, http2.constants.NGHTTP2_CANCEL);
      });
      stream.on('trailers', readStatus);
      stream.on('error', (err) => {
        streamError = err;
        // stream ids are used up after 2^30 calls: this connection can take no more
        if ((err as { code?: string }).code === 'ERR_HTTP2_OUT_OF_STREAMS') session.close();
      });
      stream.on('close', () => {
        this.calls.set(session, (this.calls.get(session) ?? 1) - 1);
        if (timer) clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        // a stream that never got an id never handed the body to HTTP/2; otherwise the write's
        // own callback says when the bytes are gone (release on 'close' alone could hand a
        // buffer back while the socket still writes from it)
        if (stream.pending) bodySent();
        if (ended) { reject(new GrpcCallError(ended.code, ended.message)); return; }
        if (grpcStatus === undefined) {
          if (httpStatus && httpStatus !== 200) reject(new GrpcCallError(codeForHttpStatus(httpStatus), `HTTP ${httpStatus} without grpc-status`));
          else if (streamError) reject(new GrpcCallError(GRPC_STATUS.UNAVAILABLE, streamError.message));
          else if (stream.rstCode) reject(new GrpcCallError(codeForRst(stream.rstCode), `stream reset by the server (HTTP/2 code ${stream.rstCode})`));
          else reject(new GrpcCallError(GRPC_STATUS.UNKNOWN, 'the server closed the call without a grpc-status'));
          return;
        }
        if (grpcStatus !== GRPC_STATUS.OK) { reject(new GrpcCallError(grpcStatus, grpcMessage, details)); return; }
        readResponse(Buffer.concat(chunks), responseEncoding).then(resolve, reject);
      });
      const prefix = Buffer.allocUnsafe(5);
      prefix[0] = this.o.compressor ? 1 : 0;
      prefix.writeUInt32BE(payload.length, 1);
      stream.write(prefix);
      // runs once the socket has written these bytes, or with an error when they never will be
      stream.write(payload, bodySent);
      stream.end();
    });
  }

  /** Drops `session` unless it answers a PING in time (it is still connecting: it gets no longer). */
  private probe(session: http2.ClientHttp2Session, timeoutMs = PING_TIMEOUT_MS): void {
    if (session.destroyed || this.probing.has(session)) return;
    this.probing.add(session);
    const dead = (why: string): void => { this.probing.delete(session); session.destroy(new Error(why)); };
    const timer = setTimeout(() => dead(`no answer to a PING within ${timeoutMs} ms`), timeoutMs);
    timer.unref();
    const answered = (err: Error | null): void => {
      clearTimeout(timer);
      if (err) dead(`PING failed: ${err.message}`);
      else this.probing.delete(session);
    };
    if (session.connecting) { session.once('connect', () => { if (!session.ping(answered)) answered(new Error('too many PINGs outstanding')); }); return; }
    if (!session.ping(answered)) answered(new Error('too many PINGs outstanding'));
  }

  /** Closes every connection; calls in flight finish first. */
  close(): void {
    this.closed = true;
    for (let i = 0; i < this.sessions.length; i++) {
      this.sessions[i]?.close();
      this.sessions[i] = undefined;
    }
  }
}

/** The response message out of its length-prefixed frame (empty when the server sent none). */
async function readResponse(framed: Buffer, encoding: string): Promise<Buffer> {
  if (framed.length === 0) return framed;
  if (framed.length < 5 || framed.length < 5 + framed.readUInt32BE(1)) throw new GrpcCallError(GRPC_STATUS.INTERNAL, 'truncated response message');
  const message = framed.subarray(5, 5 + framed.readUInt32BE(1));
  if (framed[0] !== 1) return message;
  if (!RESPONSE_ENCODINGS.split(',').includes(encoding) || encoding === 'identity') throw new GrpcCallError(GRPC_STATUS.INTERNAL, `compressed response with unsupported grpc-encoding "${encoding}"`);
  try {
    // gRPC's snappy is the framing format (go-grpc-compression)
    return await inflateCapped(message, encoding === 'snappy' ? 'x-snappy-framed' : encoding, MAX_RESPONSE_BYTES);
  } catch (err) {
    throw new GrpcCallError(GRPC_STATUS.INTERNAL, `unreadable compressed response: ${(err as Error).message}`);
  }
}

/** grpc-message is percent-encoded UTF-8. */
function decodeGrpcMessage(m: string): string {
  try { return decodeURIComponent(m); } catch { return m; }
}
