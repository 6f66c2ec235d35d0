/**
 * Checks Envoy would only make at startup or at request time, over a bootstrap that already passed the
 * schema: routes and TCP proxies name clusters that exist, the HTTP router comes last, Wasm modules exist
 * (through docker-compose bind mounts when the path is a container path), are Proxy-Wasm modules, and the
 * root id agrees with the plugin's own WasmPlugin.
 */
import { existsSync, readFileSync, statSync } from "node:fs";
import { dirname, isAbsolute, join, resolve } from "node:path";
import { parseAllDocuments } from "yaml";
import { asList, asObject } from "../json-value.ts";
import { wasmExportNames } from "../wasm-module.ts";
import { hcmType, listenerFilters, typedConfig, wasmFilters } from "./bootstrap-filters.ts";

type Json = Record<string, unknown>;

/** A semantic finding, located by field path. */
export interface SemanticProblem {
  path: string;
  message: string;
  severity: "error" | "warning";
}

/** A bind mount: files under `containerPath` in the container are `hostPath` on this machine. */
export interface BindMount {
  hostPath: string;
  containerPath: string;
}

export interface SemanticContext {
  /** Directory of the config file: relative paths resolve against it. */
  configDir: string;
  /** Bind mounts from a docker-compose file next to the config. */
  mounts: BindMount[];
}

const knownRuntimes = new Set([
  "envoy.wasm.runtime.v8",
  "envoy.wasm.runtime.wamr",
  "envoy.wasm.runtime.wasmtime",
  "envoy.wasm.runtime.wavm",
  "envoy.wasm.runtime.null",
]);

const tcpProxyType = "envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy";
const routerType = "envoy.extensions.filters.http.router.v3.Router";

/** Runs the semantic checks on canonical proto-JSON of a bootstrap (proto field names). */
export function checkEnvoySemantics(bootstrap: Json, context: SemanticContext): SemanticProblem[] {
  const out: SemanticProblem[] = [];
  const statics = asObject(bootstrap.static_resources) ?? {};
  const dynamic = asObject(bootstrap.dynamic_resources) ?? {};
  // With CDS, clusters may arrive later: a missing name is then only a warning.
  const missingSeverity = dynamic.cds_config || dynamic.ads_config ? "warning" : "error";
  const clusters = new Map<string, number>();
  asList(statics.clusters).forEach((c, i) => {
    const name = String(asObject(c)?.name ?? "");
    if (clusters.has(name)) {
      out.push({
        path: `static_resources.clusters[${i}].name`,
        message: `cluster "${name}" is defined twice (also clusters[${clusters.get(name)}])`,
        severity: "error",
      });
    } else clusters.set(name, i);
  });
  const needCluster = (name: unknown, path: string, what: string) => {
    if (typeof name !== "string" || name === "") return;
    if (!clusters.has(name)) {
      const known = [...clusters.keys()].join(", ") || "none";
      out.push({
        path,
        message: `${what} names cluster "${name}", which is not defined (static clusters: ${known})`,
        severity: missingSeverity,
      });
    }
  };
  for (const filter of listenerFilters(bootstrap)) {
    const configPath = filter.configPath;
    if (filter.typeName === hcmType) checkHcm(filter.config, configPath, needCluster, out);
    if (filter.typeName === tcpProxyType) {
      needCluster(filter.config.cluster, `${configPath}.cluster`, "tcp_proxy");
      asList(asObject(filter.config.weighted_clusters)?.clusters).forEach((w, wi) => {
        needCluster(asObject(w)?.name, `${configPath}.weighted_clusters.clusters[${wi}].name`, "tcp_proxy");
      });
    }
  }
  for (const { path, config } of wasmFilters(bootstrap)) checkWasm(config, path, context, needCluster, out);
  return out;
}

function checkHcm(
  hcm: Json,
  path: string,
  needCluster: (name: unknown, path: string, what: string) => void,
  out: SemanticProblem[],
): void {
  const routeConfig = asObject(hcm.route_config);
  asList(routeConfig?.virtual_hosts).forEach((vh, vi) => {
    asList(asObject(vh)?.routes).forEach((r, ri) => {
      const routePath = `${path}.route_config.virtual_hosts[${vi}].routes[${ri}].route`;
      const action = asObject(asObject(r)?.route);
      if (!action) return;
      needCluster(action.cluster, `${routePath}.cluster`, "route");
      asList(asObject(action.weighted_clusters)?.clusters).forEach((w, wi) => {
        needCluster(asObject(w)?.name, `${routePath}.weighted_clusters.clusters[${wi}].name`, "route");
      });
    });
  });
  const filters = asList(hcm.http_filters);
  filters.forEach((f, fi) => {
    const filter = asObject(f) ?? {};
    const typed = typedConfig(filter.typed_config);
    const isRouter = typed ? typed.typeName === routerType : filter.name === "envoy.filters.http.router";
    if (isRouter && fi !== filters.length - 1) {
      out.push({
        path: `${path}.http_filters[${fi}]`,
        message: "the router must be the last HTTP filter (filters after it never run)",
        severity: "error",
      });
    }
  });
  const last = asObject(filters[filters.length - 1]);
  if (filters.length > 0 && last) {
    const typed = typedConfig(last.typed_config);
    const isTerminal = typed ? typed.typeName === routerType : last.name === "envoy.filters.http.router";
    if (!isTerminal) {
      out.push({
        path: `${path}.http_filters[${filters.length - 1}]`,
        message: "the last HTTP filter must be the router (envoy.extensions.filters.http.router.v3.Router)",
        severity: "error",
      });
    }
  }
}

