import * as path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protobuf from 'protobufjs';
import { decodeBatch, TAPIO_PROTO_PATH, type Batch } from '@tapio/core';

/** The API's .proto (imports core's tapio.proto). */
export const API_PROTO_PATH = path.join(__dirname, '..', '..', 'proto', 'tapio_api.proto');

let root: protobuf.Root | undefined;
function apiRoot(): protobuf.Root {
  if (root) return root;
  const r = new protobuf.Root();
  r.resolvePath = (origin, target) => (target === 'tapio.proto' ? TAPIO_PROTO_PATH : path.resolve(origin ? path.dirname(origin) : '.', target));
  r.loadSync(API_PROTO_PATH);
  root = r;
  return r;
}

const TO_OBJECT: protobuf.IConversionOptions = { longs: Number, defaults: false, arrays: true, objects: true, oneofs: false };

function codec(name: string) {
  const type = apiRoot().lookupType(name);
  return {
    serialize: (obj: unknown) => Buffer.from(type.encode(type.fromObject(obj as Record<string, unknown>)).finish()),
    deserialize: (buf: Buffer) => type.toObject(type.decode(buf), TO_OBJECT),
  };
}

/**
 * A Batch message is `repeated UnifiedEvent events = 1`, so the encodings of one-event batches
 * concatenate into the encoding of their union. The server caches each event's encoding once
 * and every StreamEvents client gets a concat of cached buffers — no per-client re-encoding.
 */
const batchCodec = {
  serialize: (buf: Buffer) => buf,
  deserialize: (buf: Buffer): Batch => decodeBatch(buf),
};

function method(name: string, req: string, res: string, responseStream = false): grpc.MethodDefinition<unknown, unknown> {
  const rq = codec(req);
  const rs = res === 'tapio.v1.Batch' ? batchCodec : codec(res);
  return {
    path: `/tapio.api.v1.TapioApi/${name}`,
    requestStream: false,
    responseStream,
    requestSerialize: rq.serialize,
    requestDeserialize: rq.deserialize,
    responseSerialize: rs.serialize as (v: unknown) => Buffer,
    responseDeserialize: rs.deserialize,
  };
}

let definition: grpc.ServiceDefinition | undefined;
/** The service definition (both server and client side). */
export function apiServiceDefinition(): grpc.ServiceDefinition {
  definition ??= {
    StreamEvents: method('StreamEvents', 'tapio.api.v1.EventFilter', 'tapio.v1.Batch', true),
    StreamIncidents: method('StreamIncidents', 'tapio.api.v1.IncidentFilter', 'tapio.api.v1.Incident', true),
    GetIncident: method('GetIncident', 'tapio.api.v1.GetIncidentRequest', 'tapio.api.v1.Incident'),
    ListIncidents: method('ListIncidents', 'tapio.api.v1.ListIncidentsRequest', 'tapio.api.v1.ListIncidentsResponse'),
    Correlate: method('Correlate', 'tapio.api.v1.CorrelateRequest', 'tapio.api.v1.CorrelationSummary'),
    Health: method('Health', 'tapio.api.v1.HealthRequest', 'tapio.api.v1.HealthResponse'),
  };
  return definition;
}

/** A gRPC client for the API (tests, bench, CLI). */
export function createGrpcClient(endpoint: string, opts: { token?: string; credentials?: grpc.ChannelCredentials } = {}): grpc.Client & Record<string, any> {
  const Ctor = grpc.makeGenericClientConstructor(apiServiceDefinition(), 'TapioApi');
  let creds = opts.credentials ?? grpc.credentials.createInsecure();
  if (opts.token) {
    const token = opts.token;
    const callCreds = grpc.credentials.createFromMetadataGenerator((_p, cb) => { const md = new grpc.Metadata(); md.set('authorization', `Bearer ${token}`); cb(null, md); });
    // Insecure channels refuse call credentials, so plain-text clients send the header per call instead.
    if (opts.credentials) creds = grpc.credentials.combineChannelCredentials(opts.credentials, callCreds);
  }
  return new Ctor(endpoint, creds) as grpc.Client & Record<string, any>;
}

/** Metadata carrying the token, for insecure channels. */
export function authMetadata(token?: string): grpc.Metadata {
  const md = new grpc.Metadata();
  if (token) md.set('authorization', `Bearer ${token}`);
  return md;
}
