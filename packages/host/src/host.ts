/**
 * The host: what one proxy process shares between its plugins (clock, timers, upstream, logs, metrics,
 * shared data, shared queues, foreign functions, node attributes) and the VMs it runs. Plugins with the same
 * VM id, module and VM configuration share a VM, as in Envoy.
 */
import { bufferImports } from "./abi/buffers.ts";
import { ffiImports } from "./abi/ffi.ts";
import { grpcImports } from "./abi/grpc.ts";
import { headerImports } from "./abi/headers.ts";
import { httpCallImports } from "./abi/http-call.ts";
import { lifecycleImports } from "./abi/lifecycle.ts";
import { logImports } from "./abi/log.ts";
import { metricImports } from "./abi/metrics.ts";
import { propertyImports } from "./abi/properties.ts";
import { queueImports } from "./abi/queues.ts";
import { sharedDataImports } from "./abi/shared-data.ts";
import { streamImports } from "./abi/stream.ts";
import { timeImports } from "./abi/time.ts";
import { libcImports, wasiImports } from "./abi/wasi.ts";
import { guardImports } from "./callback-guard.ts";
import { type Context, VmContext } from "./context.ts";
import { envoyForeignFunctions, type ForeignFunction } from "./envoy/foreign-functions.ts";
import { type PrometheusOptions, renderPrometheus } from "./envoy/prometheus.ts";
import type { Properties } from "./envoy/properties.ts";
import { MetricsStore } from "./metrics.ts";
import { ModuleLoadError, ProxyWasmModule } from "./module.ts";
import {
  Plugin,
  type PluginConfig,
  PluginStartError,
  type ResolvedPluginConfig,
  resolvePluginConfig,
} from "./plugin.ts";
import {
  type Clock,
  type LogSink,
  noUpstream,
  systemClock,
  systemTimers,
  type Timers,
  type TraceSink,
  type Upstream,
} from "./services.ts";
import { SharedDataStore } from "./shared-data.ts";
import { SharedQueueRegistry } from "./shared-queues.ts";
import { traceImports } from "./trace.ts";
import { LOG_LEVEL_NAMES, LogLevel } from "./types.ts";
import { ProcExit, Vm, type VmFailure } from "./vm.ts";

export interface HostOptions {
  clock?: Clock;
  timers?: Timers;
  /** Where callouts go; default: no clusters (every callout is BAD_ARGUMENT). */
  upstream?: Upstream;
  /** Receives plugin logs; default: stderr lines like Envoy's `[wasm] [info] ...`. */
  log?: LogSink;
  /** Trace every hostcall (`[vm->host] ...`) to this sink; off by default (no overhead). */
  trace?: TraceSink;
  /** Default plugin log level; default Info (Envoy's default). */
  logLevel?: LogLevel;
  /** Attributes of the proxy itself: `node.id`, `node.metadata`, `xds.*`, ... */
  nodeProperties?: Properties;
  /** Extra foreign functions (by name), added to Envoy's. */
  foreignFunctions?: Readonly<Record<string, ForeignFunction>>;
  /** Extra filter-state keys `set_envoy_filter_state` accepts. */
  filterStateKeys?: readonly string[];
  /** Cap on each VM's linear memory; default 1 GiB (cpp-host's limit). */
  memoryLimitBytes?: number;
  /**
   * Callback time limit in ms: a callback running longer is stopped and its VM failed (the failure policy
   * answers). Envoy has no such limit; default 0 = none. Modules loaded by this host are instrumented for it.
   */
  callbackTimeoutMs?: number;
  /** Keep every value recorded in a histogram (the test harness reads them back); default false. */
  keepHistogramValues?: boolean;
}

const stderrLog: LogSink = (entry) => {
  process.stderr.write(`[wasm] [${LOG_LEVEL_NAMES[entry.level]}] ${entry.pluginName}: ${entry.message}\n`);
};

