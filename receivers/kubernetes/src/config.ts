import type { JsonSchema } from '@tapio/core';
import { OBJECT_KEYS, type ObjectKey } from './kinds';

export interface ObjectWatchConfig {
  enabled: boolean;
  /** Namespaces to watch for this kind; empty = the receiver's `namespaces` (empty there = all). */
  namespaces: string[];
  label_selector: string;
  field_selector: string;
}

export interface KubernetesReceiverConfig {
  auth_type: 'kubeConfig' | 'serviceAccount';
  /** Path to a kubeconfig; default: $KUBECONFIG, ~/.kube/config, then in-cluster. */
  kubeconfig?: string;
  context?: string;
  /** Run on without Kubernetes data (status recoverable_error) when no cluster credentials can be loaded. */
  optional: boolean;
  namespaces: string[];
  objects: Record<ObjectKey, ObjectWatchConfig>;
  page_size: number;
  watch_timeout: string;
  retry_on_failure: { initial_interval: string; max_interval: string; randomization_factor: number };
  /** Derive events from the state objects are in when the receiver starts (e.g. a pod already crash-looping). */
  include_initial_state: boolean;
  /** Emit Kubernetes Events (and past terminations found at start) that happened before the receiver started. */
  include_events_before_start: boolean;
  pod_pending_threshold: string;
  /** How many event identities are remembered to suppress duplicates (re-lists, both Event APIs). */
  dedup_cache_size: number;
  topology: { max_pods: number; max_objects: number };
  leader_election: {
    enabled: boolean;
    lease_name: string;
    lease_namespace: string;
    lease_duration: string;
    renew_deadline: string;
    retry_period: string;
    /** Defaults to $POD_NAME or the host name plus the process id. */
    identity: string;
  };
}

const DEFAULT_ENABLED: Record<ObjectKey, boolean> = {
  events: true,
  // The same Event objects seen through the newer API; enable one of the two (duplicates are suppressed anyway).
  'events.k8s.io': false,
  pods: true, nodes: true, deployments: true, replicasets: true, statefulsets: true, daemonsets: true, services: true, endpointslices: true,
};

export function createDefaultConfig(): KubernetesReceiverConfig {
  const objects = {} as Record<ObjectKey, ObjectWatchConfig>;
  for (const k of OBJECT_KEYS) objects[k] = { enabled: DEFAULT_ENABLED[k], namespaces: [], label_selector: '', field_selector: '' };
  return {
    auth_type: 'kubeConfig',
    optional: false,
    namespaces: [],
    objects,
    page_size: 500,
    watch_timeout: '5m',
    retry_on_failure: { initial_interval: '500ms', max_interval: '30s', randomization_factor: 0.5 },
    include_initial_state: true,
    include_events_before_start: false,
    pod_pending_threshold: '1m',
    dedup_cache_size: 10_000,
    topology: { max_pods: 200_000, max_objects: 50_000 },
    leader_election: {
      enabled: false, lease_name: 'tapio-kubernetes', lease_namespace: 'default', lease_duration: '15s', renew_deadline: '10s', retry_period: '2s', identity: '',
    },
  };
}

const objectSchema: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    enabled: { type: 'boolean', default: true },
    namespaces: { type: 'array', items: { type: 'string', minLength: 1 }, default: [] },
    label_selector: { type: 'string', default: '', description: 'e.g. app=payment,tier!=batch' },
    field_selector: { type: 'string', default: '', description: 'e.g. spec.nodeName=node-1' },
  },
};

export const configSchema: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    auth_type: { enum: ['kubeConfig', 'serviceAccount'], default: 'kubeConfig' },
    kubeconfig: { type: 'string', minLength: 1 },
    context: { type: 'string', minLength: 1 },
    optional: { type: 'boolean', default: false, description: 'run on without Kubernetes data when no cluster credentials can be loaded' },
    namespaces: { type: 'array', items: { type: 'string', minLength: 1 }, default: [] },
    objects: {
      type: 'object',
      additionalProperties: false,
      properties: Object.fromEntries(OBJECT_KEYS.map((k) => [k, objectSchema])),
      default: {},
    },
    page_size: { type: 'integer', minimum: 1, maximum: 10_000, default: 500 },
    watch_timeout: { type: 'string', format: 'duration', default: '5m' },
    retry_on_failure: {
      type: 'object',
      additionalProperties: false,
      properties: {
        initial_interval: { type: 'string', format: 'duration', default: '500ms' },
        max_interval: { type: 'string', format: 'duration', default: '30s' },
        randomization_factor: { type: 'number', minimum: 0, maximum: 1, default: 0.5 },
      },
      default: {},
    },
    include_initial_state: { type: 'boolean', default: true },
    include_events_before_start: { type: 'boolean', default: false },
    pod_pending_threshold: { type: 'string', format: 'duration', default: '1m' },
    dedup_cache_size: { type: 'integer', minimum: 100, default: 10_000 },
    topology: {
      type: 'object',
      additionalProperties: false,
      properties: {
        max_pods: { type: 'integer', minimum: 1, default: 200_000 },
        max_objects: { type: 'integer', minimum: 1, default: 50_000 },
      },
      default: {},
    },
    leader_election: {
      type: 'object',
      additionalProperties: false,
      properties: {
        enabled: { type: 'boolean', default: false },
        lease_name: { type: 'string', minLength: 1, default: 'tapio-kubernetes' },
        lease_namespace: { type: 'string', minLength: 1, default: 'default' },
        lease_duration: { type: 'string', format: 'duration', default: '15s' },
        renew_deadline: { type: 'string', format: 'duration', default: '10s' },
        retry_period: { type: 'string', format: 'duration', default: '2s' },
        identity: { type: 'string', default: '' },
      },
      default: {},
    },
  },
};
