#!/usr/bin/env node
'use strict';
/*
 * eBPF receiver throughput: how many ring-buffer records per second the pipeline (loader →
 * pipe → decode → UnifiedEvent → consume) sustains, and how many records the kernel loses.
 *
 *   flood:  a child process fails open() as fast as it can; syscall_errors (no rate limit,
 *           filtered to that pid) turns each failure into a record. Measures the ceiling.
 *   paced:  a child fails open() at a stated rate; the lost-record counter must stay 0.
 *
 * Needs root, Linux, kernel BTF and the built loader (make -C ebpf-programs) and the built
 * receiver (npx tsc -b core receivers/ebpf). Run: node test/bench/ebpf.bench.js
 */
const path = require('node:path');
const { spawn, spawnSync } = require('node:child_process');
const { existsSync, mkdtempSync, rmSync, writeFileSync } = require('node:fs');
const { tmpdir } = require('node:os');

const root = path.resolve(__dirname, '../..');
const FLOOD_SECONDS = Number(process.env.EBPF_BENCH_SECONDS || 5);
const PACED_RATE = Number(process.env.EBPF_BENCH_RATE || 20000);

function skip(reason) {
  console.log(`ebpf bench skipped: ${reason}`);
  console.log(`BENCH ${JSON.stringify({ bench: 'ebpf', skipped: reason })}`);
  process.exit(0);
}

if (process.platform !== 'linux') skip('needs Linux');
if (process.getuid() !== 0) skip('needs root');
if (!existsSync('/sys/kernel/btf/vmlinux')) skip('no kernel BTF');
const distIndex = path.join(root, 'receivers/ebpf/dist/src/index.js');
if (!existsSync(distIndex)) skip('receiver not built: npx tsc -b core receivers/ebpf');
const { findNativeDir, LOADER_BINARY } = require(distIndex);
if (!existsSync(path.join(findNativeDir(), LOADER_BINARY))) skip('loader not built: make -C ebpf-programs');
const factory = require(distIndex).default;
const { testContext, testHost, validConfig } = require(path.join(root, 'core/dist/src/testing/index.js'));

/** Counts events and samples end-to-end latency (kernel event time → consume). */
class CountingConsumer {
  constructor() { this.count = 0; this.batches = 0; this.latencies = []; }
  consume(batch) {
    const now = (performance.timeOrigin + performance.now()) * 1e6;
    this.count += batch.events.length;
    this.batches++;
    const evs = batch.events;
    for (let i = 0; i < evs.length; i += 16) if (this.latencies.length < 500000) this.latencies.push((now - evs[i].time) / 1e6);
    return Promise.resolve();
  }
}

