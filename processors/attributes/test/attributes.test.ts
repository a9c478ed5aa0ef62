import * as assert from 'node:assert/strict';
import { conformance, createComponent, SinkConsumer, testEvent, validConfig } from '@tapio/core/testing';
import type { Consumer } from '@tapio/core';
import factory from '../src/index';

conformance(factory);

describe('attributes processor', () => {
  it('inserts only missing keys, updates only present ones, upserts and deletes', async () => {
    const sink = new SinkConsumer();
    const p = (await createComponent(factory, validConfig(factory, {
      actions: [
        { key: 'env', action: 'insert', value: 'prod' },
        { key: 'team', action: 'insert', value: 'ignored' },
        { key: 'region', action: 'update', value: 'eu' },
        { key: 'tier', action: 'upsert', value: 1 },
        { key: 'secret', action: 'delete' },
        { key: 'copy', action: 'upsert', from_attribute: 'team' },
      ],
    }), sink)) as Consumer;
    const e = testEvent('log', { attributes: { team: 'payments', secret: 'x' } });
    await p.consume({ events: [e] });
    assert.deepEqual(sink.events[0]!.attributes, { team: 'payments', tier: 1, copy: 'payments', env: 'prod' });
  });
});
