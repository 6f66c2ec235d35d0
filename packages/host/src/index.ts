/**
 * @proxy-wasm-ts/host: a Node.js implementation of the Proxy-Wasm ABI v0.2.1 (and 0.2.0 / 0.1.0) that runs
 * plugin modules from any SDK the way Envoy does. See README.md ("API") for the embedder contract.
 */
export {
  ABI_MARKERS,
  EXPORT_TABLE,
  type ExportSpec,
  findImport,
  IMPORT_TABLE,
  type ImportSpec,
} from "./abi/table.ts";
export { ByteBuffer } from "./byte-buffer.ts";
export { latin1String, toBytes } from "./bytes.ts";
export { CallbackTimeoutError } from "./callback-guard.ts";
export { GrpcCallout, GrpcStatus, HttpCallout, type HttpCalloutResponse } from "./callouts.ts";
export { Context, type FilterStateEntry } from "./context.ts";
export {
  ENVOY_FILTER_STATE_KEYS,
  envoyForeignFunctions,
  type ForeignFunction,
  type ForeignFunctionCall,
} from "./envoy/foreign-functions.ts";
export {
  DEFAULT_HISTOGRAM_BUCKETS,
  formatG32,
  type PrometheusOptions,
  prometheusName,
  renderPrometheus,
  StatsTagProducer,
  type StatsTagRule,
} from "./envoy/prometheus.ts";
export {
  Double,
  Duration,
  encodeProperty,
  type Properties,
  type PropertyRecord,
  type PropertyValue,
  splitPath,
} from "./envoy/properties.ts";
export { readProtoFields, writeProtoFields } from "./envoy/protobuf.ts";
export { HeaderMap } from "./header-map.ts";
export { type HostOptions, ProxyWasmHost } from "./host.ts";
export {
  type HttpAccessLogHeaders,
  HttpStream,
  type HttpStreamEvents,
  type HttpStreamOptions,
} from "./http-stream.ts";
export { CUSTOM_STAT_NAMESPACE, Histogram, Metric, MetricsStore } from "./metrics.ts";
export { capMemory, ModuleLoadError, ProxyWasmModule } from "./module.ts";
export { parsePairs, serializePairs } from "./pairs.ts";
export {
  Plugin,
  type PluginConfig,
  type PluginHealth,
  PluginStartError,
  type ResolvedPluginConfig,
} from "./plugin.ts";
export { RootContext } from "./root-context.ts";
export {
  type Clock,
  type LogSink,
  noUpstream,
  systemClock,
  systemTimers,
  type TimerHandle,
  type Timers,
  type TraceSink,
  type Upstream,
} from "./services.ts";
export { SharedDataStore, type SharedValue } from "./shared-data.ts";
export { SharedQueue, SharedQueueRegistry } from "./shared-queues.ts";
export { TcpStream, type TcpStreamEvents, type TcpStreamOptions } from "./tcp-stream.ts";
export {
  type AbiVersion,
  Action,
  BufferType,
  type BytesInput,
  type FailurePolicy,
  type HeaderInput,
  type HeaderPair,
  LOG_LEVEL_NAMES,
  type LocalReply,
  type LogEntry,
  LogLevel,
  type LogLevelName,
  MapType,
  MetricType,
  PeerType,
  Status,
  StreamType,
  WasiErrno,
} from "./types.ts";
export { Vm, type VmFailure } from "./vm.ts";
export {
  formatSignature,
  readImportSignatures,
  type Signature,
  sameSignature,
  WasmBinaryError,
} from "./wasm-binary.ts";