export class ProxyWasmHost {
  readonly clock: Clock;
  readonly timers: Timers;
  upstream: Upstream;
  readonly metrics: MetricsStore;
  readonly sharedData = new SharedDataStore();
  readonly queues = new SharedQueueRegistry();
  readonly foreignFunctions: Map<string, ForeignFunction>;
  readonly nodeProperties: Properties;
  readonly logLevel: LogLevel;
  readonly memoryLimitBytes: number;
  readonly callbackTimeoutMs: number;
  private readonly logSink: LogSink;
  private readonly traceSink: TraceSink | undefined;
  private readonly vms = new WeakMap<ProxyWasmModule, Map<string, Vm>>();
  private readonly decoder = new TextDecoder();

  constructor(options: HostOptions = {}) {
    this.metrics = new MetricsStore(options.keepHistogramValues);
    this.clock = options.clock ?? systemClock;
    this.timers = options.timers ?? systemTimers;
    this.upstream = options.upstream ?? noUpstream;
    this.logSink = options.log ?? stderrLog;
    this.traceSink = options.trace;
    this.logLevel = options.logLevel ?? LogLevel.Info;
    this.nodeProperties = options.nodeProperties ?? {};
    this.memoryLimitBytes = options.memoryLimitBytes ?? 1 << 30;
    this.callbackTimeoutMs = options.callbackTimeoutMs ?? 0;
    this.foreignFunctions = envoyForeignFunctions(options.filterStateKeys);
    for (const [name, fn] of Object.entries(options.foreignFunctions ?? {}))
      this.foreignFunctions.set(name, fn);
  }

  /** Loads (compiles and checks) a plugin module from bytes or a path; throws ModuleLoadError. */
  loadModule(source: Uint8Array | string): Promise<ProxyWasmModule> {
    return ProxyWasmModule.load(source, {
      memoryLimitBytes: this.memoryLimitBytes,
      callbackTimeoutMs: this.callbackTimeoutMs,
    });
  }

  /**
   * Starts a plugin: binds it to a (shared or new) VM and runs `proxy_on_context_create`,
   * `proxy_on_vm_start` and `proxy_on_configure`. Throws PluginStartError with a clear message when the
   * module cannot start or the plugin rejects its configuration.
   */
  startPlugin(module: ProxyWasmModule, config: PluginConfig = {}): Plugin {
    const plugin = new Plugin(this, module, resolvePluginConfig(config, this.logLevel));
    plugin.start();
    return plugin;
  }

  /** Loads a module and starts one plugin on it. */
  async createPlugin(
    source: Uint8Array | string | ProxyWasmModule,
    config: PluginConfig = {},
  ): Promise<Plugin> {
    const module = source instanceof ProxyWasmModule ? source : await this.loadModule(source);
    return this.startPlugin(module, config);
  }

  /** Plugin metrics as Envoy's `/stats/prometheus` prints them. */
  prometheus(options?: PrometheusOptions): string {
    return renderPrometheus(this.metrics, options);
  }

  /** The VM for a plugin: the shared one for (module, vm id, vm configuration), or a new one if that failed. */
  acquireVm(module: ProxyWasmModule, config: ResolvedPluginConfig): Vm {
    let byKey = this.vms.get(module);
    if (!byKey) {
      byKey = new Map();
      this.vms.set(module, byKey);
    }
    const key = `${config.vmId}\0${Buffer.from(config.vmConfiguration).toString("hex")}`;
    const existing = byKey.get(key);
    if (existing && !existing.failed) return existing;
    const vm = this.createVm(module, config);
    byKey.set(key, vm);
    return vm;
  }

