/**
 * @proxy-wasm-ts/host/testing: unit-test a compiled plugin from any SDK in a few lines.
 *
 *   const t = await startPlugin("plugin.wasm", { configuration: '{"header":"x-hello"}' });
 *   const http = t.http();
 *   http.requestHeaders([[":path", "/"]]);
 *   assert.equal(http.requestHeader("x-hello"), "world");
 *
 * Time is manual (`advance`, `tick`), callouts are recorded and answered by the test, logs, metrics, shared
 * data and queues are readable, and several plugins can share one VM.
 */

import { toBytes } from "../bytes.ts";
import type { GrpcCallout, HttpCallout } from "../callouts.ts";
import type { ForeignFunction } from "../envoy/foreign-functions.ts";
import type { PrometheusOptions } from "../envoy/prometheus.ts";
import type { Properties } from "../envoy/properties.ts";
import { ProxyWasmHost } from "../host.ts";
import type { Metric } from "../metrics.ts";
import { ProxyWasmModule } from "../module.ts";
import type { Plugin, PluginConfig } from "../plugin.ts";
import {
  type BytesInput,
  LOG_LEVEL_NAMES,
  type LogEntry,
  LogLevel,
  type LogLevelName,
  MetricType,
  Status,
} from "../types.ts";
import { ManualClock } from "./manual-clock.ts";
import { RecordingUpstream } from "./recording-upstream.ts";
import { TestHttpStream, TestTcpStream } from "./test-streams.ts";

export { MANUAL_CLOCK_EPOCH_MS, ManualClock } from "./manual-clock.ts";
export { RecordingUpstream } from "./recording-upstream.ts";
export {
  type RecordedHttpEvents,
  type RecordedTcpEvents,
  TestHttpStream,
  TestTcpStream,
} from "./test-streams.ts";

/** Options of `startPlugin`: the plugin's configuration plus the test host's. */
export interface HarnessOptions extends PluginConfig {
  /** Clusters callouts may target; default: any name is accepted. */
  clusters?: Iterable<string>;
  /** Node-level attributes (`node.id`, `node.metadata.*`, `xds.*`). */
  nodeProperties?: Properties;
  /** Extra foreign functions the plugin may call. */
  foreignFunctions?: Readonly<Record<string, ForeignFunction>>;
  /** Record a trace line per hostcall (see `traceLines`). */
  trace?: boolean;
  /** Linear-memory cap per VM. */
  memoryLimitBytes?: number;
  /**
   * Callback time limit in ms (default: none). A callback running longer is stopped, its VM fails, and the
   * test stream call (`requestHeaders`, ...) throws a CallbackTimeoutError naming the callback, so a
   * looping plugin fails its test instead of hanging the runner.
   */
  callbackTimeoutMs?: number;
}

const decoder = new TextDecoder();

/** The shared test host: clock, upstream, logs and trace of every plugin started from it. */
export class TestHost {
  readonly clock = new ManualClock();
  readonly upstream: RecordingUpstream;
  readonly logEntries: LogEntry[] = [];
  readonly traceLines: string[] = [];
  readonly host: ProxyWasmHost;

  constructor(options: HarnessOptions = {}) {
    this.upstream = new RecordingUpstream(options.clusters);
    this.host = new ProxyWasmHost({
      clock: this.clock,
      timers: this.clock,
      upstream: this.upstream,
      log: (entry) => this.logEntries.push(entry),
      trace: options.trace ? (line) => this.traceLines.push(line) : undefined,
      logLevel: LogLevel.Trace,
      nodeProperties: options.nodeProperties,
      foreignFunctions: options.foreignFunctions,
      memoryLimitBytes: options.memoryLimitBytes,
      callbackTimeoutMs: options.callbackTimeoutMs,
      keepHistogramValues: true,
    });
  }
}

/** A started plugin in a test. */
export class PluginHarness {
  readonly testHost: TestHost;
  readonly plugin: Plugin;

  constructor(testHost: TestHost, plugin: Plugin) {
    this.testHost = testHost;
    this.plugin = plugin;
  }

  get host(): ProxyWasmHost {
    return this.testHost.host;
  }
  get clock(): ManualClock {
    return this.testHost.clock;
  }
  get upstream(): RecordingUpstream {
    return this.testHost.upstream;
  }
  get traceLines(): string[] {
    return this.testHost.traceLines;
  }

  /** Starts another plugin (another root context, or the same root id reconfigured) on the same host. */
  startPlugin(config: PluginConfig = {}): PluginHarness {
    const plugin = this.host.startPlugin(this.plugin.module, { vmId: this.plugin.config.vmId, ...config });
    return new PluginHarness(this.testHost, plugin);
  }

  /** Opens an HTTP stream with optional stream attributes (`source.address`, ...). */
  http(properties?: Properties): TestHttpStream {
    const wrapper = new TestHttpStream();
    return wrapper.bind(this.plugin.newHttpStream({ properties, events: wrapper.handlers() }));
  }

  /** Opens a TCP connection context (call `newConnection()` on it next). */
  tcp(properties?: Properties): TestTcpStream {
    const wrapper = new TestTcpStream();
    return wrapper.bind(this.plugin.newTcpStream({ properties, events: wrapper.handlers() }));
  }

