/**
 * The local data plane as a whole: builds clusters, plugins, listeners and the admin server from a
 * validated bootstrap, starts them, and stops them (gracefully with drain, or at once).
 */
import { PwtsError } from "@proxy-wasm-ts/errors";
import type { LogLevel } from "@proxy-wasm-ts/host";
import { AccessLogger, type OutputStreams } from "./access-log/access-logger.ts";
import { ActiveList } from "./active-list.ts";
import { AdminServer } from "./admin/admin-server.ts";
import { ClusterManager } from "./cluster/cluster-manager.ts";
import { CoalescedOutput, processStreams } from "./coalesced-output.ts";
import { ConfigError } from "./config/config-error.ts";
import { chainClusterReferences, type FilterChainConfig } from "./config/filter-chain-config.ts";
import type {
  AccessLogConfig,
  BootstrapConfig,
  ListenerConfig,
  WasmPluginConfig,
  WasmServiceConfig,
} from "./config/model.ts";
import type { HttpFilterFactory } from "./http/http-filter.ts";
import { HttpListener } from "./http/http-listener.ts";
import { HttpListenerStats } from "./http/http-listener-stats.ts";
import { RouteTable } from "./http/route-table.ts";
import { ActiveListener } from "./listener/active-listener.ts";
import { planListenerReload } from "./listener-reload.ts";
import { formatLogLine } from "./log.ts";
import { StatStore } from "./stats/stat-store.ts";
import { TagProducer } from "./stats/tag-extraction.ts";
import type { NetworkFilterFactory } from "./tcp/network-filter.ts";
import { TcpListener } from "./tcp/tcp-listener.ts";
import { PluginRuntime } from "./wasm/plugin-runtime.ts";
import type { PluginSlot } from "./wasm/plugin-slot.ts";

export interface ProxyOptions {
  /**
   * Where stdout/stderr access logs and plugin logs go; default the process streams, with the lines of one
   * event-loop turn written at once (coalesced-output.ts). Given streams get each line as it is written.
   */
  output?: OutputStreams;
  /** Progress lines ("listener ... on 127.0.0.1:10000"); default none. */
  progress?: (line: string) => void;
  /** Plugin log level; default info (Envoy's default). */
  pluginLogLevel?: LogLevel;
  /**
   * Callback time limit in ms: a plugin callback running longer is stopped, its VM failed and its failure
   * policy applied. Envoy has no such limit (its watchdog aborts the process); default 0 = none.
   */
  callbackTimeoutMs?: number;
}

/** A listener that is serving: its socket's server, its bound address and its Wasm filters' slots. */
interface ServingListener {
  server: HttpListener | TcpListener | ActiveListener;
  bound: BoundListener;
  slots: PluginSlot[];
}

/** What `reload` did, by listener name. */
export interface ReloadSummary {
  unchanged: string[];
  replaced: string[];
  added: string[];
  removed: string[];
}

/**
 * A listener that failed to bind (port in use, address not available). `systemCode` is the socket error's
 * code (EADDRINUSE, ...); `code` is PWTS_ERR_LISTEN, as for every error of ours.
 */
export class ListenError extends PwtsError {
  constructor(
    readonly listener: string,
    readonly address: string,
    readonly systemCode: string,
  ) {
    super(
      "PWTS_ERR_LISTEN",
      systemCode === "EADDRINUSE"
        ? `listener ${listener}: address ${address} is already in use`
        : `listener ${listener}: cannot listen on ${address}: ${systemCode}`,
    );
  }
}

export interface BoundListener {
  name: string;
  kind: "http" | "tcp";
  host: string;
  port: number;
}

/** How long a listener replaced by a reload lets its requests in flight finish. */
const RELOAD_DRAIN_MS = 5000;

export class LocalDataPlane {
  readonly stats = new StatStore();
  readonly clusters: ClusterManager;
  readonly plugins: PluginRuntime;
  readonly tags: TagProducer;
  readonly listeners: BoundListener[] = [];
  admin: { host: string; port: number } | undefined;
  private readonly servers: Array<HttpListener | TcpListener | ActiveListener> = [];
  private readonly serving = new Map<string, ServingListener>();
  private adminServer: AdminServer | undefined;
  private readonly accessLoggers: AccessLogger[] = [];
  private state: "PRE_INITIALIZING" | "LIVE" | "DRAINING" = "PRE_INITIALIZING";
  private readonly output: OutputStreams;
  private readonly progress: (line: string) => void;

