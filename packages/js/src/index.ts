/**
 * @proxy-wasm-ts/js: write Proxy-Wasm plugins for Envoy in plain TypeScript. `pwts build` bundles the
 * plugin with its npm dependencies, joins it to the QuickJS engine and snapshots the started VM into
 * one build/plugin.wasm.
 *
 * ```ts
 * import { definePlugin } from "@proxy-wasm-ts/js";
 *
 * definePlugin({
 *   onRequestHeaders(request) {
 *     request.headers.set("x-hello", "world");
 *   },
 * });
 * ```
 */
import { installConsole } from "./log.ts";
import { installRandom } from "./random.ts";
import { installTextEncoding } from "./text-encoding.ts";

installTextEncoding();
installConsole();
installRandom();

export { HostCallError, LogLevel, Status } from "./abi.ts";
export { BodyChunk } from "./body.ts";
export {
  CalloutError,
  type CalloutFailure,
  type CalloutRequest,
  CalloutResponse,
  type GrpcCallRequest,
  GrpcError,
  grpcCall,
  httpCall,
  ResponseHeaders,
} from "./callouts.ts";
export { HttpRequest, HttpResponse, HttpStream, Plugin, TcpConnection } from "./contexts.ts";
export { callForeignFunction, clearRouteCache, LifeSpan, setEnvoyFilterState } from "./foreign.ts";
export {
  GrpcStream,
  type GrpcStreamHandlers,
  type GrpcStreamRequest,
  openGrpcStream,
} from "./grpc-stream.ts";
export type { HeaderList, HeadersInit } from "./header-pairs.ts";
export { HeaderMap } from "./headers.ts";
export { LocalReply, type LocalReplyInit, respond } from "./local-reply.ts";
export { log } from "./log.ts";
export { counter, gauge, histogram, Metric } from "./metrics.ts";
export { definePlugin, type HandlerResult, type PluginDefinition } from "./plugin.ts";
export { getProperty, getPropertyNumber, getPropertyText, setProperty } from "./properties.ts";
export { randomBytes } from "./random.ts";
export { type SharedValue, sharedData, sharedQueue } from "./shared-data.ts";
export { decodeUtf8, encodeUtf8 } from "./text-encoding.ts";
export { now } from "./time.ts";