  /** Log messages of this plugin, optionally of one level. */
  logs(level?: LogLevel | LogLevelName): string[] {
    const l = typeof level === "string" ? LOG_LEVEL_NAMES.indexOf(level) : level;
    return this.testHost.logEntries
      .filter((e) => e.pluginName === this.plugin.config.name && e.rootId === this.plugin.config.rootId)
      .filter((e) => l === undefined || e.level === l)
      .map((e) => e.message);
  }

  /** Runs `proxy_on_tick` once, now. */
  tick(): void {
    this.plugin.tick();
  }

  /** Moves the manual clock (ticks and callout timeouts fire as they come due). */
  advance(ms: number): void {
    this.clock.advance(ms);
  }

  get tickPeriodMs(): number {
    return this.plugin.tickPeriodMs;
  }

  /** HTTP callouts made so far (all plugins of this host). */
  get httpCalls(): HttpCallout[] {
    return this.upstream.httpCalls;
  }
  get grpcCalls(): GrpcCallout[] {
    return this.upstream.grpcCalls;
  }

  /**
   * Makes calls to an existing `cluster` fail to start: `proxy_http_call` ("http"), `proxy_grpc_call` /
   * `proxy_grpc_stream` ("grpc") or both answer INTERNAL_FAILURE and nothing is dispatched, as when Envoy's
   * async client cannot start the call. `t.upstream.allow(cluster)` undoes it.
   */
  failDispatch(cluster: string, kind: "http" | "grpc" | "both" = "both"): void {
    this.upstream.failDispatch(cluster, kind);
  }

  /** The stat named `name` by the plugin, of the given type (any type if omitted). */
  metric(name: string, type?: MetricType): Metric | undefined {
    return this.host.metrics.find(name, type);
  }
  counter(name: string): bigint | undefined {
    return this.metric(name, MetricType.Counter)?.value;
  }
  gauge(name: string): bigint | undefined {
    return this.metric(name, MetricType.Gauge)?.value;
  }
  /** Values recorded in a histogram, in order. */
  histogram(name: string): bigint[] | undefined {
    return this.metric(name, MetricType.Histogram)?.histogram?.values;
  }
  prometheus(options?: PrometheusOptions): string {
    return this.host.prometheus(options);
  }

  /** A value the plugin stored from its root context (`set_property`, `set_envoy_filter_state`), as UTF-8. */
  filterState(key: string): string | undefined {
    const state = this.plugin.root.filterState;
    const entry = state.get(key) ?? state.get(`wasm.${key}`);
    return entry ? decoder.decode(entry.value) : undefined;
  }

  /** Shared data of this plugin's VM id, as UTF-8 (or undefined). */
  sharedData(key: string): string | undefined {
    const v = this.host.sharedData.get(this.plugin.config.vmId, key);
    return v ? decoder.decode(v.value) : undefined;
  }
  setSharedData(key: string, value: BytesInput): void {
    this.host.sharedData.set(this.plugin.config.vmId, key, toBytes(value), 0);
  }

  /** Items waiting in a queue of this VM id (undefined if not registered). */
  queueItems(name: string, vmId = this.plugin.config.vmId): Uint8Array[] | undefined {
    return this.host.queues.resolve(vmId, name)?.items;
  }
  /** Enqueues an item from outside (the registering root context gets `proxy_on_queue_ready`). */
  enqueue(name: string, value: BytesInput, vmId = this.plugin.config.vmId): boolean {
    const queue = this.host.queues.resolve(vmId, name);
    if (!queue) return false;
    return this.host.queues.enqueue(queue.token, toBytes(value)) === Status.Ok;
  }

  /** Runs the plugin's `proxy_on_foreign_function`. */
  callOnForeignFunction(functionId: number, args: BytesInput): void {
    this.plugin.callOnForeignFunction(functionId, args);
  }
  /** Registers a foreign function the plugin can call. */
  registerForeignFunction(name: string, fn: ForeignFunction): void {
    this.host.foreignFunctions.set(name, fn);
  }

  /** Shuts the plugin down (`proxy_on_done` + `proxy_on_delete` on its root context). */
  shutdown(): void {
    this.plugin.shutdown();
  }
}

/**
 * Starts a plugin from `.wasm` bytes, a path or a loaded module, on a fresh test host (manual clock,
 * recording upstream, all log levels kept). Throws ModuleLoadError / PluginStartError like the host does.
 */
export async function startPlugin(
  source: Uint8Array | string | ProxyWasmModule,
  options: HarnessOptions = {},
): Promise<PluginHarness> {
  const testHost = new TestHost(options);
  const module = source instanceof ProxyWasmModule ? source : await testHost.host.loadModule(source);
  const {
    clusters: _c,
    nodeProperties: _n,
    foreignFunctions: _f,
    trace: _t,
    memoryLimitBytes: _m,
    callbackTimeoutMs: _l,
    ...config
  } = options;
  return new PluginHarness(testHost, testHost.host.startPlugin(module, config));
}
