import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as http2 from 'node:http2';
import * as net from 'node:net';
import * as path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { conformance, testEvent } from '@tapio/core/testing';
import factory, { authMetadata, createGrpcClient, paymentScenario, type ApiExtension } from '../src/index';
import { getJson, SseClient, startApi, tmpDir, TOKEN } from './helpers';

conformance(factory, { config: { http: { endpoint: '127.0.0.1:0' }, grpc: { endpoint: '127.0.0.1:0' }, storage: { path: ':memory:' } } });

function unary<T>(client: any, method: string, req: unknown, token?: string): Promise<T> {
  return new Promise((resolve, reject) => client[method](req, authMetadata(token), (err: Error | null, res: T) => (err ? reject(err) : resolve(res))));
}

describe('tapio_api extension', function () {
  this.timeout(30_000);
  let ext: ApiExtension;
  let base: string;
  let grpcAddr: string;
  const scenario = paymentScenario();

  before(async () => {
    ({ ext, base, grpc: grpcAddr } = await startApi({ auth: { token: TOKEN } }));
    ext.ingest(scenario.events);
  });
  after(async () => { await ext.shutdown(); });

  describe('REST', () => {
    it('lists stored events newest first, filtered by kind and service', async () => {
      const r = await getJson(`${base}/api/v1/events?filter=kind=kernel,service=payment`, TOKEN);
      assert.equal(r.status, 200);
      const expected = scenario.events.filter((e) => e.kind === 'kernel' && e.resource['service.name'] === 'payment');
      assert.deepEqual(r.body.events.map((e: any) => e.id).sort(), expected.map((e) => e.id).sort());
    });

    it('pages through events with next_page_token without repeats', async () => {
      const seen = new Set<string>();
      let token: string | undefined;
      do {
        const r = await getJson(`${base}/api/v1/events?limit=7${token ? `&page_token=${token}` : ''}`, TOKEN);
        assert.equal(r.status, 200);
        for (const e of r.body.events) { assert.ok(!seen.has(e.id), `event ${e.id} repeated`); seen.add(e.id); }
        token = r.body.next_page_token;
      } while (token);
      assert.equal(seen.size, scenario.events.length);
    });

    it('answers bad input with a clear 4xx', async () => {
      const cases: [string, number, RegExp][] = [
        ['/api/v1/events?filter=color=blue', 400, /unknown filter key 'color'/],
        ['/api/v1/events?filter=kind', 400, /malformed filter clause/],
        ['/api/v1/events?kind=bogus', 400, /unknown kind 'bogus'/],
        ['/api/v1/events?limit=100000000', 400, /larger than the maximum 1000/],
        ['/api/v1/events?limit=-3', 400, /positive integer/],
        ['/api/v1/events?page_token=%27%3BDROP', 400, /malformed page_token/],
        ['/api/v1/incidents/nope', 404, /no incident with id 'nope'/],
        ['/api/v1/events/nope', 404, /no stored event/],
        ['/api/v1/correlate?trace_id=xyz', 400, /hex trace id/],
        ['/api/v1/correlate?trace_id=' + 'f'.repeat(32), 404, /no stored events/],
        ['/api/v1/nothing', 404, /no such API path/],
      ];
      for (const [url, status, message] of cases) {
        const r = await getJson(base + url, TOKEN);
        assert.equal(r.status, status, url);
        assert.match(r.body.error, message, url);
      }
    });

    it('rejects a missing or wrong token with 401 and serves OpenAPI without one', async () => {
      assert.equal((await getJson(`${base}/api/v1/health`)).status, 401);
      const wrong = await getJson(`${base}/api/v1/health`, 'wrong-token-wrong-token');
      assert.equal(wrong.status, 401);
      assert.match(String(wrong.headers['www-authenticate']), /Bearer/);
      const doc = await getJson(`${base}/api/v1/openapi.json`);
      assert.equal(doc.status, 200);
      assert.equal(doc.body.openapi, '3.1.0');
      assert.ok(doc.body.paths['/api/v1/correlate'], 'documents correlate');
    });

    it('serves the incident with its chain, and the raw events of the chain', async () => {
      const list = await getJson(`${base}/api/v1/incidents?status=open`, TOKEN);
      assert.deepEqual(list.body.incidents.map((i: any) => i.id), [scenario.incidentId]);
      const inc = await getJson(`${base}/api/v1/incidents/${scenario.incidentId}`, TOKEN);
      assert.equal(inc.body.rootCause.entity.pod, 'payment-7d8f9');
      const evs = await getJson(`${base}/api/v1/incidents/${scenario.incidentId}/events`, TOKEN);
      assert.deepEqual(new Set(evs.body.events.map((e: any) => e.id)), new Set(scenario.incident.chain.map((l) => l.eventId)));
      const actions = await getJson(`${base}/api/v1/incidents/${scenario.incidentId}/actions`, TOKEN);
      assert.equal(actions.body.dryRun, true);
      assert.deepEqual(actions.body.actions[0].action, { type: 'scale', namespace: 'prod', deployment: 'payment', replicas: 5 });
      assert.equal(actions.body.actions[1].action, null, 'a memory-limit change is advice, not an action');
    });

    it('correlates a trace from stored events: root cause, impact, users, detection time, chain over four layers', async () => {
      const r = await getJson(`${base}/api/v1/correlate?trace_id=${scenario.traceId}`, TOKEN);
      assert.equal(r.status, 200);
      const s = r.body;
      assert.equal(s.incidentId, scenario.incidentId);
      assert.match(s.rootCause.summary, /Memory leak in payment/);
      assert.equal(s.rootCause.layer, 'kernel');
      assert.equal(s.affectedUsers, scenario.failedUsers);
      assert.equal(s.affectedUsersSource, 'enduser.id');
      assert.equal(s.failedRequests, scenario.failedRequests);
      assert.equal(s.timeToDetectMs, scenario.incident.timeToDetectMs);
      assert.equal(s.impact.revenueAtRisk, 45_000);
      for (const layer of ['application', 'network', 'kubernetes', 'kernel']) assert.ok(s.byLayer[layer] > 0, `chain has ${layer} events`);
      const times = s.chain.map((c: any) => c.time);
      assert.deepEqual(times, [...times].sort((a: number, b: number) => a - b), 'chain is in time order');
      assert.ok(s.recommendations.includes('Scale payment to 5 replicas'));
    });

    it('builds the service map from spans and marks services of open incidents unhealthy', async () => {
      const r = await getJson(`${base}/api/v1/servicemap`, TOKEN);
      const byName = Object.fromEntries(r.body.nodes.map((n: any) => [n.name, n]));
      assert.equal(byName.payment.healthy, false);
      assert.equal(byName.frontend.healthy, true);
      assert.ok(r.body.edges.some((e: any) => e.from === 'checkout' && e.to === 'payment' && e.errors > 0));
      assert.ok(r.body.edges.some((e: any) => e.from === 'frontend' && e.to === 'checkout'));
    });
  });

  describe('SSE streams', () => {
    it('streams only matching events to each client, live', async () => {
      const kernel = new SseClient(`${base}/api/v1/events/stream?filter=kind=kernel`, TOKEN);
      const all = new SseClient(`${base}/api/v1/events/stream`, TOKEN);
      await Promise.all([kernel.ready, all.ready]);
      assert.equal(kernel.status, 200);
      ext.ingest([testEvent('kernel'), testEvent('log'), testEvent('kernel')]);
      await all.waitFor(3);
      await kernel.waitFor(2);
      assert.deepEqual(kernel.messages.map((m) => m.data.kind), ['kernel', 'kernel']);
      assert.equal(all.messages.length, 3);
      kernel.close();
      all.close();
    });

    it('resumes after a reconnect: Last-Event-ID replays the matching events the client missed', async () => {
      const first = new SseClient(`${base}/api/v1/events/stream?kind=k8s`, TOKEN);
      await first.ready;
      ext.ingest([testEvent('k8s')]);
      await first.waitFor(1);
      const lastId = first.messages[0]!.id;
      first.close();
      const missed = [testEvent('k8s'), testEvent('log'), testEvent('k8s')];
      ext.ingest(missed);
      const again = new SseClient(`${base}/api/v1/events/stream?kind=k8s`, TOKEN, false, { 'last-event-id': lastId });
      await again.waitFor(2);
      assert.deepEqual(again.messages.map((m) => m.data.id), [missed[0]!.id, missed[2]!.id]);
      again.close();
    });

    it('rejects a malformed stream filter with 400 before opening the stream', async () => {
      const r = await getJson(`${base}/api/v1/events/stream?filter=sevrity=error`, TOKEN);
      assert.equal(r.status, 400);
      assert.match(r.body.error, /unknown filter key 'sevrity'/);
    });

    it('a stalled client loses its oldest events (counted) while another client gets every one', async () => {
      const { ext: small, base: b2 } = await startApi({ streams: { client_queue_size: 50, max_clients: 10 }, storage: { path: ':memory:' } });
      try {
        const stalled = new SseClient(`${b2}/api/v1/events/stream`, undefined, true);
        const healthy = new SseClient(`${b2}/api/v1/events/stream`);
        await Promise.all([stalled.ready, healthy.ready]);
        const big = 'x'.repeat(4096);
        const total = 3000;
        // Batches smaller than the queue, paced by the healthy client: it must get every one
        // while the stalled client's socket buffers fill and its queue overflows.
        for (let i = 0; i < total / 40; i++) {
          small.ingest(Array.from({ length: 40 }, () => testEvent('log', { attributes: { pad: big } })));
          await healthy.waitFor((i + 1) * 40, 20_000);
        }
        const clients = small.api!.events.clients();
        const stalledSub = clients.find((c) => c.dropped > 0);
        assert.ok(stalledSub, 'the stalled client dropped events');
        assert.ok(stalledSub.queued <= 50, 'its queue stays within client_queue_size');
        const h = await getJson(`${b2}/api/v1/health`);
        assert.ok(h.body.streams.droppedForSlowClients > 0);
        assert.equal(healthy.messages.length, total);
        stalled.close();
        healthy.close();
      } finally {
        await small.shutdown();
      }
    });

    it('streams new incidents', async () => {
      const c = new SseClient(`${base}/api/v1/incidents/stream?status=open`, TOKEN);
      await c.ready;
      const again = paymentScenario({ incidentId: 'inc-second' });
      ext.ingest(again.events);
      await c.waitFor(1);
      assert.equal(c.messages[0]!.event, 'incident');
      assert.equal(c.messages[0]!.data.id, 'inc-second');
      c.close();
    });
  });

  describe('gRPC', () => {
    let client: any;
    before(() => { client = createGrpcClient(grpcAddr); });
    after(() => client.close());

    it('answers Health, GetIncident, ListIncidents and Correlate', async () => {
      const h = await unary<any>(client, 'Health', {}, TOKEN);
      assert.equal(h.status, 'ok');
      assert.ok(h.storedEvents >= scenario.events.length);
      const inc = await unary<any>(client, 'GetIncident', { id: scenario.incidentId }, TOKEN);
      assert.equal(inc.rootCause.entity.service, 'payment');
      assert.equal(inc.chain.length, scenario.incident.chain.length);
      const list = await unary<any>(client, 'ListIncidents', { pageSize: 10 }, TOKEN);
      assert.ok(list.incidents.some((i: any) => i.id === scenario.incidentId));
      const s = await unary<any>(client, 'Correlate', { traceId: scenario.traceId }, TOKEN);
      assert.equal(s.affectedUsers, scenario.failedUsers);
      assert.equal(s.byLayer.kernel > 0 && s.byLayer.kubernetes > 0 && s.byLayer.network > 0 && s.byLayer.application > 0, true);
    });

    it('maps bad input to gRPC status codes', async () => {
      const code = async (m: string, req: unknown, token?: string) => {
        try { await unary(client, m, req, token); return grpc.status.OK; } catch (err) { return (err as grpc.ServiceError).code; }
      };
      assert.equal(await code('GetIncident', { id: 'missing' }, TOKEN), grpc.status.NOT_FOUND);
      assert.equal(await code('Correlate', { traceId: 'zz' }, TOKEN), grpc.status.INVALID_ARGUMENT);
      assert.equal(await code('ListIncidents', { pageSize: 5000 }, TOKEN), grpc.status.INVALID_ARGUMENT);
      assert.equal(await code('Health', {}, 'not-the-token-at-all'), grpc.status.UNAUTHENTICATED);
      assert.equal(await code('Health', {}), grpc.status.UNAUTHENTICATED);
    });

    it('a gRPC client that stops reading loses its oldest events (counted) and does not hold up others', async () => {
      const { ext: small, grpc: addr } = await startApi({ streams: { client_queue_size: 20, max_clients: 10 }, storage: { path: ':memory:' }, http: null });
      // grpc-js clients keep buffering even when paused; a raw HTTP/2 stream that is never read
      // is what a stuck client looks like to the server (its flow-control window fills up).
      const session = http2.connect(`http://${addr}`);
      const live = createGrpcClient(addr);
      try {
        const stuck = session.request({ ':method': 'POST', ':path': '/tapio.api.v1.TapioApi/StreamEvents', 'content-type': 'application/grpc', te: 'trailers' });
        stuck.on('error', () => undefined);
        stuck.end(Buffer.from([0, 0, 0, 0, 0])); // one empty EventFilter message
        stuck.pause();
        const call = live.StreamEvents({ filter: '' });
        call.on('error', () => undefined);
        let got = 0;
        call.on('data', (b: any) => { got += b.events.length; });
        await new Promise((r) => setTimeout(r, 200));
        const big = 'y'.repeat(8192);
        const total = 1500;
        for (let i = 0; i < total / 15; i++) {
          small.ingest(Array.from({ length: 15 }, () => testEvent('log', { attributes: { pad: big } })));
          const want = (i + 1) * 15;
          for (let w = 0; got < want && w < 1000; w++) await new Promise((r) => setTimeout(r, 5));
        }
        assert.equal(got, total, 'the reading client got every event');
        const subs = small.api!.events.clients();
        assert.equal(subs.length, 2);
        const slow = subs.find((c) => c.dropped > 0);
        assert.ok(slow, 'the stuck client dropped events');
        assert.ok(slow.queued <= 20, 'and holds no more than client_queue_size');
        assert.ok(slow.blocked, 'its transport is back-pressured');
        call.cancel();
        stuck.close();
      } finally {
        live.close();
        session.destroy();
        await small.shutdown();
      }
    });

    it('StreamEvents delivers filtered batches as tapio.v1.Batch and rejects malformed filters', async () => {
      const call = client.StreamEvents({ filter: 'kind=network' }, authMetadata(TOKEN));
      const got: any[] = [];
      const done = new Promise<void>((resolve) => call.on('data', (b: any) => { got.push(...b.events); if (got.length >= 2) resolve(); }));
      await new Promise((r) => setTimeout(r, 100));
      ext.ingest([testEvent('network'), testEvent('log'), testEvent('network')]);
      await done;
      assert.deepEqual(got.map((e) => e.kind), ['network', 'network']);
      assert.equal(got[0].network.event, 'connection_refused');
      call.on('error', () => undefined); // the CANCELLED status our own cancel() produces
      call.cancel();

      const bad = client.StreamEvents({ filter: 'kind=nope' }, authMetadata(TOKEN));
      const err = await new Promise<grpc.ServiceError>((resolve) => bad.on('error', resolve));
      assert.equal(err.code, grpc.status.INVALID_ARGUMENT);
      assert.match(err.details, /unknown kind 'nope'/);
    });
  });
});

