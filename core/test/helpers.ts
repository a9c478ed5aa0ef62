import * as path from 'node:path';
import { Collector, createLogger, loadPlugin, mergeYamlText, loadConfigSources, Registry, resolveConfig, type ResolvedConfig } from '../src/index';
import { testReceiverFactory, testSinkExporterFactory } from '../src/testing/index';

export const EXAMPLE_PLUGIN = path.resolve(__dirname, '../../../test/fixtures/tapio-plugin-example');

export function registryWithTestComponents(): Registry {
  const r = new Registry();
  r.register(testReceiverFactory);
  r.register(testSinkExporterFactory);
  loadPlugin(EXAMPLE_PLUGIN, r);
  return r;
}

export function resolveOrThrow(yaml: string, registry = registryWithTestComponents()): ResolvedConfig {
  const loaded = loadConfigSources([]);
  mergeYamlText(loaded, yaml, 'test.yaml');
  const { config, issues } = resolveConfig(loaded, registry);
  if (!config) throw new Error(issues.map((i) => `${i.path}: ${i.message}`).join('\n'));
  return config;
}

export function newCollector(): Collector {
  return new Collector({ logger: createLogger((process.env.TAPIO_TEST_LOG ?? 'silent') as 'silent') });
}
