import { defineReceiver } from '@tapio/core';
import { configSchema, createDefaultConfig, type FilelogConfig } from './config';
import { FilelogReceiver } from './receiver';

/** The `filelog` receiver factory: application and container logs from files. */
export const filelogFactory = defineReceiver<FilelogConfig>({
  type: 'filelog',
  stability: { logs: 'beta', events: 'beta' },
  configSchema,
  createDefaultConfig,
  create(ctx, config, next) {
    return new FilelogReceiver(ctx, config, next);
  },
});

export default filelogFactory;
export { FilelogReceiver } from './receiver';
export type { FilelogStats } from './stats';
export { configSchema, createDefaultConfig, type FilelogConfig, type OperatorConfig } from './config';
export { OperatorChain, k8sFromPath } from './operators';
export { parseRfc3339Nanos, compileTimeParser } from './timeparse';
