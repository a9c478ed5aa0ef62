import * as http2 from 'node:http2';

/** The gRPC server keepalive settings (configgrpc's `keepalive`), in milliseconds; absent ones are off. */
export interface ServerKeepalive {
  /** GOAWAY a connection that had no call for this long. */
  maxConnectionIdleMs?: number;
  /** GOAWAY a connection this old (±10 % jitter, so connections do not all come back at once)... */
  maxConnectionAgeMs?: number;
  /** ...and cut it this long after the GOAWAY if calls are still running. */
  maxConnectionAgeGraceMs?: number;
  /** PING the client this often; no answer within `timeoutMs` closes the connection. */
  timeMs?: number;
  timeoutMs: number;
  /** Clients that PING more often than `minTimeMs` (or without a call in flight, unless permitted) are sent away. */
  enforcement?: { minTimeMs: number; permitWithoutStream: boolean };
}

/** Bad PINGs a client may send before it is told "too_many_pings" (grpc-go allows two as well). */
const MAX_PING_STRIKES = 2;

/** Applies `ka` to one server session; its timers end with the session. */
export function applyServerKeepalive(session: http2.ServerHttp2Session, ka: ServerKeepalive): void {
  const timers: NodeJS.Timeout[] = [];
  let active = 0;
  let idle: NodeJS.Timeout | undefined;
  const armIdle = (): void => {
    if (ka.maxConnectionIdleMs) idle = setTimeout(() => session.close(), ka.maxConnectionIdleMs);
  };
  armIdle();
  let strikes = 0;
  let lastPing = 0;
  session.on('stream', (stream: http2.ServerHttp2Stream) => {
    active++;
    strikes = 0; // a client that makes calls may keep its connection alive
    if (idle) { clearTimeout(idle); idle = undefined; }
    stream.once('close', () => { if (--active === 0) armIdle(); });
  });
  if (ka.maxConnectionAgeMs) {
    const age = ka.maxConnectionAgeMs * (0.9 + Math.random() * 0.2);
    timers.push(setTimeout(() => {
      session.close(); // GOAWAY: no new calls; calls in flight finish
      if (ka.maxConnectionAgeGraceMs !== undefined) timers.push(setTimeout(() => session.destroy(), ka.maxConnectionAgeGraceMs));
    }, age));
  }
  if (ka.timeMs) {
    const timeoutMs = ka.timeoutMs;
    timers.push(setInterval(() => {
      if (session.closed || session.destroyed) return;
      const noAnswer = setTimeout(() => session.destroy(new Error(`client did not answer a keepalive PING within ${timeoutMs} ms`)), timeoutMs);
      const sent = session.ping((err) => { clearTimeout(noAnswer); if (err) session.destroy(); });
      if (!sent) clearTimeout(noAnswer);
    }, ka.timeMs));
  }
  if (ka.enforcement) {
    const { minTimeMs, permitWithoutStream } = ka.enforcement;
    session.on('ping', () => {
      const now = Date.now();
      const tooSoon = now - lastPing < minTimeMs;
      lastPing = now;
      if (!tooSoon && (active > 0 || permitWithoutStream)) return;
      if (++strikes <= MAX_PING_STRIKES) return;
      session.goaway(http2.constants.NGHTTP2_ENHANCE_YOUR_CALM, 0, Buffer.from('too_many_pings'));
      session.close();
    });
  }
  session.once('close', () => {
    if (idle) clearTimeout(idle);
    for (const t of timers) clearTimeout(t);
  });
}
