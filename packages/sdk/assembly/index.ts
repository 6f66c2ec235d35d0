// @proxy-wasm-ts/sdk: write Proxy-Wasm (ABI v0.2.1) plugins for Envoy and Istio in AssemblyScript.
// A plugin's entry file also needs `export * from "@proxy-wasm-ts/sdk/assembly/exports";`.

import "./abort";

export { Action, BufferType, GrpcStatus, LogLevel, MapType, MetricType, PeerType, Status, StreamType } from "./abi/types";
export { lastStatus } from "./memory";
export { bytesEqual, concatBytes, isValidUtf8, toBytes, toText } from "./bytes";
export { asciiLowerCase, asciiLowerCaseBytes } from "./ascii";
export { BaseContext, HttpContext, RootContext, StreamContext } from "./context";
export { RootContextFactory, registerRootContext } from "./dispatcher";
export {
  HeaderList,
  HeaderMap,
  HeaderPair,
  SerializedHeaders,
  requestHeaders,
  requestTrailers,
  responseHeaders,
  responseTrailers,
} from "./headers";
export {
  Buffer,
  downstreamData,
  pluginConfiguration,
  requestBody,
  responseBody,
  upstreamData,
  vmConfiguration,
} from "./buffers";
export {
  Callout,
  HttpCallResponse,
  grpcInitialMetadata,
  grpcStatusMessage,
  grpcTrailingMetadata,
  httpCallResponseHeaders,
  httpCallResponseTrailers,
} from "./callout";
export {
  encodePath,
  getProperty,
  getPropertyBool,
  getPropertyInt,
  getPropertyMap,
  getPropertyText,
  setProperty,
  setPropertyText,
} from "./properties";
export * from "./attributes";
export { Counter, Gauge, Histogram, Metric, TaggedCounter, TaggedHistogram, taggedMetricName } from "./metrics";
export {
  SharedValue,
  dequeueSharedQueue,
  enqueueSharedQueue,
  getSharedData,
  registerSharedQueue,
  resolveSharedQueue,
  setSharedData,
} from "./shared";
export { callForeignFunction } from "./foreign";
export { LifeSpan, clearRouteCache, encodeSetEnvoyFilterStateArguments, setEnvoyFilterState } from "./envoy";
export { getLogLevel, log, logCritical, logDebug, logError, logInfo, logTrace, logUtf8, logWarn } from "./log";
export { currentTimeNanoseconds, setTickPeriod } from "./clock";
export {
  findJson,
  findJsonBytes,
  JsonFound,
  JsonKey,
  JsonKind,
  JsonValue,
  JsonWriter,
  jsonQuote,
  parseJson,
  parseJsonBytes,
} from "./json";
