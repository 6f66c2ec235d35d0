/**
 * Where a plugin's files live. `pwts build`, the SDK's `pwts-build`, `pwts push`, the local proxy and
 * every plugin's envoy.yaml rely on these paths.
 */

/** Entry file of a plugin, relative to its directory. */
export const PLUGIN_ENTRY = "assembly/index.ts";
/** The built module, relative to the plugin directory. */
export const PLUGIN_OUTPUT = "build/plugin.wasm";
