/**
 * @proxy-wasm-ts/proxy: a local data plane that runs Envoy v3 bootstrap configs (the subset plugins use)
 * with Wasm filters on @proxy-wasm-ts/host.
 */
export type { OutputStreams } from "./access-log/access-logger.ts";
export { compileJsonFormat, compileTextFormat } from "./access-log/format.ts";
export { CoalescedOutput } from "./coalesced-output.ts";
export { parseBootstrap } from "./config/bootstrap.ts";
export { ConfigError } from "./config/config-error.ts";
export { loadBootstrap, parseBootstrapText } from "./config/load-config.ts";
export type * from "./config/model.ts";
export {
  type BoundListener,
  ListenError,
  LocalDataPlane,
  type ProxyOptions,
  type ReloadSummary,
  startProxy,
} from "./proxy.ts";
export { formatPluginLog } from "./wasm/plugin-runtime.ts";
export { PluginSlot } from "./wasm/plugin-slot.ts";
