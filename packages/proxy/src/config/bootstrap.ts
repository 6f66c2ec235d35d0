/**
 * `envoy.config.bootstrap.v3.Bootstrap`, the subset a plugin developer's envoy.yaml uses: node,
 * static_resources (listeners, clusters), admin and stats_config. Cross-references (a route naming a
 * cluster) are checked here so a typo fails at start, as Envoy's validation does.
 */
import { readAccessLogs } from "./access-log-config.ts";
import { readCluster } from "./cluster-config.ts";
import { ConfigError } from "./config-error.ts";
import { ConfigMessage, ConfigValue } from "./fields.ts";
import { readListener } from "./listener-config.ts";
import type { AdminConfig, BootstrapConfig, ListenerConfig, NodeConfig, StatsTagConfig } from "./model.ts";
import { readAddress } from "./socket-address.ts";
import { readBootstrapExtension } from "./wasm-config.ts";

function readNode(value: ConfigValue | undefined): NodeConfig {
  if (!value) return { id: "", cluster: "", metadata: {} };
  const m = value.message();
  const node: NodeConfig = {
    id: m.optional("id")?.string() ?? "",
    cluster: m.optional("cluster")?.string() ?? "",
    metadata: (m.optional("metadata")?.message().raw as Record<string, unknown>) ?? {},
  };
  const locality = m.optional("locality")?.message();
  if (locality) {
    node.locality = {};
    const region = locality.optional("region")?.string();
    const zone = locality.optional("zone")?.string();
    const subZone = locality.optional("sub_zone")?.string();
    if (region) node.locality.region = region;
    if (zone) node.locality.zone = zone;
    if (subZone) node.locality.subZone = subZone;
    locality.finish();
  }
  m.accept("user_agent_name", "user_agent_version", "user_agent_build_version");
  m.finish();
  return node;
}

function readAdmin(value: ConfigValue, baseDir: string): AdminConfig {
  const m = value.message();
  const address = readAddress(m.required("address"));
  const accessLogs = readAccessLogs(m.optional("access_log"), baseDir);
  const logPath = m.optional("access_log_path")?.string();
  if (logPath && logPath !== "/dev/null") {
    accessLogs.push({
      sink:
        logPath === "/dev/stdout"
          ? { kind: "stdout" }
          : logPath === "/dev/stderr"
            ? { kind: "stderr" }
            : { kind: "file", path: logPath },
      format: { kind: "text", template: "" },
    });
  }
  m.accept("profile_path", "ignore_global_conn_limit");
  m.finish();
  return { address, accessLogs };
}

function readStatsConfig(value: ConfigValue | undefined): {
  tags: StatsTagConfig[];
  useAllDefaultTags: boolean;
} {
  if (!value) return { tags: [], useAllDefaultTags: true };
  const m = value.message();
  const tags = (m.optional("stats_tags")?.list() ?? []).map((t) => {
    const tm = t.message();
    const tagName = tm.required("tag_name").nonEmptyString();
    const chosen = tm.oneOf(["regex", "fixed_value"], false);
    tm.finish();
    const tag: StatsTagConfig = { tagName };
    if (chosen?.[0] === "regex") {
      const source = chosen[1].string();
      try {
        new RegExp(source);
      } catch (err) {
        chosen[1].fail(`invalid regex: ${(err as Error).message}`);
      }
      tag.regex = source;
    } else if (chosen) tag.fixedValue = chosen[1].string();
    return tag;
  });
  const useAllDefaultTags = m.optional("use_all_default_tags")?.wrappedBool() ?? true;
  m.accept("stats_matcher", "histogram_bucket_settings");
  m.finish();
  return { tags, useAllDefaultTags };
}

function checkClusterReferences(listeners: ListenerConfig[], clusterNames: Set<string>): void {
  const need = (name: string, path: string) => {
    if (!clusterNames.has(name)) {
      throw new ConfigError(
        path,
        `cluster ${JSON.stringify(name)} is not defined in static_resources.clusters`,
      );
    }
  };
  for (const l of listeners) {
    const plugins = [...l.networkWasmFilters, ...(l.http?.wasmFilters ?? [])];
    for (const p of plugins)
      if (p.code.kind === "remote") need(p.code.cluster!, `${p.code.path}.remote.http_uri.cluster`);
    if (l.tcp) {
      if (l.tcp.weightedClusters)
        for (const c of l.tcp.weightedClusters) need(c.name, `${l.tcp.path}.weighted_clusters`);
      else need(l.tcp.cluster, `${l.tcp.path}.cluster`);
    }
    for (const vh of l.http?.routeTable.virtualHosts ?? []) {
      for (const r of vh.routes) {
        if (r.action.kind !== "route") continue;
        const t = r.action.route.target;
        if (t.kind === "cluster") need(t.cluster, `${r.path}.route.cluster`);
        if (t.kind === "weighted_clusters") {
          for (const [i, c] of t.clusters.entries()) {
            need(c.name, `${r.path}.route.weighted_clusters.clusters[${i}].name`);
          }
        }
      }
    }
  }
}

/** Validates a parsed bootstrap document. `baseDir` resolves relative file names (wasm code, CA files). */
export function parseBootstrap(document: unknown, baseDir: string): BootstrapConfig {
  const root = new ConfigValue("", document).message();
  const node = readNode(root.optional("node"));
  const admin = root.optional("admin");
  const stats = readStatsConfig(root.optional("stats_config"));
  const sr = root.optional("static_resources")?.message() ?? new ConfigMessage("static_resources", {});
  const clusters = (sr.optional("clusters")?.list() ?? []).map((c) => readCluster(c, baseDir));
  const names = new Set<string>();
  for (const c of clusters) {
    if (names.has(c.name))
      throw new ConfigError(`${c.path}.name`, `duplicate cluster name ${JSON.stringify(c.name)}`);
    names.add(c.name);
  }
  const listeners = (sr.optional("listeners")?.list() ?? []).map((l, i) => readListener(l, baseDir, i));
  sr.finish();
  const wasmServices = (root.optional("bootstrap_extensions")?.list() ?? []).map((e) =>
    readBootstrapExtension(e, baseDir),
  );
  for (const s of wasmServices) {
    const code = s.plugin.code;
    if (code.kind === "remote" && !names.has(code.cluster!))
      throw new ConfigError(
        `${code.path}.remote.http_uri.cluster`,
        `cluster ${JSON.stringify(code.cluster)} is not defined in static_resources.clusters`,
      );
  }
  root.accept("layered_runtime", "stats_flush_interval", "overload_manager");
  if (root.has("dynamic_resources"))
    root.optional("dynamic_resources")!.fail("xDS (dynamic_resources) is not supported");
  root.finish();
  checkClusterReferences(listeners, names);
  const listenerNames = new Set<string>();
  for (const l of listeners) {
    if (listenerNames.has(l.name))
      throw new ConfigError(`${l.path}.name`, `duplicate listener name ${JSON.stringify(l.name)}`);
    listenerNames.add(l.name);
  }
  return {
    node,
    ...(admin ? { admin: readAdmin(admin, baseDir) } : {}),
    ...(wasmServices.length > 0 ? { wasmServices } : {}),
    listeners,
    clusters,
    statsTags: stats.tags,
    useAllDefaultTags: stats.useAllDefaultTags,
    document,
    baseDir,
  };
}