function checkWasm(
  plugin: Json,
  path: string,
  context: SemanticContext,
  needCluster: (name: unknown, path: string, what: string) => void,
  out: SemanticProblem[],
): void {
  const vm = asObject(plugin.vm_config) ?? {};
  const runtime = vm.runtime;
  if (typeof runtime === "string" && !knownRuntimes.has(runtime)) {
    out.push({
      path: `${path}.vm_config.runtime`,
      message: `unknown Wasm runtime "${runtime}" (expected one of ${[...knownRuntimes].join(", ")})`,
      severity: "error",
    });
  }
  const code = asObject(vm.code) ?? {};
  const remote = asObject(code.remote);
  if (remote)
    needCluster(
      asObject(remote.http_uri)?.cluster,
      `${path}.vm_config.code.remote.http_uri.cluster`,
      "remote Wasm code",
    );
  const filename = asObject(code.local)?.filename;
  if (typeof filename !== "string") return;
  const filePath = `${path}.vm_config.code.local.filename`;
  const located = locateFile(filename, context);
  if (!located.hostPath) {
    out.push({
      path: filePath,
      message: `${filename} is a path inside the Envoy container and no docker-compose bind mount next to the config maps it; not checked`,
      severity: "warning",
    });
    return;
  }
  if (!existsSync(located.hostPath) || !statSync(located.hostPath).isFile()) {
    out.push({
      path: filePath,
      message: `Wasm module ${filename} not found${located.hostPath !== filename ? ` (looked at ${located.hostPath})` : ""}; build the plugin first`,
      severity: "error",
    });
    return;
  }
  const bytes = readFileSync(located.hostPath);
  let exported: string[];
  try {
    exported = wasmExportNames(bytes);
  } catch (err) {
    out.push({
      path: filePath,
      message: `${filename} is not a valid Wasm module: ${(err as Error).message}`,
      severity: "error",
    });
    return;
  }
  if (!exported.some((n) => n.startsWith("proxy_abi_version_"))) {
    out.push({
      path: filePath,
      message: `${filename} exports no proxy_abi_version_* marker, so Envoy will not load it as a Proxy-Wasm plugin`,
      severity: "error",
    });
  }
  const declared = declaredPluginName(located.hostPath);
  const rootId = typeof plugin.root_id === "string" ? plugin.root_id : "";
  if (declared && declared.name !== rootId) {
    out.push({
      path: `${path}.root_id`,
      message: `root_id "${rootId}" differs from pluginName "${declared.name}" in ${declared.file}; the plugin would not find its root context`,
      severity: "error",
    });
  }
}

/** Maps a path in the config to a host path: relative to the config, or through a bind mount. */
function locateFile(filename: string, context: SemanticContext): { hostPath?: string } {
  if (!isAbsolute(filename)) return { hostPath: resolve(context.configDir, filename) };
  const mount = context.mounts
    .filter(
      (m) => filename === m.containerPath || filename.startsWith(`${m.containerPath.replace(/\/$/, "")}/`),
    )
    .sort((a, b) => b.containerPath.length - a.containerPath.length)[0];
  if (mount) return { hostPath: join(mount.hostPath, filename.slice(mount.containerPath.length)) };
  return existsSync(filename) ? { hostPath: filename } : {};
}

/**
 * The pluginName a plugin folder declares for the module at `wasmPath`: plugins keep `wasmplugin.yaml`
 * next to the module's build directory (`plugins/<name>/build/plugin.wasm`).
 */
function declaredPluginName(wasmPath: string): { name: string; file: string } | undefined {
  for (const dir of [dirname(wasmPath), dirname(dirname(wasmPath))]) {
    const file = join(dir, "wasmplugin.yaml");
    if (!existsSync(file)) continue;
    for (const doc of parseAllDocuments(readFileSync(file, "utf8"))) {
      const value = asObject(doc.toJS());
      if (value?.kind !== "WasmPlugin") continue;
      const name = asObject(value.spec)?.pluginName;
      if (typeof name === "string") return { name, file };
    }
  }
  return undefined;
}
