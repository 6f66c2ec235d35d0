/**
 * A plugin: one filter configuration (name, root_id, VM id, configurations, failure policy) bound to a root
 * context in a VM. It opens HTTP and TCP streams and applies Envoy's `failure_policy` when its VM fails:
 * FAIL_CLOSED (streams get a 503 / connections close), FAIL_OPEN (the plugin is bypassed), FAIL_RELOAD (a
 * fresh VM, at most once per backoff period; until then, closed).
 */

import { PwtsError } from "@proxy-wasm-ts/errors";
import { toBytes } from "./bytes.ts";
import type { Properties } from "./envoy/properties.ts";
import type { ProxyWasmHost } from "./host.ts";
import { HttpStream, type HttpStreamOptions } from "./http-stream.ts";
import type { ProxyWasmModule } from "./module.ts";
import { RootContext } from "./root-context.ts";
import { TcpStream, type TcpStreamOptions } from "./tcp-stream.ts";
import { type BytesInput, type FailurePolicy, LogLevel } from "./types.ts";
import type { Vm, VmFailure } from "./vm.ts";

/** What the embedder configures for a plugin (Envoy's `PluginConfig` + `VmConfig`). */
export interface PluginConfig {
  /** Plugin name (`plugin_name`); default "plugin". */
  name?: string;
  /** Root id (`plugin_root_id`); SDKs pick the root context factory by it. Default "". */
  rootId?: string;
  /** VM id: plugins with the same VM id and module share one VM (and shared data / queues). Default "". */
  vmId?: string;
  /** Bytes passed to `proxy_on_vm_start` (VM_CONFIGURATION). */
  vmConfiguration?: BytesInput;
  /** Bytes passed to `proxy_on_configure` (PLUGIN_CONFIGURATION). Envoy passes a Struct as JSON. */
  configuration?: BytesInput;
  /** Environment variables visible through WASI `environ_get`. */
  environment?: Readonly<Record<string, string>>;
  /** What happens when the VM fails; default FAIL_CLOSED (Envoy's default). */
  failurePolicy?: FailurePolicy;
  /** Minimum time between FAIL_RELOAD attempts; default 1000 ms (Envoy's `reload_config.backoff`). */
  reloadBackoffMs?: number;
  /** Plugin log level (`proxy_get_log_level`; lower levels are dropped). Default: the host's. */
  logLevel?: LogLevel;
  /** Plugin-scoped attributes (e.g. `xds.cluster_name`, `listener_direction`). */
  properties?: Properties;
}

/** The resolved configuration. */
export interface ResolvedPluginConfig {
  name: string;
  rootId: string;
  vmId: string;
  vmConfiguration: Uint8Array;
  configuration: Uint8Array;
  environment: Array<[string, string]>;
  failurePolicy: FailurePolicy;
  reloadBackoffMs: number;
  logLevel: LogLevel;
  properties: Properties;
}

/** A plugin failed to start (load error, `proxy_on_vm_start`/`proxy_on_configure` false or trapped). */
export class PluginStartError extends PwtsError {
  constructor(message: string, options?: ErrorOptions) {
    super("PWTS_ERR_PLUGIN_START", message, options);
  }
}

const POLICIES: readonly FailurePolicy[] = ["FAIL_CLOSED", "FAIL_OPEN", "FAIL_RELOAD"];

export function resolvePluginConfig(config: PluginConfig, defaultLogLevel: LogLevel): ResolvedPluginConfig {
  const failurePolicy = config.failurePolicy ?? "FAIL_CLOSED";
  if (!POLICIES.includes(failurePolicy)) {
    throw new PluginStartError(
      `failurePolicy must be one of ${POLICIES.join(", ")}, got ${String(failurePolicy)}`,
    );
  }
  const logLevel = config.logLevel ?? defaultLogLevel;
  if (!Number.isInteger(logLevel) || logLevel < LogLevel.Trace || logLevel > LogLevel.Critical) {
    throw new PluginStartError(
      `logLevel must be an integer 0 (trace) to 5 (critical), got ${String(logLevel)}`,
    );
  }
  return {
    name: config.name ?? "plugin",
    rootId: config.rootId ?? "",
    vmId: config.vmId ?? "",
    vmConfiguration: toBytes(config.vmConfiguration ?? ""),
    configuration: toBytes(config.configuration ?? ""),
    environment: Object.entries(config.environment ?? {}),
    failurePolicy,
    reloadBackoffMs: config.reloadBackoffMs ?? 1000,
    logLevel,
    properties: config.properties ?? {},
  };
}

