/**
 * Unit-test helpers shared by the training plugins: start a built plugin in the host harness, and check
 * that a configuration is rejected (on_configure false) with a logged reason.
 */
import { PluginStartError } from "@proxy-wasm-ts/host";
import { type HarnessOptions, type PluginHarness, startPlugin, TestHost } from "@proxy-wasm-ts/host/testing";
import { buildPlugin } from "./plugin-build.ts";

/** Starts the plugin in `pluginDir` (built on first use) with `configuration` as its JSON configuration. */
export async function startBuiltPlugin(
  pluginDir: string,
  configuration: string,
  options: HarnessOptions = {},
): Promise<PluginHarness> {
  const wasm = await buildPlugin(pluginDir);
  return startPlugin(wasm, { name: "plugin-under-test", configuration, ...options });
}

/**
 * Starts the plugin with a configuration it must reject. Returns the log lines of the failed start, so a
 * test can assert the reason was logged; throws when the plugin accepted the configuration.
 */
export async function rejectedConfigurationLogs(pluginDir: string, configuration: string): Promise<string[]> {
  const wasm = await buildPlugin(pluginDir);
  const testHost = new TestHost();
  const module = await testHost.host.loadModule(wasm);
  try {
    testHost.host.startPlugin(module, { name: "plugin-under-test", configuration });
  } catch (err) {
    if (!(err instanceof PluginStartError)) throw err;
    return testHost.logEntries.map((e) => e.message);
  }
  throw new Error(`the plugin accepted the configuration ${configuration}`);
}