  constructor(
    /** The configuration in force (replaced by `reload`). */
    public config: BootstrapConfig,
    options: ProxyOptions = {},
  ) {
    this.output = options.output ?? processStreams();
    const progress = options.progress;
    // Progress lines go straight to the embedder (pwts writes them to stderr): log lines written before
    // one go out first.
    this.progress = progress
      ? (line) => {
          this.flushOutput();
          progress(line);
        }
      : () => {};
    this.clusters = new ClusterManager(config.clusters, this.stats);
    this.plugins = new PluginRuntime(
      config.node,
      this.clusters,
      this.output,
      options.pluginLogLevel,
      options.callbackTimeoutMs,
    );
    this.tags = new TagProducer(config.statsTags, config.useAllDefaultTags);
  }

  private loggers(configs: AccessLogConfig[], path: string): AccessLogger[] {
    return configs.map((c, i) => {
      try {
        const logger = new AccessLogger(c, this.output);
        this.accessLoggers.push(logger);
        return logger;
      } catch (err) {
        throw new ConfigError(`${path}.access_log[${i}]`, (err as Error).message);
      }
    });
  }

  /** One filter chain's terminal filter: its HTTP connection manager or its tcp_proxy. */
  private async buildChain(
    l: ListenerConfig,
    chain: Pick<ListenerConfig, "networkWasmFilters" | "http" | "tcp">,
    listenerLogs: AccessLogger[],
    slots: PluginSlot[],
  ): Promise<HttpListener | TcpListener> {
    const slot = async (p: WasmPluginConfig) => {
      const started = await this.plugins.startFilter(p);
      slots.push(started);
      return started;
    };
    if (chain.http) {
      const http = chain.http;
      const factories: HttpFilterFactory[] = [];
      for (const p of http.wasmFilters) factories.push(this.plugins.httpFilterFactory(await slot(p)));
      return new HttpListener({
        listener: { name: l.name, direction: l.trafficDirection },
        config: http,
        routeTable: new RouteTable(http.routeTable),
        clusters: this.clusters,
        stats: this.stats,
        listenerStats: new HttpListenerStats(this.stats, http.statPrefix),
        accessLogs: [...this.loggers(http.accessLogs, http.path), ...listenerLogs],
        filterFactories: factories,
        activeStreams: new ActiveList(),
        log: (level, component, message) => this.output.stderr(formatLogLine(level, component, message)),
      });
    }
    const tcp = chain.tcp!;
    const factories: NetworkFilterFactory[] = [];
    for (const p of chain.networkWasmFilters)
      factories.push(this.plugins.networkFilterFactory(await slot(p)));
    return new TcpListener({
      listener: { name: l.name, direction: l.trafficDirection },
      config: tcp,
      clusters: this.clusters,
      stats: this.stats,
      accessLogs: [...this.loggers(tcp.accessLogs, tcp.path), ...listenerLogs],
      filterFactories: factories,
      bufferLimitBytes: l.bufferLimitBytes,
    });
  }

  private async buildListener(
    l: ListenerConfig,
    slots: PluginSlot[],
  ): Promise<HttpListener | TcpListener | ActiveListener> {
    const listenerLogs = this.loggers(l.accessLogs, l.path);
    const fc = l.filterChains;
    if (!fc) return this.buildChain(l, l, listenerLogs, slots);
    // The bootstrap reader checked the first chain's cluster names; the other chains' are checked here.
    const clusterNames = new Set(this.config.clusters.map((c) => c.name));
    const build = async (chain: FilterChainConfig) => {
      for (const ref of chainClusterReferences(chain))
        if (!clusterNames.has(ref.cluster))
          throw new ConfigError(
            ref.path,
            `cluster ${JSON.stringify(ref.cluster)} is not defined in static_resources.clusters`,
          );
      const handler = await this.buildChain(l, chain, listenerLogs, slots);
      if (handler instanceof HttpListener) handler.startHandOff();
      return { config: chain, handler };
    };
    const chains = [];
    for (const c of fc.chains) chains.push(await build(c));
    const defaultChain = fc.defaultChain ? await build(fc.defaultChain) : undefined;
    return new ActiveListener({
      listener: { name: l.name, direction: l.trafficDirection },
      config: fc,
      chains,
      ...(defaultChain ? { defaultChain } : {}),
      stats: this.stats,
      accessLogs: listenerLogs,
    });
  }