/** How streams opened now behave. */
export type PluginHealth = "ok" | "fail-open" | "fail-closed";

export class Plugin {
  readonly host: ProxyWasmHost;
  readonly module: ProxyWasmModule;
  readonly config: ResolvedPluginConfig;
  root!: RootContext;
  /** Number of fresh VMs created by FAIL_RELOAD. */
  reloads = 0;
  /** The VM failures seen, oldest first. */
  readonly failures: VmFailure[] = [];
  private lastReloadMs = Number.NEGATIVE_INFINITY;
  private readonly onVmFailure = (failure: VmFailure) => {
    this.failures.push(failure);
    this.host.reportFailure(this, failure);
  };

  constructor(host: ProxyWasmHost, module: ProxyWasmModule, config: ResolvedPluginConfig) {
    this.host = host;
    this.module = module;
    this.config = config;
  }

  get vm(): Vm {
    return this.root.vm;
  }

  /** True when the plugin's VM has failed. */
  get failed(): boolean {
    return this.root.vm.failed;
  }

  /**
   * Binds to the VM for this plugin's (module, vm id, vm configuration) and runs the root context's
   * start-up; throws PluginStartError. A failed VM is never reused: the host then creates a fresh one,
   * which other plugins reloading onto the same VM id share.
   */
  start(): void {
    const vm = this.host.acquireVm(this.module, this.config);
    vm.failureListeners.push(this.onVmFailure);
    const existing = vm.rootContexts.get(this.config.rootId);
    if (existing && !existing.deleted) {
      // Same root_id in the same VM: Envoy reuses the root context and reconfigures it.
      this.root = existing;
      const error = existing.configure();
      if (error) throw new PluginStartError(error);
      return;
    }
    const root = new RootContext(vm, this);
    vm.rootContexts.set(this.config.rootId, root);
    this.root = root;
    const error = root.start();
    if (error) throw new PluginStartError(error);
  }

  /** Applies the failure policy (and FAIL_RELOAD) before a new stream opens. */
  health(): PluginHealth {
    if (this.root.deleted || this.root.awaitingDone) {
      throw new Error(`plugin ${this.config.name} was shut down: it cannot open new streams`);
    }
    if (!this.root.vm.failed) return "ok";
    switch (this.config.failurePolicy) {
      case "FAIL_OPEN":
        return "fail-open";
      case "FAIL_CLOSED":
        return "fail-closed";
      case "FAIL_RELOAD": {
        const now = Number(this.host.clock.monotonicNanoseconds() / 1_000_000n);
        if (now - this.lastReloadMs < this.config.reloadBackoffMs) return "fail-closed";
        this.lastReloadMs = now;
        try {
          this.start();
          this.reloads++;
          return "ok";
        } catch {
          return "fail-closed";
        }
      }
    }
  }

  /** Opens an HTTP stream (a stream context whose parent is this plugin's root context). */
  newHttpStream(options: HttpStreamOptions = {}): HttpStream {
    return new HttpStream(this, this.health(), options);
  }

  /** Opens a TCP connection context. */
  newTcpStream(options: TcpStreamOptions = {}): TcpStream {
    return new TcpStream(this, this.health(), options);
  }

  /** Runs `proxy_on_tick` now (ticks also fire from the host timers at the period the plugin set). */
  tick(): void {
    this.root.tick();
  }

  /** The tick period the plugin set (0 = none). */
  get tickPeriodMs(): number {
    return this.root.tickPeriodMs;
  }

  /** Runs `proxy_on_foreign_function(root, functionId, args)`. */
  callOnForeignFunction(functionId: number, args: BytesInput): void {
    this.root.callOnForeignFunction(functionId, toBytes(args));
  }

  /** Stops the plugin: ticks off, `proxy_on_done` and `proxy_on_delete` on its root context. */
  shutdown(): void {
    this.root.shutdown();
  }
}
