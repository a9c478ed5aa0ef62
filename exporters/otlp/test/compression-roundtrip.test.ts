import * as assert from 'node:assert/strict';
import { testBatch, testContext, validConfig } from '@tapio/core/testing';
import { otlpExporterFactory, otlpHttpExporterFactory } from '../src/index';
import { asOtlp, startDownstream } from './helpers';

const noQueue = { sending_queue: { enabled: false }, retry_on_failure: { enabled: false } };

describe('otlp exporters → otlp receiver: zstd and snappy end to end', () => {
  let down: Awaited<ReturnType<typeof startDownstream>>;
  before(async () => { down = await startDownstream(); });
  after(async () => { await down.receiver.shutdown(); });

  // large enough for several snappy chunks (64 KiB) and zstd blocks (128 KiB) per request
  const cases: ['otlp' | 'otlphttp', string][] = [['otlp', 'zstd'], ['otlp', 'snappy'], ['otlphttp', 'zstd'], ['otlphttp', 'snappy'], ['otlphttp', 'x-snappy-framed']];
  for (const [name, compression] of cases) {
    it(`${name === 'otlp' ? 'otlp (gRPC)' : name} with compression: ${compression} delivers every span of several batches unchanged`, async () => {
      down.sink.reset();
      const e = name === 'otlp'
        ? await otlpExporterFactory.create(testContext(name, 'exporter'), validConfig(otlpExporterFactory, { endpoint: `127.0.0.1:${down.grpcPort}`, compression, ...noQueue }) as never)
        : await otlpHttpExporterFactory.create(testContext(name, 'exporter'), validConfig(otlpHttpExporterFactory, { endpoint: `http://127.0.0.1:${down.httpPort}`, compression, ...noQueue }) as never);
      await e.start({} as never);
      const batches = [testBatch(3000, 'span'), testBatch(1, 'span'), testBatch(200, 'span')];
      for (const b of batches) await e.consume(b);
      await e.shutdown();
      const sent = batches.flatMap((b) => b.events);
      assert.deepEqual(asOtlp('traces', down.sink.events), asOtlp('traces', sent));
    });
  }
});
