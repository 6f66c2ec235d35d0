/**
 * `pwts dev`: `pwts run` plus a watcher and a swap. It serves the config on the local data plane and
 * watches the config file, the `.wasm` files its listeners' Wasm filters load, and the sources of the
 * plugin projects that build those files (plugin-projects.ts). A change is rebuilt and swapped in through
 * the data plane's own seams: a filter's plugin slot (new streams get the new plugin, streams in flight
 * finish on the old one) and the listener reload (unchanged listeners keep their sockets). A build or config
 * error is printed once and the previous version keeps serving.
 */
import { readFile } from "node:fs/promises";
import { relative, resolve, sep } from "node:path";
import { hasErrorCode } from "@proxy-wasm-ts/errors";
import {
  type BootstrapConfig,
  type LocalDataPlane,
  loadBootstrap,
  type PluginSlot,
  type ProxyOptions,
  startProxy,
} from "@proxy-wasm-ts/proxy";
import { UserError } from "../user-error.ts";
import { locateInConfig } from "./config-location.ts";
import type { DevOutput } from "./dev-output.ts";
import { FileWatcher } from "./file-watcher.ts";
import { findProject, type PluginProject } from "./plugin-projects.ts";

/** The `.wasm` files the listeners' Wasm filters load from disk (walks the listener configs). */
function localWasmFiles(config: BootstrapConfig): Set<string> {
  const files = new Set<string>();
  const visit = (value: unknown): void => {
    if (value === null || typeof value !== "object" || ArrayBuffer.isView(value) || value instanceof RegExp)
      return;
    if (Array.isArray(value)) {
      for (const v of value) visit(v);
      return;
    }
    const code = (value as { code?: { kind?: string; location?: unknown; inline?: unknown } }).code;
    if (code?.kind === "local" && code.inline === undefined && typeof code.location === "string")
      files.add(code.location);
    for (const v of Object.values(value)) visit(v);
  };
  visit(config.listeners);
  return files;
}

function elapsed(start: number): number {
  return performance.now() - start;
}

export class DevServer {
  proxy: LocalDataPlane | undefined;
  private readonly configFile: string;
  private projects: PluginProject[] = [];
  private wasmFiles = new Set<string>();
  private readonly watcher = new FileWatcher((paths) => this.changed(paths));
  private readonly pending = new Set<string>();
  private working = false;

  constructor(
    configFile: string,
    private readonly options: ProxyOptions,
    private readonly out: DevOutput,
  ) {
    this.configFile = resolve(configFile);
  }

  /**
   * Builds the projects, starts the data plane and the watch. Throws UserError when the config does not
   * load or a listener cannot bind (a project that does not build is reported, and its last build is used).
   */
  async start(): Promise<LocalDataPlane> {
    let config: BootstrapConfig;
    try {
      config = await this.loadConfig();
    } catch (err) {
      throw await this.startError(err);
    }
    this.track(config);
    await this.buildFirst(this.projects);
    try {
      this.proxy = await startProxy(config, { ...this.options, output: this.out.streams() });
    } catch (err) {
      throw await this.startError(err);
    }
    this.watchAll();
    return this.proxy;
  }

  /** Builds projects the data plane is about to load (a build error is reported; the last build is used). */
  private async buildFirst(projects: PluginProject[]): Promise<void> {
    for (const project of projects) {
      const start = performance.now();
      try {
        const { size } = await project.kind.build(project.dir);
        this.out.progress(
          `built ${this.show(project.dir)} (${project.kind.name}) in ${Math.round(elapsed(start))} ms, ${size} bytes`,
        );
      } catch (err) {
        this.out.error({ kind: "build", target: project.dir, message: (err as Error).message });
      }
    }
  }

  /** A start-up config or listen error as a UserError with its place in the file; anything else as is. */
  private async startError(err: unknown): Promise<unknown> {
    const text = await readFile(this.configFile, "utf8").catch(() => "");
    const message = this.explainConfigError(err, text);
    return message === undefined ? err : new UserError(message);
  }

  close(): void {
    this.watcher.close();
  }

  /** The projects and `.wasm` files a config uses. */
  private track(config: BootstrapConfig): void {
    this.wasmFiles = localWasmFiles(config);
    this.projects = [];
    for (const file of this.wasmFiles) {
      const project = findProject(file);
      if (project && !this.projects.some((p) => p.dir === project.dir)) this.projects.push(project);
    }
  }

  private watchAll(): void {
    this.watcher.set([
      this.configFile,
      ...this.wasmFiles,
      ...this.projects.flatMap((p) => p.kind.sources(p.dir)),
    ]);
  }

