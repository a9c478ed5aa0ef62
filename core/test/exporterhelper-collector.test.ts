import * as assert from 'node:assert/strict';
import * as http from 'node:http';
import {
  Collector, createLogger, createSendingExporter, defineExporter, ErrorCodes, isRetryable, QUEUE_SCHEMA, RETRY_SCHEMA, RetryableError,
  type Batch, type RawQueue, type RawRetry,
} from '../src/index';
import { resolveYaml, testBatch, testReceiverFactory, testReceivers } from '../src/testing/index';

/** The downstream of the `flaky` exporter: the test switches it up and down. */
const downstream = { up: true, received: [] as string[], attempts: 0 };

const flakyExporter = defineExporter<{ sending_queue: RawQueue; retry_on_failure: RawRetry }>({
  type: 'flaky',
  stability: 'development',
  configSchema: { type: 'object', additionalProperties: false, properties: { sending_queue: QUEUE_SCHEMA, retry_on_failure: RETRY_SCHEMA } },
  create: (ctx, config) => createSendingExporter(ctx, {
    queue: config.sending_queue,
    retry: config.retry_on_failure,
    send: async (batch: Batch) => {
      downstream.attempts++;
      if (!downstream.up) throw new RetryableError('backend unavailable');
      for (const e of batch.events) downstream.received.push(e.id);
    },
  }),
});

async function runCollector(exporterYaml: string, receiverId: string): Promise<Collector> {
  const { config, issues } = resolveYaml(`
receivers: { ${receiverId}: {} }
exporters:
  flaky:
${exporterYaml}
service:
  telemetry: { metrics: { address: "localhost:0" } }
  pipelines: { logs: { receivers: [${receiverId}], exporters: [flaky] } }
`, [testReceiverFactory, flakyExporter]);
  assert.deepEqual(issues, []);
  const c = new Collector({ logger: createLogger('silent') });
  await c.start(config!);
  return c;
}

/** One value from the collector's Prometheus endpoint (sum over series whose labels include `match`). */
async function metric(c: Collector, name: string, match = ''): Promise<number> {
  const text = await new Promise<string>((resolve, reject) => {
    http.get(`http://${c.metricsAddress}/metrics`, (res) => {
      let t = '';
      res.on('data', (d: Buffer) => { t += d.toString(); });
      res.on('end', () => resolve(t));
    }).on('error', reject);
  });
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name) || line[name.length] !== '{' && line[name.length] !== ' ') continue;
    if (match && !line.includes(match)) continue;
    sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}

async function until(cond: () => boolean | Promise<boolean>, what: string): Promise<void> {
  const end = Date.now() + 15_000;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('sending queue in a running collector', () => {
  beforeEach(() => { downstream.up = true; downstream.received = []; downstream.attempts = 0; });

  it('refuses with a retryable error when the queue is full and counts the refusal; delivers all accepted data on recovery', async () => {
    downstream.up = false;
    const c = await runCollector(`
    sending_queue: { num_consumers: 1, queue_size: 3 }
    retry_on_failure: { initial_interval: 5ms, max_interval: 20ms, max_elapsed_time: 0s }`, 'testpush/full');
    try {
      const r = testReceivers.get('testpush/full')!;
      const accepted: string[] = [];
      let refusals = 0;
      for (let i = 0; i < 10; i++) {
        const b = testBatch(2);
        try {
          await r.push(b);
          accepted.push(...b.events.map((e) => e.id));
        } catch (err) {
          assert.ok(isRetryable(err), 'receivers get a retryable error (503 / UNAVAILABLE)');
          assert.equal((err as RetryableError).code, ErrorCodes.QUEUE_FULL);
          refusals++;
        }
        if (i === 0) await until(() => downstream.attempts > 0, 'the first batch to be in flight');
      }
      assert.equal(accepted.length, 8, 'one batch in flight and three queued were accepted');
      assert.equal(refusals, 6);
      assert.equal(await metric(c, 'tapio_exporter_enqueue_failed_events_total'), 12);
      assert.equal(await metric(c, 'tapio_receiver_refused_events_total'), 12);
      assert.equal(await metric(c, 'tapio_exporter_queue_size'), 3);
      assert.equal(await metric(c, 'tapio_exporter_queue_capacity'), 3);

      downstream.up = true;
      await until(() => downstream.received.length === accepted.length, 'delivery after recovery');
      assert.deepEqual([...downstream.received].sort(), [...accepted].sort());
      assert.equal(await metric(c, 'tapio_exporter_dropped_events_total'), 0, 'nothing dropped');
    } finally {
      await c.shutdown();
    }
  });

  it('blocks the receiver (back-pressure) instead of refusing when blocking is set', async () => {
    downstream.up = false;
    const c = await runCollector(`
    sending_queue: { num_consumers: 1, queue_size: 1, blocking: true }
    retry_on_failure: { initial_interval: 5ms, max_interval: 10ms, max_elapsed_time: 0s }`, 'testpush/block');
    try {
      const r = testReceivers.get('testpush/block')!;
      await r.push(testBatch(1));
      await until(() => downstream.attempts > 0, 'in flight');
      await r.push(testBatch(1));
      let done = 0;
      const blocked = [r.push(testBatch(1)).then(() => { done++; }), r.push(testBatch(1)).then(() => { done++; })];
      await new Promise((res) => setTimeout(res, 50));
      assert.equal(done, 0, 'pushes wait while the queue is full');
      downstream.up = true;
      await Promise.all(blocked);
      await until(() => downstream.received.length === 4, 'all four delivered');
      assert.equal(await metric(c, 'tapio_exporter_enqueue_failed_events_total'), 0);
    } finally {
      await c.shutdown();
    }
  });

  it('a dead exporter is retried until it comes back; failed attempts are counted, nothing is lost', async () => {
    downstream.up = false;
    const c = await runCollector(`
    sending_queue: { num_consumers: 2, queue_size: 100 }
    retry_on_failure: { initial_interval: 5ms, max_interval: 20ms, max_elapsed_time: 0s }`, 'testpush/dead');
    try {
      const r = testReceivers.get('testpush/dead')!;
      const ids: string[] = [];
      for (let i = 0; i < 5; i++) { const b = testBatch(3); ids.push(...b.events.map((e) => e.id)); await r.push(b); }
      await until(() => downstream.attempts >= 10, 'several retries');
      assert.ok(await metric(c, 'tapio_exporter_send_failed_events_total') >= 10);
      downstream.up = true;
      await until(() => downstream.received.length === ids.length, 'recovery');
      assert.deepEqual([...downstream.received].sort(), [...ids].sort());
      await until(async () => (await metric(c, 'tapio_exporter_sent_events_total')) === 15, 'sent counter');
    } finally {
      await c.shutdown();
    }
  });
});
