#!/usr/bin/env node
'use strict';
// Sending-queue throughput: in-memory vs persistent (file_storage on SQLite, fsync off / on).
// Eight producers call consume() as fast as they can (blocking queue: back-pressure, no refusals)
// for a fixed time; four consumers deliver to a no-op backend. Reports batches/s and events/s
// delivered, p50/p99 consume() (enqueue) latency, and stored bytes per event.
// Run: npx tsc -b core extensions/storage && node test/bench/queue.bench.js
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { createSendingExporter } = require('../../core/dist/src/index.js');
const { testBatch, testContext, testHost, validConfig } = require('../../core/dist/src/testing/index.js');
const storageFactory = require('../../extensions/storage/dist/src/index.js').default;

const EVENTS_PER_BATCH = 100;
const PRODUCERS = 8;
const SECONDS = Number(process.env.QUEUE_BENCH_SECONDS ?? 4);
const pool = Array.from({ length: 64 }, () => testBatch(EVENTS_PER_BATCH, 'span'));

function percentile(sorted, p) {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] : 0;
}

async function scenario(name, storageOverrides) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tapio-queue-bench-'));
  const extensions = {};
  let ext;
  if (storageOverrides) {
    ext = await storageFactory.create(testContext('file_storage/bench', 'extension'), validConfig(storageFactory, { directory: dir, max_size: '0', compaction: { interval: '0s' }, ...storageOverrides }));
    await ext.start(testHost());
    extensions['file_storage/bench'] = ext;
  }
  let delivered = 0;
  const exporter = createSendingExporter(testContext('bench', 'exporter'), {
    send: async (batch) => { delivered += batch.events.length; },
    queue: { num_consumers: 4, queue_size: 1000, blocking: true, storage: storageOverrides ? 'file_storage/bench' : undefined },
  });
  await exporter.start(testHost(extensions));

  const latenciesUs = [];
  let produced = 0;
  const t0 = process.hrtime.bigint();
  // A deadline checked in the loop, not a timer: with a no-op backend everything runs on
  // microtasks, so a timer would never get its turn.
  const end = Date.now() + SECONDS * 1000;
  const producer = async (k) => {
    for (let i = k; Date.now() < end; i += PRODUCERS) {
      const s = process.hrtime.bigint();
      await exporter.consume(pool[i % pool.length]);
      latenciesUs.push(Number(process.hrtime.bigint() - s) / 1000);
      produced += EVENTS_PER_BATCH;
    }
  };
  await Promise.all(Array.from({ length: PRODUCERS }, (_, k) => producer(k)));
  while (delivered < produced) await new Promise((r) => setImmediate(r));
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const dbFile = ext ? ext.file : undefined;
  await exporter.shutdown();
  let bytesPerEvent;
  if (ext) {
    // Size of one encoded batch as stored (the queue record), per event.
    const { encodeBatch } = require('../../core/dist/src/index.js');
    bytesPerEvent = Math.round(encodeBatch(pool[0]).length / EVENTS_PER_BATCH);
    await ext.shutdown();
  }
  fs.rmSync(dir, { recursive: true, force: true });
  latenciesUs.sort((a, b) => a - b);
  const r = {
    name,
    batchesPerSec: Math.round(delivered / EVENTS_PER_BATCH / seconds),
    eventsPerSec: Math.round(delivered / seconds),
    p50EnqueueMs: +(percentile(latenciesUs, 50) / 1000).toFixed(3),
    p99EnqueueMs: +(percentile(latenciesUs, 99) / 1000).toFixed(3),
    bytesPerEvent,
    db: dbFile ? path.basename(dbFile) : undefined,
  };
  console.log(`${name.padEnd(26)} ${String(r.batchesPerSec).padStart(7)} batches/s ${String(r.eventsPerSec).padStart(9)} events/s  enqueue p50 ${r.p50EnqueueMs} ms  p99 ${r.p99EnqueueMs} ms${bytesPerEvent ? `  ${bytesPerEvent} B/event stored` : ''}`);
  return r;
}

/** A backlog built while the backend is down, then drained: most batches are read back from disk. */
async function drainScenario(batches) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tapio-queue-bench-'));
  const ext = await storageFactory.create(testContext('file_storage/drain', 'extension'), validConfig(storageFactory, { directory: dir, max_size: '0', compaction: { interval: '0s' } }));
  await ext.start(testHost());
  let up = false;
  let delivered = 0;
  const exporter = createSendingExporter(testContext('bench', 'exporter'), {
    send: async (batch) => { if (!up) throw new Error('down'); delivered += batch.events.length; },
    retry: { initial_interval: '20ms', max_interval: '50ms', max_elapsed_time: '0s' },
    queue: { num_consumers: 4, queue_size: batches + 10, storage: 'file_storage/drain' },
  });
  await exporter.start(testHost({ 'file_storage/drain': ext }));
  for (let i = 0; i < batches; i++) await exporter.consume(pool[i % pool.length]);
  const t0 = process.hrtime.bigint();
  up = true;
  while (delivered < batches * EVENTS_PER_BATCH) await new Promise((r) => setTimeout(r, 5));
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  await exporter.shutdown();
  await ext.shutdown();
  fs.rmSync(dir, { recursive: true, force: true });
  const r = { batchesPerSec: Math.round(batches / seconds), eventsPerSec: Math.round((batches * EVENTS_PER_BATCH) / seconds) };
  console.log(`${'backlog drain from disk'.padEnd(26)} ${String(r.batchesPerSec).padStart(7)} batches/s ${String(r.eventsPerSec).padStart(9)} events/s  (${batches} batches queued during an outage)`);
  return r;
}

async function main() {
  console.log(`sending queue: ${PRODUCERS} producers, 4 consumers, ${EVENTS_PER_BATCH} span events per batch, ${SECONDS}s per scenario`);
  const mem = await scenario('in-memory', undefined);
  const persistent = await scenario('persistent (fsync off)', { fsync: false });
  const fsynced = await scenario('persistent (fsync on)', { fsync: true });
  const drain = await drainScenario(600);
  console.log('BENCH ' + JSON.stringify({
    memory_batches_per_s: mem.batchesPerSec, memory_events_per_s: mem.eventsPerSec, memory_p99_enqueue_ms: mem.p99EnqueueMs,
    persistent_batches_per_s: persistent.batchesPerSec, persistent_events_per_s: persistent.eventsPerSec, persistent_p99_enqueue_ms: persistent.p99EnqueueMs,
    fsync_batches_per_s: fsynced.batchesPerSec, fsync_events_per_s: fsynced.eventsPerSec, fsync_p99_enqueue_ms: fsynced.p99EnqueueMs,
    drain_events_per_s: drain.eventsPerSec,
    stored_bytes_per_event: persistent.bytesPerEvent,
  }));
}

main().catch((err) => { console.error(err); process.exit(1); });