  /**
   * A Wasm service as bootstrap/wasm/config.cc WasmServiceExtension::createWasm starts it: code that cannot
   * be read stops start-up (createWasm returns false and the extension throws), while a VM that fails to load
   * or start, or a plugin that fails to configure, leaves Envoy running without the service (the callback
   * gets no Wasm and logs "Unable to create Wasm service NAME", critical, or error with FAIL_OPEN).
   */
  private async startWasmService(service: WasmServiceConfig): Promise<void> {
    const name = service.plugin.name || service.plugin.rootId;
    const code = await this.plugins.loadCode(service.plugin);
    try {
      await this.plugins.startService(service.plugin, service.singleton, code);
    } catch (err) {
      const level = service.plugin.failurePolicy === "FAIL_OPEN" ? "error" : "critical";
      const reason = err instanceof ConfigError ? err.reason : (err as Error).message;
      this.output.stderr(formatLogLine(level, "wasm", `Unable to create Wasm service ${name}: ${reason}`));
      return;
    }
    this.progress(`wasm service ${name} started${service.singleton ? " (singleton)" : ""}`);
  }

  /** Resolves clusters, starts plugins, binds listeners and admin. Throws ConfigError or ListenError. */
  async start(): Promise<void> {
    try {
      await this.clusters.initialize();
      this.progress(`clusters: ${this.config.clusters.length} initialized`);
      // Bootstrap extensions start before the listeners take connections (server.cc InstanceImpl
      // initialization; a Wasm service's plugin is configured by then).
      for (const s of this.config.wasmServices ?? []) await this.startWasmService(s);
      for (const l of this.config.listeners) {
        const slots: PluginSlot[] = [];
        const server = await this.buildListener(l, slots);
        const plugins = l.http?.wasmFilters.length ?? l.networkWasmFilters.length;
        if (plugins > 0) this.progress(`listener ${l.name}: ${plugins} wasm filter(s) started`);
        await this.bind(l, server, slots, l.address.port);
      }
      if (this.config.admin) {
        const admin = new AdminServer({
          stats: this.stats,
          tags: this.tags,
          clusters: this.clusters,
          configDocument: this.config.document,
          state: () => this.state,
          extraPrometheus: () => this.plugins.host.prometheus({ statsTags: this.promTags() }),
          extraStats: () => this.plugins.host.metrics.all(),
        });
        const { host, port } = this.config.admin.address;
        try {
          await admin.listen(host, port);
        } catch (err) {
          throw new ListenError(
            "admin",
            `${host}:${port}`,
            (err as NodeJS.ErrnoException).code ?? String(err),
          );
        }
        this.adminServer = admin;
        this.admin = admin.address();
        this.progress(`admin on ${this.admin.host}:${this.admin.port}`);
      }
      this.stats.gauge("server.live").set(1);
      this.state = "LIVE";
    } catch (err) {
      await this.close();
      throw err;
    }
  }

  /** Binds a built listener to its address (`port` may differ from the config's: a reload keeps the port). */
  private async bind(
    l: ListenerConfig,
    server: HttpListener | TcpListener | ActiveListener,
    slots: PluginSlot[],
    port: number,
  ): Promise<void> {
    try {
      await server.listen(l.address.host, port);
    } catch (err) {
      throw new ListenError(
        l.name,
        `${l.address.host}:${port}`,
        (err as NodeJS.ErrnoException).code ?? String(err),
      );
    }
    this.servers.push(server);
    const a = server.address();
    const kind = l.http ? "http" : "tcp";
    const bound: BoundListener = { name: l.name, kind, host: a.host, port: a.port };
    this.listeners.push(bound);
    this.serving.set(l.name, { server, bound, slots });
    this.progress(`listener ${l.name} (${kind}) on ${a.host}:${a.port}`);
  }

