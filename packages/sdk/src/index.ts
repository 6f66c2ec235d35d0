/**
 * @proxy-wasm-ts/sdk, build side. The SDK itself is AssemblyScript under `assembly/`; this module
 * compiles plugins written with it (used by `pwts build` and the SDK's tests).
 */
export {
  ASCONFIG_PATH,
  CompileError,
  type CompileOptions,
  type CompileResult,
  compilePlugin,
  isOptimizeGoal,
  OPTIMIZE_GOALS,
  type OptimizeGoal,
} from "./compile.ts";
export { PLUGIN_ENTRY, PLUGIN_OUTPUT } from "./plugin-layout.ts";