function percentile(values, p) {
  if (values.length === 0) return 0;
  const sorted = Float64Array.from(values).sort();
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/*
 * The load generator is a tiny C program (compiled here with cc, which the eBPF build needs
 * anyway): a Node loop throwing an exception per failed open() tops out near 25k/s, far below
 * what the pipeline takes. It fails open() `rate` times per second (0: as fast as it can).
 */
const GENERATOR_C = `
#include <fcntl.h>
#include <stdlib.h>
#include <time.h>
int main(int argc, char **argv) {
  long rate = argc > 1 ? atol(argv[1]) : 0;
  struct timespec t0, now;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  for (long n = 0;; n++) {
    open("/nonexistent-tapio-bench", O_RDONLY);
    if (rate > 0 && n % 64 == 0) {
      for (;;) {
        clock_gettime(CLOCK_MONOTONIC, &now);
        double due = ((now.tv_sec - t0.tv_sec) + (now.tv_nsec - t0.tv_nsec) / 1e9) * rate;
        if (n < due) break;
        struct timespec nap = { 0, 200000 };
        nanosleep(&nap, 0);
      }
    }
  }
}`;

function buildGenerator() {
  const dir = mkdtempSync(path.join(tmpdir(), 'tapio-ebpf-bench-'));
  writeFileSync(path.join(dir, 'gen.c'), GENERATOR_C);
  const res = spawnSync('cc', ['-O2', '-o', path.join(dir, 'tapio-bench-gen'), path.join(dir, 'gen.c')], { encoding: 'utf8' });
  if (res.status !== 0) skip(`cannot compile the load generator with cc: ${res.stderr || res.error}`);
  return { bin: path.join(dir, 'tapio-bench-gen'), cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

let generator;
function startGenerator(rate) {
  return spawn(generator.bin, [String(rate)], { stdio: 'ignore' });
}

async function run(name, rate, seconds) {
  const gen = startGenerator(rate);
  const sink = new CountingConsumer();
  const config = validConfig(factory, {
    programs: ['syscall_errors'],
    filters: { pids: [gen.pid] },
    rate_limits: { syscall_errors: 0 },
    syscall_errors: { syscalls: ['open'], ignore_errnos: [] },
    ring_buffer_size: '4MiB',
    stats_interval: '250ms',
  });
  const receiver = factory.create(testContext('ebpf', 'receiver'), config, sink);
  await receiver.start(testHost());
  const t0 = process.hrtime.bigint();
  const cpu0 = process.cpuUsage();
  await new Promise((r) => setTimeout(r, seconds * 1000));
  gen.kill('SIGKILL');
  await new Promise((r) => gen.on('exit', r)); // nothing is produced after this point
  await receiver.shutdown(); // drains the ring buffer and reports final counters
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu = process.cpuUsage(cpu0);
  const t = receiver.totals();
  const delivered = sink.count; // everything since attach, as the kernel-side counters
  const result = {
    scenario: name,
    offeredPerSec: Math.round((t.emitted + t.lost) / secs),
    recordsPerSec: Math.round(delivered / secs),
    delivered,
    lost: t.lost,
    lostPct: t.emitted + t.lost ? +((100 * t.lost) / (t.emitted + t.lost)).toFixed(2) : 0,
    batches: sink.batches,
    eventsPerBatch: sink.batches ? Math.round(delivered / sink.batches) : 0,
    p50LatencyMs: +percentile(sink.latencies, 50).toFixed(2),
    p99LatencyMs: +percentile(sink.latencies, 99).toFixed(2),
    receiverCpuPct: Math.round((100 * (cpu.user + cpu.system)) / 1e6 / secs),
    recordBytes: 216,
  };
  console.log(`${name.padEnd(6)} offered ${result.offeredPerSec.toLocaleString()} rec/s → delivered ${result.recordsPerSec.toLocaleString()} rec/s ` +
    `(${result.delivered.toLocaleString()} records, ${result.eventsPerBatch}/batch), lost ${result.lost} (${result.lostPct}%), ` +
    `latency p50 ${result.p50LatencyMs} ms p99 ${result.p99LatencyMs} ms, receiver process CPU ${result.receiverCpuPct}%`);
  return result;
}

/*
 * The Node side alone (no kernel, no pipe): frames of real record layout through FrameReader
 * and decodeRecord into UnifiedEvents. The ceiling of the receiver process itself.
 */
function decodeOnly(seconds) {
  const { FrameReader, decodeRecord, cgroupInfo } = require(distIndex);
  const N = 4096;
  const frame = Buffer.alloc(12 + 216);
  frame.writeUInt32LE(8 + 216, 0); frame.writeUInt32LE(1, 4); frame.writeUInt32LE(3, 8);
  const r = 12;
  frame.writeBigUInt64LE(123456789n, r); frame.writeBigUInt64LE(77n, r + 8); frame.writeUInt32LE(5, r + 16);
  frame.writeUInt32LE(4242, r + 20); frame.writeUInt32LE(4242, r + 24); frame.write('bench', r + 32);
  frame.writeBigInt64LE(-2n, r + 48); frame.writeUInt32LE(4, r + 64); frame.write('/nonexistent-tapio-bench', r + 88);
  const chunk = Buffer.concat(Array.from({ length: N }, () => frame));
  const info = cgroupInfo('/system.slice/docker-' + 'a'.repeat(64) + '.scope');
  const ctx = { source: 'ebpf', clockOffsetNs: 1.7e18, pageSize: 4096, cgroup: () => info };
  let events = [];
  let count = 0;
  const reader = new FrameReader({
    record: (p, b, o, l) => { const e = decodeRecord(b, o, l, ctx, 0); if (e) events.push(e); },
    message: () => undefined,
    chunkDone: () => { count += events.length; events = []; },
  });
  // 64 KiB pipe-sized slices, as the receiver sees them
  const slices = [];
  for (let o = 0; o < chunk.length; o += 65536) slices.push(chunk.subarray(o, Math.min(chunk.length, o + 65536)));
  const t0 = process.hrtime.bigint();
  let secs = 0;
  while (secs < seconds) {
    for (const s of slices) reader.push(s);
    secs = Number(process.hrtime.bigint() - t0) / 1e9;
  }
  const perSec = Math.round(count / secs);
  console.log(`decode (Node side only, 64 KiB reads): ${perSec.toLocaleString()} records/s → UnifiedEvents`);
  return perSec;
}

(async () => {
  generator = buildGenerator();
  console.log(`ebpf bench: syscall_errors records (216 B) through loader → pipe → decode → consume; node ${process.version}`);
  const decodePerSec = decodeOnly(2);
  const flood = await run('flood', 0, FLOOD_SECONDS);
  const paced = await run('paced', PACED_RATE, FLOOD_SECONDS);
  generator.cleanup();
  console.log(`lost-record counter at a stated ${PACED_RATE.toLocaleString()} records/s: ${paced.lost}`);
  console.log(`BENCH ${JSON.stringify({
    bench: 'ebpf',
    recordsPerSec: flood.recordsPerSec,
    decodeOnlyRecordsPerSec: decodePerSec,
    floodOfferedPerSec: flood.offeredPerSec,
    floodLost: flood.lost,
    floodLostPct: flood.lostPct,
    pacedRatePerSec: PACED_RATE,
    pacedRecordsPerSec: paced.recordsPerSec,
    pacedLost: paced.lost,
    p99LatencyMs: paced.p99LatencyMs,
    bytesPerRecord: 216,
    loadAverage: require('node:os').loadavg()[0],
  })}`);
})().catch((err) => { console.error(err); process.exit(1); });
