import { defineExtension } from '@tapio/core';
import { configSchema, createDefaultConfig, type ApiConfig } from './config';
import { ApiExtension } from './extension';

export { ApiExtension, isTapioStoreSink, type TapioStoreSink } from './extension';
export { ApiService, RequestError, type IncidentItem, type Page } from './service';
export { EventStore, type StoredEvent, type StoreOptions, type StoreStats } from './store';
export { FILTER_KEYS, FilterError, formatFilter, isEmptyFilter, matches, parseFilter, SEVERITY_RANK, type EventFilter } from './filter';
export { buildSummary, correlateTrace, layerOf, LAYERS, summarize, type ChainEntry, type CorrelationSummary, type Layer } from './correlate';
export { buildServiceMap, type ServiceMap } from './servicemap';
export { API_PROTO_PATH, apiServiceDefinition, authMetadata, createGrpcClient } from './proto';
export { describeAction, parseRecommendation, type KubeAction } from './actions';
export { paymentScenario, type PaymentScenario } from './scenario';
export { configSchema, createDefaultConfig, type ApiConfig } from './config';

export default defineExtension<ApiConfig>({
  type: 'tapio_api',
  stability: 'alpha',
  configSchema,
  createDefaultConfig,
  create(ctx, config) {
    return new ApiExtension(ctx, config);
  },
});
