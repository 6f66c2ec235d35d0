/**
 * Runs the Wasm filters a bootstrap configures, on one `ProxyWasmHost`: loads code (file, inline or remote
 * with sha256), shares VMs by vm_id as Envoy does, starts each plugin (a failing on_configure stops start-up
 * with a config error), and prints plugin logs as Envoy does (`wasm log <name> <root_id>: <message>`).
 */
import {
  type LogEntry,
  LogLevel,
  ModuleLoadError,
  type Plugin,
  PluginStartError,
  ProxyWasmHost,
  type ProxyWasmModule,
} from "@proxy-wasm-ts/host";
import type { OutputStreams } from "../access-log/access-logger.ts";
import type { ClusterManager } from "../cluster/cluster-manager.ts";
import { ConfigError } from "../config/config-error.ts";
import type { NodeConfig, WasmPluginConfig } from "../config/model.ts";
import type { HttpFilterFactory } from "../http/http-filter.ts";
import { formatLogLine, LEVEL_NAMES } from "../log.ts";
import type { NetworkFilterFactory } from "../tcp/network-filter.ts";
import { ClusterCallouts } from "./cluster-callouts.ts";
import { loadPluginCode, sha256Hex } from "./plugin-code.ts";
import { PluginSlot } from "./plugin-slot.ts";
import { jsonToProperty } from "./stream-properties.ts";
import { WasmHttpFilter } from "./wasm-http-filter.ts";
import { WasmNetworkFilter } from "./wasm-network-filter.ts";

/** `[2024-12-15 06:24:57.672][25][warning][wasm] wasm log name root_id: message` */
export function formatPluginLog(entry: LogEntry, now: Date | number = Date.now()): string {
  let prefix = "";
  if (entry.pluginName) prefix += ` ${entry.pluginName}`;
  if (entry.rootId) prefix += ` ${entry.rootId}`;
  if (entry.vmId) prefix += ` ${entry.vmId}`;
  return formatLogLine(
    LEVEL_NAMES[entry.level] ?? "info",
    "wasm",
    `wasm log${prefix}: ${entry.message}`,
    now,
  );
}

/** How often a retired plugin checks whether its last stream has ended. */
const RETIRE_POLL_MS = 100;

export class PluginRuntime {
  readonly host: ProxyWasmHost;
  private readonly modules = new Map<string, ProxyWasmModule>();
  /** Modules of singleton Wasm services: loaded apart, so the host gives them VMs apart from the filters'. */
  private readonly serviceModules = new Map<string, ProxyWasmModule>();
  readonly plugins: Plugin[] = [];

  constructor(
    node: NodeConfig,
    private readonly clusters: ClusterManager,
    out: OutputStreams,
    logLevel: LogLevel = LogLevel.Info,
    /** Callback time limit in ms (0 = none, Envoy's behaviour); see the host's `callbackTimeoutMs`. */
    callbackTimeoutMs = 0,
  ) {
    const nodeValue = jsonToProperty({
      id: node.id,
      cluster: node.cluster,
      metadata: node.metadata,
      ...(node.locality ? { locality: node.locality } : {}),
    });
    this.host = new ProxyWasmHost({
      upstream: new ClusterCallouts(clusters),
      log: (entry) => out.stderr(formatPluginLog(entry)),
      logLevel,
      nodeProperties: { node: nodeValue, "xds.node": nodeValue },
      callbackTimeoutMs,
    });
  }

  /**
   * Starts a Wasm service (bootstrap_extensions, envoy.bootstrap.wasm), as
   * source/extensions/bootstrap/wasm/config.cc WasmServiceExtension::createWasm does:
   * - `singleton: true`: one plugin on the main thread's VM (getOrCreateThreadLocalPlugin with the main
   *   dispatcher), a VM apart from the workers' VMs the filters run in. Here its module is loaded apart, so
   *   the host gives it a VM of its own; services with the same code and vm_id share it, as they would on
   *   Envoy's main thread. Shared data and queues are keyed by vm_id, so it shares them with filters that use
   *   the same vm_id.
   * - `singleton: false`: one plugin per worker, on that worker's VM for the vm_id and code (shared with
   *   filters that have the same ones). This data plane has one worker, so that is one plugin started as the
   *   filters' plugins are.
   */
  startService(config: WasmPluginConfig, singleton: boolean, bytes: Uint8Array): Promise<Plugin> {
    return this.startFromBytes(
      config,
      bytes,
      sha256Hex(bytes),
      singleton ? this.serviceModules : this.modules,
    );
  }

