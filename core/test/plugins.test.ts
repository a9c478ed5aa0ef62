import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { ErrorCodes, loadPlugin, Registry, defineProcessor } from '../src/index';
import { EXAMPLE_PLUGIN } from './helpers';

describe('plugin loader', () => {
  it('loads an out-of-tree package and registers every factory it declares', () => {
    const r = new Registry();
    const loaded = loadPlugin(EXAMPLE_PLUGIN, r);
    assert.deepEqual(loaded.map((f) => `${f.kind}/${f.type}`), ['receiver/example_http', 'processor/example_tag']);
    assert.equal(r.get('processor', 'example_tag')?.packageName, 'tapio-plugin-example');
  });

  it('refuses a plugin whose @tapio/core range does not match, naming both versions', () => {
    const r = new Registry();
    assert.throws(() => loadPlugin(path.resolve(EXAMPLE_PLUGIN, '../tapio-plugin-incompatible'), r), (err: Error & { code?: string }) => {
      assert.equal(err.code, ErrorCodes.PLUGIN_CORE_MISMATCH);
      assert.match(err.message, /tapio-plugin-incompatible@2\.0\.0 requires @tapio\/core \^9\.0\.0, but this collector runs @tapio\/core 0\.1\.0/);
      return true;
    });
  });

  it('refuses two packages that provide the same component type', () => {
    const r = new Registry();
    loadPlugin(EXAMPLE_PLUGIN, r);
    const clash = defineProcessor({ type: 'example_tag', stability: 'alpha', configSchema: {}, create: () => { throw new Error('unused'); } });
    assert.throws(() => r.register(clash, 'other-package', '1.2.3'), (err: Error & { code?: string }) => {
      assert.equal(err.code, ErrorCodes.PLUGIN_DUPLICATE_TYPE);
      assert.match(err.message, /processor type "example_tag" is provided twice: by tapio-plugin-example@1\.0\.0 and by other-package@1\.2\.3/);
      return true;
    });
  });

  it('says clearly when a plugin is not installed', () => {
    assert.throws(() => loadPlugin('tapio-plugin-that-does-not-exist', new Registry()), /is not installed/);
  });
});
