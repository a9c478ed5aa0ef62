import { defineReceiver } from '@tapio/core';
import { configSchema, createDefaultConfig, type KubernetesReceiverConfig } from './config';
import { KubernetesReceiver } from './receiver';

export const kubernetesReceiverFactory = defineReceiver<KubernetesReceiverConfig>({
  type: 'kubernetes',
  stability: { events: 'alpha', logs: 'alpha' },
  configSchema,
  createDefaultConfig,
  create: (ctx, config, next) => new KubernetesReceiver(ctx, config, next),
});