  private createVm(module: ProxyWasmModule, config: ResolvedPluginConfig): Vm {
    const vm = new Vm(module, config.vmId, config.environment, (err) => this.reportEmbedderError(err));
    const vmContext = new VmContext(vm, this);
    vm.current = vmContext;
    const trace = this.traceSink;
    vm.trace = trace;
    const wrap = <T extends Record<string, (...args: never[]) => unknown>>(name: string, fns: T) =>
      // biome-ignore lint/suspicious/noExplicitAny: import objects are untyped at this boundary
      trace ? traceImports(name, fns as any, trace) : fns;
    const env = {
      ...logImports(vm, this),
      ...timeImports(vm, this),
      ...lifecycleImports(vm),
      ...bufferImports(vm),
      ...headerImports(vm),
      ...streamImports(vm),
      ...httpCallImports(vm),
      ...grpcImports(vm),
      ...sharedDataImports(vm, this),
      ...queueImports(vm, this),
      ...metricImports(vm, this),
      ...propertyImports(vm),
      ...ffiImports(vm, this),
      ...libcImports(),
    };
    const wasi = wasiImports(vm, this);
    const imports = {
      env: wrap("env", env),
      wasi_snapshot_preview1: wrap("wasi_snapshot_preview1", wasi),
      wasi_unstable: wrap("wasi_unstable", wasi),
      ...(module.callbackTimeoutMs > 0 ? guardImports(() => vm.checkDeadline()) : {}),
    } as unknown as WebAssembly.Imports;
    let instance: WebAssembly.Instance;
    try {
      instance = new WebAssembly.Instance(module.module, imports);
    } catch (err) {
      // A trap in an AssemblyScript start section, or a link error.
      if (err instanceof ProcExit && err.code === 0)
        throw new PluginStartError("the module exited during instantiation");
      throw new PluginStartError(`cannot instantiate the module: ${(err as Error).message}`);
    }
    try {
      vm.attach(instance);
    } catch (err) {
      throw new ModuleLoadError((err as Error).message);
    }
    this.runStartup(vm, vmContext);
    return vm;
  }

  /** cpp-host's start-up: `_initialize` then `main` (if exported), else `_start`. */
  private runStartup(vm: Vm, ctx: Context): void {
    const ex = vm.instance.exports as Record<string, unknown>;
    const call = (name: string) => {
      const fn = ex[name];
      if (typeof fn !== "function") return;
      vm.invoke(ctx, name, fn as () => unknown);
    };
    if (typeof ex._initialize === "function") {
      call("_initialize");
      if (!vm.failed) call("main");
    } else {
      call("_start");
      // `_start` of a command-style module ends with proc_exit(0): a normal end of start-up.
      const failure = vm.failure;
      if (failure && failure.error instanceof ProcExit && failure.error.code === 0) vm.failure = null;
    }
    if (vm.failed) {
      throw new PluginStartError(
        `module start-up (${vm.failure!.callback}) failed: ${vm.failure!.error.message}`,
      );
    }
  }

  /** Log level in force for a context (its plugin's, or the host's outside plugins). */
  logLevelOf(ctx: Context): LogLevel {
    return ctx.rootContext?.plugin.config.logLevel ?? this.logLevel;
  }

  /** Delivers a plugin log line to the sink if at or above the plugin's level. */
  emitLog(ctx: Context, level: LogLevel, message: Uint8Array): void {
    if (level < this.logLevelOf(ctx)) return;
    const config = ctx.rootContext?.plugin.config;
    this.logSink({
      level,
      message: this.decoder.decode(message),
      pluginName: config?.name ?? "",
      rootId: config?.rootId ?? "",
      vmId: ctx.vm.vmId,
    });
  }

  /** Logs an exception thrown by embedder code the host called on a plugin's behalf (it is not rethrown). */
  reportEmbedderError(error: unknown): void {
    this.logSink({
      level: LogLevel.Critical,
      message: `embedder callback failed: ${error instanceof Error ? error.message : String(error)}`,
      pluginName: "",
      rootId: "",
      vmId: "",
    });
  }

  /** Logs a VM failure (Envoy logs the crash at critical level). */
  reportFailure(plugin: Plugin, failure: VmFailure): void {
    this.logSink({
      level: LogLevel.Critical,
      message: `VM failed in ${failure.callback}: ${failure.error.message}`,
      pluginName: plugin.config.name,
      rootId: plugin.config.rootId,
      vmId: plugin.config.vmId,
    });
  }
}
