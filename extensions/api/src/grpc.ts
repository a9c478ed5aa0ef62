import * as grpc from '@grpc/grpc-js';
import { encodeBatch, type Logger } from '@tapio/core';
import { checkBearer } from './auth';
import { FilterError, parseFilter } from './filter';
import { apiServiceDefinition } from './proto';
import { RequestError, type ApiService } from './service';
import type { StoredEvent } from './store';

const STATUS_BY_HTTP: Record<number, grpc.status> = {
  400: grpc.status.INVALID_ARGUMENT, 401: grpc.status.UNAUTHENTICATED, 404: grpc.status.NOT_FOUND,
  429: grpc.status.RESOURCE_EXHAUSTED, 503: grpc.status.RESOURCE_EXHAUSTED,
};

function toServiceError(err: unknown, logger: Logger): Partial<grpc.StatusObject> {
  if (err instanceof RequestError) return { code: STATUS_BY_HTTP[err.status] ?? grpc.status.UNKNOWN, details: err.message };
  if (err instanceof FilterError) return { code: grpc.status.INVALID_ARGUMENT, details: err.message };
  logger.error({ err: (err as Error).message }, 'gRPC API call failed');
  return { code: grpc.status.INTERNAL, details: 'internal error' };
}

/** The encoding of a one-event Batch, cached on the stored event (see proto.ts). */
function encoded(s: StoredEvent): Buffer {
  return (s.pb ??= Buffer.from(encodeBatch({ events: [s.event] })));
}

export function createGrpcServer(api: ApiService, o: { token?: string; logger: Logger }): grpc.Server {
  const server = new grpc.Server({ 'grpc.max_concurrent_streams': 10_000 });
  const authorized = (call: { metadata: grpc.Metadata }) => checkBearer(o.token, call.metadata.get('authorization')[0] as string | undefined);
  const unauthenticated = { code: grpc.status.UNAUTHENTICATED, details: 'missing or wrong bearer token' };

  function unary<Req, Res>(fn: (req: Req) => Res): grpc.handleUnaryCall<Req, Res> {
    return (call, callback) => {
      if (!authorized(call)) return callback(unauthenticated);
      try { callback(null, fn(call.request)); } catch (err) { callback(toServiceError(err, o.logger)); }
    };
  }

  function stream<Req>(call: grpc.ServerWritableStream<Req, unknown>, subscribe: () => { resume(): void; close(): void }): void {
    if (!authorized(call)) { call.emit('error', unauthenticated); return; }
    let sub: { resume(): void; close(): void };
    try { sub = subscribe(); } catch (err) { call.emit('error', toServiceError(err, o.logger)); return; }
    call.on('drain', () => sub.resume());
    call.on('cancelled', () => sub.close());
    call.on('close', () => sub.close());
    call.on('error', () => sub.close());
  }

  server.addService(apiServiceDefinition(), {
    StreamEvents: (call: grpc.ServerWritableStream<{ filter?: string }, unknown>) => stream(call, () => {
      const filter = parseFilter(call.request.filter);
      const s = api.subscribeEvents(filter, {
        write(items: StoredEvent[]): boolean {
          const bufs = new Array<Buffer>(items.length);
          for (let i = 0; i < items.length; i++) bufs[i] = encoded(items[i]!);
          return call.write(Buffer.concat(bufs));
        },
      });
      return { resume: () => s.resume(), close: () => api.events.unsubscribe(s) };
    }),
    StreamIncidents: (call: grpc.ServerWritableStream<{ status?: string; service?: string }, unknown>) => stream(call, () => {
      const s = api.subscribeIncidents({ status: call.request.status || undefined, service: call.request.service || undefined }, {
        write(items) {
          let ok = true;
          for (const it of items) ok = call.write(it.incident);
          return ok;
        },
      });
      return { resume: () => s.resume(), close: () => api.incidents.unsubscribe(s) };
    }),
    GetIncident: unary((req: { id?: string }) => api.getIncident(req.id ?? '')),
    ListIncidents: unary((req: { status?: string; service?: string; pageSize?: number; pageToken?: string }) => {
      const page = api.listIncidents({ status: req.status, service: req.service, limit: req.pageSize, pageToken: req.pageToken });
      return { incidents: page.items.map((i) => i.incident), nextPageToken: page.nextPageToken ?? '' };
    }),
    Correlate: unary((req: { traceId?: string }) => {
      const s = api.correlate(req.traceId);
      return { ...s, affectedUsers: s.affectedUsers ?? undefined, timeToDetectMs: s.timeToDetectMs ?? undefined };
    }),
    Health: unary(() => {
      const h = api.health();
      return {
        status: h.status, uptimeSeconds: h.uptimeSeconds, ingestedEvents: h.ingestedEvents, storedEvents: h.store.events, storedBytes: h.store.bytes,
        storedIncidents: h.store.incidents, eventClients: h.streams.eventClients, incidentClients: h.streams.incidentClients, droppedForSlowClients: h.streams.droppedForSlowClients,
      };
    }),
  });
  return server;
}

export function bindGrpc(server: grpc.Server, endpoint: string, tls?: { cert: Buffer; key: Buffer }): Promise<number> {
  const creds = tls ? grpc.ServerCredentials.createSsl(null, [{ cert_chain: tls.cert, private_key: tls.key }]) : grpc.ServerCredentials.createInsecure();
  return new Promise((resolve, reject) => {
    server.bindAsync(endpoint, creds, (err, port) => (err ? reject(err) : resolve(port)));
  });
}
