import { kubernetesReceiverFactory } from './factory';

export default kubernetesReceiverFactory;
export { kubernetesReceiverFactory };
export { KubernetesReceiver } from './receiver';
export { TopologyCache, normalizeContainerId, type TopologyLimits } from './topology';
export { KubeApi, ApiError, type ClientSettings } from './client';
export { Reflector, type ChangeType, type ReflectorOptions, type ReflectorSink } from './reflector';
export { Deriver, type DeriverOptions } from './deriver';
export { podFacts, podTransitions } from './derive/pod';
export { nodeFacts } from './derive/node';
export { workloadFacts, workloadTransitions } from './derive/workload';
export { fromDerived, fromKubeEvent } from './convert';
export { createDefaultConfig, configSchema, type KubernetesReceiverConfig, type ObjectWatchConfig } from './config';
export { RESOURCE_KINDS, OBJECT_KEYS, collectionPath, type KubeObject, type ObjectKey, type ResourceKind } from './kinds';
