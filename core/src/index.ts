import './container';

export type {
  Attributes, AttributeValue, Batch, CorrelationInfo, EntityRef, EventKind, ImpactInfo, K8sPayload, KernelPayload,
  LogPayload, MetricPayload, Nanos, NetworkPayload, SemanticInfo, Severity, SpanPayload, TraceContext, UnifiedEvent,
} from './event/types';
export { EVENT_KINDS, RAW_WIRE_BYTES, SEVERITIES, TO_PLAIN, type MaybeLazyEvent, type WithRawWireBytes } from './event/types';
export { cloneEvents, createEvent, eventIdFor, newEventId, nextEventNumber, nowNanos, serviceOf, type EventInit } from './event/builder';
export { decodeBatch, encodeBatch, TAPIO_PROTO_PATH } from './event/codec';

export type {
  AnyFactory, Capabilities, CliCommand, Clock, Component, ComponentContext, ComponentKind, ComponentStatus, Consumer,
  Exporter, ExporterFactory, Extension, ExtensionFactory, Host, JsonSchema, Processor, ProcessorFactory, Receiver,
  ReceiverFactory, Signal, Stability,
} from './component/types';
export { COMPONENT_KINDS, SIGNALS } from './component/types';
export { defineExporter, defineExtension, defineProcessor, defineReceiver, isFactory, stabilityFor, supportedSignals } from './component/define';
export { defineSimpleProcessor, type SimpleProcessorOptions } from './component/helpers';
export {
  AUTH_CONFIG_SCHEMA, authenticateRequest, AuthenticationError, constantTimeEqual, headerValue, secretDigest, isClientAuthenticator, isServerAuthenticator, resolveClientAuthenticator, resolveServerAuthenticator,
  type AuthConfig, type ClientAuthenticator, type RequestHeaders, type ServerAuthenticator,
} from './component/auth';

export {
  ConfigError, describeError, ErrorCodes, formatConfigIssue, isPermanent, isRetryable, PermanentError, RetryableError, TapioError,
  type ConfigIssue, type ErrorCode,
} from './errors';

export { loadConfigSources, mergeYamlText, deepMerge, expand, locate, type LoadOptions, type LoadedConfig, type PositionMap, type SourceLocation } from './config/source';
export { resolveConfig, type ComponentConfig, type PipelineConfig, type ResolvedConfig, type TelemetryConfig } from './config/resolve';
export { closest, compileSchema, createAjv, explainAjvErrors, redactSecrets } from './config/ajv';
export { isByteSize, isDuration, parseByteSize, parseDuration } from './config/duration';

export { Registry, type RegisteredFactory } from './plugins/registry';
export { checkCoreRange, loadPlugin, resolvePluginDir } from './plugins/loader';
export { readManifest, type Manifest, type ManifestComponent } from './plugins/manifest';

export { Collector, systemClock, type CollectorOptions } from './collector';
export { Graph } from './pipeline/graph';
export { FanOutConsumer } from './pipeline/fanout';
export { ReceiverRouter, SIGNAL_KINDS } from './pipeline/router';
export { STATUS_SERVICE, type ComponentStatusEntry, type StatusSource } from './pipeline/host';
export { TOKENS } from './container';

export { ComponentTelemetry } from './telemetry/component';
export { createLogger, componentLogger, type Logger, type LogLevel } from './telemetry/logger';
export { listenHost, SelfTelemetry, splitHostPort } from './telemetry/metrics';

export { createSendingExporter, type PreparedBatch, type SendingExporterOptions } from './exporterhelper/exporter';
export { DeliveryLedger } from './exporterhelper/ledger';
export { parsePositionId, positionId, positionSeparatorIndex, POSITION_SEPARATOR } from './event/position';
export {
  BATCHER_SCHEMA, QUEUE_BATCH_SCHEMA, QUEUE_SCHEMA, RETRY_SCHEMA, TIMEOUT_SCHEMA, batcherAsQueueBatch, queueConfigIssues, queueSettings, retrySettings,
  type BatchSettings, type QueueSettings, type RawBatcher, type RawQueue, type RawQueueBatch, type RawRetry, type RetrySettings, type SizerType,
} from './exporterhelper/settings';

export { runCli } from './cli/main';
export { loadAll, loadComponents, type DistributionInfo } from './cli/options';
export { CORE_VERSION } from './version';
export { isStorageExtension, type StorageClient, type StorageExtension, type StorageOp } from './storage';
export { TOPOLOGY_SERVICE, type PodInfo, type ServiceInfo, type TopologyService, type WorkloadRef } from './topology';
export type { ChainLink, Incident, IncidentEntity } from './incident';
export {
  CIPHER_SUITES, CURVE_NAMES, cipherList, clientTlsOptions, curveList, keepTlsCurrent, serverTlsOptions, TLS_CLIENT_SCHEMA, TLS_SERVER_SCHEMA,
  TLS_VERSION_SCHEMA, tlsClientProblems, tlsOptionsSource, tlsServerProblems, tlsVersion, type ClientTlsOptions, type TlsClientConfig, type TlsServerConfig,
} from './net/configtls';
export { createHttpServer, enforceWriteTimeout, HTTP_SERVER_TIMEOUT_PROPERTIES, originPattern, type HttpServerTimeouts } from './net/confighttp';