  private show(path: string): string {
    const rel = relative(process.cwd(), path);
    if (rel === "") return ".";
    return rel.startsWith("..") ? path : rel;
  }

  /** Changes are applied one batch at a time; what changes meanwhile waits for the next batch. */
  private changed(paths: string[]): void {
    for (const p of paths) this.pending.add(p);
    if (this.working) return;
    this.working = true;
    void (async () => {
      while (this.pending.size > 0) {
        const batch = [...this.pending];
        this.pending.clear();
        try {
          await this.apply(batch);
        } catch (err) {
          // Anything unexpected is reported and the dev server keeps going with what serves.
          this.out.error({
            kind: "wasm",
            target: batch.join(", "),
            message: String((err as Error).stack ?? err),
          });
        }
      }
      this.working = false;
    })();
  }

  private async apply(paths: string[]): Promise<void> {
    const proxy = this.proxy!;
    const within = (dir: string, p: string) => p === dir || p.startsWith(dir + sep);
    for (const project of this.projects) {
      const changed = paths.filter((p) => project.kind.sources(project.dir).some((s) => within(s, p)));
      if (changed.length > 0) await this.rebuild(proxy, project, changed);
    }
    for (const file of this.wasmFiles)
      if (paths.includes(file)) await this.swap(proxy, file, [file], "wasm", file);
    if (paths.includes(this.configFile)) await this.reloadConfig(proxy);
  }

  private async rebuild(proxy: LocalDataPlane, project: PluginProject, changed: string[]): Promise<void> {
    const start = performance.now();
    try {
      await project.kind.build(project.dir);
    } catch (err) {
      this.out.error({ kind: "build", target: project.dir, message: (err as Error).message });
      return;
    }
    await this.swap(proxy, project.output, changed, "plugin", project.dir, elapsed(start));
  }

  /** Puts the code now in `file` into every filter that loads it. */
  private async swap(
    proxy: LocalDataPlane,
    file: string,
    changed: string[],
    kind: "plugin" | "wasm",
    target: string,
    buildMs?: number,
  ): Promise<void> {
    const slots = proxy.pluginSlots().filter((s: PluginSlot) => s.config.code.location === file);
    const start = performance.now();
    const filters: string[] = [];
    let size: number | undefined;
    for (const slot of slots) {
      try {
        const swapped = await proxy.plugins.swapCode(slot);
        if (!swapped) continue;
        size = swapped.size;
        filters.push(slot.config.name || slot.config.rootId);
      } catch (err) {
        this.out.error({ kind: "wasm", target: file, message: (err as Error).message });
        return;
      }
    }
    // A .wasm rewritten with the same bytes (our own build's output) is no news; a rebuild that produced
    // the same module (a comment edited) swaps nothing and says so.
    if (kind === "wasm" && filters.length === 0) return;
    this.out.reload({
      kind,
      target,
      changed: changed.map((c) => this.show(c)),
      ...(buildMs !== undefined ? { buildMs } : {}),
      swapMs: elapsed(start),
      ...(size !== undefined ? { size } : {}),
      filters,
    });
  }

  private async reloadConfig(proxy: LocalDataPlane): Promise<void> {
    const start = performance.now();
    let text = "";
    try {
      text = await readFile(this.configFile, "utf8");
      const config = await this.loadConfig();
      const known = new Set(this.projects.map((p) => p.dir));
      this.track(config);
      // A project the edit brought in is built before its listener loads its module.
      await this.buildFirst(this.projects.filter((p) => !known.has(p.dir)));
      const summary = await proxy.reload(config);
      this.watchAll();
      this.out.reload({
        kind: "config",
        target: this.configFile,
        changed: [this.show(this.configFile)],
        swapMs: elapsed(start),
        listeners: summary,
      });
    } catch (err) {
      const message = this.explainConfigError(err, text);
      if (message === undefined) throw err;
      this.out.error({ kind: "config", target: this.configFile, message });
    }
  }

  private loadConfig(): Promise<BootstrapConfig> {
    return loadBootstrap(this.configFile);
  }

  /** `envoy.yaml:12:9: <path>: <reason>` for a config or listen error; undefined for anything else. */
  private explainConfigError(err: unknown, text = ""): string | undefined {
    if (!hasErrorCode(err)) return undefined;
    if (err.code === "PWTS_ERR_LISTEN") return err.message;
    if (err.code !== "PWTS_ERR_CONFIG") return undefined;
    const path = (err as { path?: string }).path ?? "";
    const at = text ? locateInConfig(text, path) : undefined;
    const where = at ? `${this.show(this.configFile)}:${at.line}:${at.col}` : this.show(this.configFile);
    return `${where}: ${err.message}`;
  }
}