describe('tapio_api store', function () {
  this.timeout(30_000);

  it('keeps events and incidents within retention across a restart', async () => {
    const dir = tmpDir();
    const s = paymentScenario();
    const first = await startApi({}, dir);
    first.ext.ingest(s.events);
    await first.ext.shutdown();
    const second = await startApi({}, dir);
    try {
      const inc = await getJson(`${second.base}/api/v1/incidents/${s.incidentId}`);
      assert.equal(inc.status, 200);
      assert.equal(inc.body.title, s.incident.title);
      const evs = await getJson(`${second.base}/api/v1/events?trace_id=${s.traceId}`);
      assert.equal(evs.body.events.length, s.events.filter((e) => e.trace?.traceId === s.traceId).length);
      const c = await getJson(`${second.base}/api/v1/correlate?trace_id=${s.traceId}`);
      assert.equal(c.body.incidentId, s.incidentId);
    } finally {
      await second.ext.shutdown();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('drops events and incidents past retention on start', async () => {
    const dir = tmpDir();
    const old = paymentScenario({ baseMs: Date.now() - 3 * 3600_000, incidentId: 'inc-old' });
    const fresh = paymentScenario({ incidentId: 'inc-fresh' });
    const first = await startApi({}, dir);
    first.ext.ingest([...old.events, ...fresh.events]);
    await first.ext.shutdown();
    const second = await startApi({ storage: { path: path.join(dir, 'tapio.db'), retention: '1h' } }, dir);
    try {
      assert.equal((await getJson(`${second.base}/api/v1/incidents/inc-old`)).status, 404);
      assert.equal((await getJson(`${second.base}/api/v1/incidents/inc-fresh`)).status, 200);
      const stats = (await getJson(`${second.base}/api/v1/health`)).body.store;
      assert.equal(stats.events, fresh.events.length);
    } finally {
      await second.ext.shutdown();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('is a bounded ring: past max_events the oldest events go first', async () => {
    const { ext, base } = await startApi({ storage: { path: ':memory:', max_events: 100 } });
    try {
      const events = Array.from({ length: 250 }, () => testEvent('log'));
      for (let i = 0; i < events.length; i += 25) ext.ingest(events.slice(i, i + 25));
      const stats = (await getJson(`${base}/api/v1/health`)).body.store;
      assert.ok(stats.events <= 100 && stats.events >= 90, `events kept: ${stats.events}`);
      assert.equal((await getJson(`${base}/api/v1/events/${events[0]!.id}`)).status, 404);
      assert.equal((await getJson(`${base}/api/v1/events/${events[249]!.id}`)).status, 200);
    } finally {
      await ext.shutdown();
    }
  });

  it('a failed start (gRPC port taken) releases the HTTP port it had opened', async () => {
    const first = await startApi({ storage: { path: ':memory:' } });
    try {
      const grpcPort = first.grpc.split(':').pop();
      const probe = net.createServer();
      await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
      const httpPort = (probe.address() as net.AddressInfo).port;
      await new Promise<void>((r) => probe.close(() => r()));
      await assert.rejects(startApi({ grpc: { endpoint: `127.0.0.1:${grpcPort}` }, http: { endpoint: `127.0.0.1:${httpPort}` }, storage: { path: ':memory:' } }));
      // The HTTP port is free again: the failed instance shut down what it had opened.
      const again = net.createServer();
      await new Promise<void>((resolve, reject) => { again.once('error', reject); again.listen(httpPort, '127.0.0.1', resolve); });
      await new Promise<void>((r) => again.close(() => r()));
    } finally {
      await first.ext.shutdown();
    }
  });

  it('refuses to start on a non-loopback address without a token', async () => {
    await assert.rejects(startApi({ http: { endpoint: '0.0.0.0:0' }, storage: { path: ':memory:' } }), /auth.token or auth.token_file is required/);
  });
});