  /** A plugin's module bytes (a file, inline, or fetched); a ConfigError naming the code when unavailable. */
  loadCode(config: WasmPluginConfig): Promise<Uint8Array> {
    return loadPluginCode(config.code, this.clusters);
  }

  /** Loads the code and starts the plugin; every failure is a ConfigError naming the filter. */
  async start(config: WasmPluginConfig, modules = this.modules): Promise<Plugin> {
    const bytes = await loadPluginCode(config.code, this.clusters);
    return this.startFromBytes(config, bytes, sha256Hex(bytes), modules);
  }

  /** Starts a filter's plugin in a slot its filter factory reads per stream (see `swapCode`). */
  async startFilter(config: WasmPluginConfig): Promise<PluginSlot> {
    const bytes = await loadPluginCode(config.code, this.clusters);
    const hash = sha256Hex(bytes);
    return new PluginSlot(await this.startFromBytes(config, bytes, hash, this.modules), config, hash);
  }

  /**
   * Reloads a filter's code and, when it changed, starts a plugin on it and puts it in the slot: new
   * streams get it, streams in flight finish on the old one, which is then shut down. Returns the new
   * module's size, or undefined when the code is unchanged. On a load or start error (a ConfigError) the
   * slot keeps its plugin.
   */
  async swapCode(slot: PluginSlot): Promise<{ size: number } | undefined> {
    const bytes = await loadPluginCode(slot.config.code, this.clusters);
    const hash = sha256Hex(bytes);
    if (hash === slot.codeHash) return undefined;
    const plugin = await this.startFromBytes(slot.config, bytes, hash, this.modules);
    const old = slot.plugin;
    slot.plugin = plugin;
    slot.codeHash = hash;
    this.retire(old);
    return { size: bytes.length };
  }

  /**
   * Takes a plugin out of service: once no stream of its root context is left, its root context is shut
   * down (unless a plugin still serving shares it: same VM and root_id), as Envoy destroys a filter config's
   * plugin handle when the last stream holding it ends. Its module is dropped when nothing runs it.
   */
  retire(plugin: Plugin): void {
    const index = this.plugins.indexOf(plugin);
    if (index >= 0) this.plugins.splice(index, 1);
    const root = plugin.root;
    const finish = () => {
      if (root.vm.contexts.values().some((c) => c !== root && c.rootContext === root)) {
        setTimeout(finish, RETIRE_POLL_MS).unref();
        return;
      }
      if (!this.plugins.some((p) => p.root === root)) {
        try {
          plugin.shutdown();
        } catch {
          // A plugin failing in on_done must not disturb the ones serving.
        }
      }
      if (!this.plugins.some((p) => p.module === plugin.module))
        for (const [hash, module] of this.modules) if (module === plugin.module) this.modules.delete(hash);
    };
    finish();
  }

  private async startFromBytes(
    config: WasmPluginConfig,
    bytes: Uint8Array,
    hash: string,
    modules: Map<string, ProxyWasmModule>,
  ): Promise<Plugin> {
    let module = modules.get(hash);
    if (!module) {
      try {
        module = await this.host.loadModule(bytes);
      } catch (err) {
        const reason = err instanceof ModuleLoadError ? err.message : String(err);
        throw new ConfigError(config.code.path, `cannot load Wasm module ${config.code.location}: ${reason}`);
      }
      modules.set(hash, module);
    }
    try {
      const plugin = this.host.startPlugin(module, {
        name: config.name,
        rootId: config.rootId,
        vmId: config.vmId,
        vmConfiguration: config.vmConfiguration,
        configuration: config.pluginConfiguration,
        environment: config.environment,
        failurePolicy: config.failurePolicy,
        reloadBackoffMs: config.reloadBackoffMs,
      });
      this.plugins.push(plugin);
      return plugin;
    } catch (err) {
      const reason = err instanceof PluginStartError ? err.message : (err as Error).message;
      throw new ConfigError(config.path, `plugin ${JSON.stringify(config.name)} failed to start: ${reason}`);
    }
  }

  /** The filter factory of a Wasm HTTP filter: each stream gets the slot's plugin of the moment. */
  httpFilterFactory(slot: PluginSlot): HttpFilterFactory {
    return (callbacks) => new WasmHttpFilter(slot.plugin, callbacks);
  }

  /** The filter factory of a Wasm network filter: each connection gets the slot's plugin of the moment. */
  networkFilterFactory(slot: PluginSlot): NetworkFilterFactory {
    return (callbacks) => new WasmNetworkFilter(slot.plugin, callbacks);
  }

  shutdown(): void {
    for (const p of this.plugins) {
      try {
        p.shutdown();
      } catch {
        // A plugin failing in on_done at shutdown must not stop the others from shutting down.
      }
    }
  }
}