  /** The Wasm filter slots of every serving listener (a dev server swaps their plugins' code). */
  pluginSlots(): PluginSlot[] {
    return [...this.serving.values()].flatMap((s) => s.slots);
  }

  /** Stops a serving listener: its socket closes now, its requests in flight finish, its plugins retire. */
  private unbind(name: string): void {
    const old = this.serving.get(name)!;
    this.serving.delete(name);
    this.servers.splice(this.servers.indexOf(old.server), 1);
    this.listeners.splice(this.listeners.indexOf(old.bound), 1);
    old.server
      .drain(RELOAD_DRAIN_MS)
      .catch((err) =>
        this.output.stderr(formatLogLine("error", "main", `listener ${name}: ${(err as Error).message}`)),
      );
    for (const slot of old.slots) this.plugins.retire(slot.plugin);
  }

  /**
   * Applies a new configuration of the same bootstrap, as Envoy's listener manager applies an LDS update
   * (listener_manager_impl.cc addOrUpdateListener): a listener whose configuration is unchanged keeps its
   * socket and its plugins; a changed one is built anew (its plugins started) and takes over the port while
   * the old one drains; a removed one drains; a new one binds. Only listeners reload: a change elsewhere is
   * a ConfigError naming the section. Nothing changes when building or binding fails (ConfigError,
   * ListenError), except listeners already switched over by then.
   */
  async reload(next: BootstrapConfig): Promise<ReloadSummary> {
    const plan = planListenerReload(this.config, next);
    const built: Array<{
      l: ListenerConfig;
      server: HttpListener | TcpListener | ActiveListener;
      slots: PluginSlot[];
    }> = [];
    try {
      for (const l of [...plan.replaced, ...plan.added]) {
        const slots: PluginSlot[] = [];
        built.push({ l, server: await this.buildListener(l, slots), slots });
      }
    } catch (err) {
      for (const b of built) for (const slot of b.slots) this.plugins.retire(slot.plugin);
      throw err;
    }
    for (const { l, server, slots } of built) {
      const old = this.serving.get(l.name);
      // A replaced listener keeps its port, even one the OS chose (port 0).
      const port = old ? old.bound.port : l.address.port;
      if (old) this.unbind(l.name);
      await this.bind(l, server, slots, port);
    }
    for (const name of plan.removed) this.unbind(name);
    this.config = next;
    return {
      unchanged: plan.unchanged,
      replaced: plan.replaced.map((l) => l.name),
      added: plan.added.map((l) => l.name),
      removed: plan.removed,
    };
  }

  private promTags(): Array<{ tagName: string; regex: string }> {
    return this.config.statsTags
      .filter((t) => t.regex !== undefined)
      .map((t) => ({ tagName: t.tagName, regex: t.regex! }));
  }

  /** Graceful: stop accepting, let in-flight requests finish (up to `timeoutMs`), then close. */
  async drain(timeoutMs = 5000): Promise<void> {
    this.state = "DRAINING";
    this.stats.gauge("server.live").set(0);
    await Promise.all(this.servers.map((s) => s.drain(timeoutMs)));
    await this.close();
  }

  /** Writes the log lines still held for the end of this event-loop turn. */
  flushOutput(): void {
    if (this.output instanceof CoalescedOutput) this.output.flush();
  }

  /** Closes everything at once. */
  async close(): Promise<void> {
    this.state = "DRAINING";
    await Promise.all(this.servers.map((s) => s.close()));
    this.servers.length = 0;
    await this.adminServer?.close();
    this.adminServer = undefined;
    this.plugins.shutdown();
    await this.clusters.close();
    await Promise.all(this.accessLoggers.map((l) => l.close()));
    // The plugins' last lines (on_done, on_vm_shutdown) are out before close() resolves.
    this.flushOutput();
  }
}

/** Builds and starts a proxy for a validated bootstrap. */
export async function startProxy(
  config: BootstrapConfig,
  options: ProxyOptions = {},
): Promise<LocalDataPlane> {
  const proxy = new LocalDataPlane(config, options);
  await proxy.start();
  return proxy;
}
