/**
 * What a plugin folder says about deploying it: read from the plugin's own `envoy.yaml` (the config that
 * runs it on plain Envoy), so the WasmPlugin carries the same root id, configuration, filter type, failure
 * policy and environment, and callout clusters can be recreated in the mesh.
 */

import { existsSync, readFileSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import { fromJson, type JsonValue, toJson } from "@bufbuild/protobuf";
import { PwtsError } from "@proxy-wasm-ts/errors";
import { parseDocument } from "yaml";
import { wasmFilters } from "../envoy/bootstrap-filters.ts";
import { envoyRegistry } from "../envoy/envoy-descriptor.ts";
import { wrapSingleRepeatedValues } from "../envoy/repeated-single-values.ts";
import { asList, asObject } from "../json-value.ts";

type Json = Record<string, unknown>;

/** A cluster the plugin calls out to (`proxy_http_call`/gRPC), as defined in its envoy.yaml. */
export interface CalloutCluster {
  name: string;
  /** The cluster as canonical Envoy JSON (proto field names), ready for an EnvoyFilter patch. */
  definition: Json;
  /** First endpoint's address and port, for the ServiceEntry. */
  host?: string;
  port?: number;
  tls: boolean;
}

/** Deployment facts about one plugin. */
export interface PluginDeployment {
  /** Plugin name: the folder's name. */
  name: string;
  /** Root id (`config.root_id`); Istio calls it `pluginName`. */
  rootId: string;
  type: "HTTP" | "NETWORK";
  /** The filter's `configuration`, as the JSON object Istio's `pluginConfig` needs (undefined when none). */
  pluginConfig?: Json;
  failStrategy?: "FAIL_CLOSE" | "FAIL_OPEN" | "FAIL_RELOAD";
  env: Array<{ name: string; value?: string; valueFrom?: "INLINE" | "HOST" }>;
  callouts: CalloutCluster[];
  /** Where these facts came from, for messages. */
  source: string;
}

/** The plugin's name: its folder's name (`plugins/api-observer` → `api-observer`). */
export function pluginName(dir: string): string {
  return basename(resolve(dir));
}

/**
 * Reads `envoy.yaml` in a plugin folder and describes the Wasm filter in it. With several Wasm filters,
 * `rootId` picks one. Clusters named in the plugin configuration (and those in `extraCallouts`) are callouts.
 * A folder without envoy.yaml gives only its name plus the given root id and type (HTTP by default).
 */
export async function readPluginDeployment(
  dir: string,
  options: { rootId?: string; extraCallouts?: string[]; type?: "HTTP" | "NETWORK" } = {},
): Promise<PluginDeployment> {
  const file = join(dir, "envoy.yaml");
  const name = pluginName(dir);
  if (!existsSync(file)) {
    // Without an envoy.yaml only what the caller says is known; callouts cannot be recreated.
    if (options.extraCallouts?.length) {
      throw new PwtsError(
        "PWTS_ERR_PLUGIN_DEPLOYMENT",
        `${dir}: no envoy.yaml, so callout clusters (${options.extraCallouts.join(", ")}) have no definition`,
      );
    }
    return {
      name,
      rootId: options.rootId ?? "",
      type: options.type ?? "HTTP",
      env: [],
      callouts: [],
      source: dir,
    };
  }
  const doc = parseDocument(readFileSync(file, "utf8"), { merge: true });
  if (doc.errors.length)
    throw new PwtsError("PWTS_ERR_PLUGIN_DEPLOYMENT", `${file}: not valid YAML: ${doc.errors[0]?.message}`);
  const registry = await envoyRegistry();
  const bootstrapDesc = registry.getMessage("envoy.config.bootstrap.v3.Bootstrap");
  if (!bootstrapDesc) throw new Error("descriptor set lacks the Envoy bootstrap");
  let bootstrap: Json;
  try {
    const json = wrapSingleRepeatedValues(bootstrapDesc, doc.toJS(), registry);
    const message = fromJson(bootstrapDesc, json as JsonValue, { registry });
    bootstrap = toJson(bootstrapDesc, message, { registry, useProtoFieldName: true }) as Json;
  } catch (err) {
    throw new PwtsError(
      "PWTS_ERR_PLUGIN_DEPLOYMENT",
      `${file} is not a valid Envoy bootstrap (run pwts validate ${file}): ${(err as Error).message}`,
    );
  }
  const filters = wasmFilters(bootstrap);
  if (filters.length === 0)
    throw new PwtsError(
      "PWTS_ERR_PLUGIN_DEPLOYMENT",
      `${file}: no Wasm filter (envoy.filters.{http,network}.wasm) found`,
    );
  const chosen = options.rootId
    ? filters.find((f) => (f.config.root_id ?? "") === options.rootId)
    : filters[0];
  if (!chosen) {
    const ids = filters.map((f) => JSON.stringify(f.config.root_id ?? "")).join(", ");
    throw new PwtsError(
      "PWTS_ERR_PLUGIN_DEPLOYMENT",
      `${file}: no Wasm filter with root_id "${options.rootId}" (found ${ids})`,
    );
  }
  if (filters.length > 1 && !options.rootId) {
    throw new PwtsError(
      "PWTS_ERR_PLUGIN_DEPLOYMENT",
      `${file}: ${filters.length} Wasm filters; choose one with --root-id (${filters.map((f) => f.config.root_id ?? "").join(", ")})`,
    );
  }
  const config = chosen.config;
  const pluginConfig = pluginConfigOf(config.configuration, file);
  const clusters = asList(asObject(bootstrap.static_resources)?.clusters).map((c) => asObject(c) ?? {});
  const named = new Set([...stringsIn(pluginConfig), ...(options.extraCallouts ?? [])]);
  for (const extra of options.extraCallouts ?? []) {
    if (!clusters.some((c) => c.name === extra))
      throw new PwtsError(
        "PWTS_ERR_PLUGIN_DEPLOYMENT",
        `${file}: no cluster named "${extra}" to call out to`,
      );
  }
  const callouts = clusters.filter((c) => named.has(String(c.name))).map(calloutCluster);
  const vm = asObject(config.vm_config) ?? {};
  const envVars = asObject(vm.environment_variables) ?? {};
  const env = [
    ...asList(envVars.host_env_keys).map((k) => ({ name: String(k), valueFrom: "HOST" as const })),
    ...Object.entries(asObject(envVars.key_values) ?? {}).map(([k, v]) => ({ name: k, value: String(v) })),
  ];
  return {
    name,
    rootId: String(config.root_id ?? ""),
    type: options.type ?? chosen.type,
    ...(pluginConfig ? { pluginConfig } : {}),
    ...failStrategyOf(config),
    env,
    callouts,
    source: file,
  };
}

/**
 * The plugin as deployed with `config` in place of its envoy.yaml configuration: only the callout clusters
 * that configuration (or `extra`) names are still needed (a mesh cluster name such as `outbound|80||host`
 * needs none).
 */
export function withPluginConfig(
  plugin: PluginDeployment,
  config: Json | undefined,
  extra: readonly string[] = [],
): PluginDeployment {
  if (!config) return plugin;
  const named = new Set([...stringsIn(config), ...extra]);
  return { ...plugin, pluginConfig: config, callouts: plugin.callouts.filter((c) => named.has(c.name)) };
}

/** Istio passes `pluginConfig` to the plugin as JSON text, so only a JSON object carries over. */
function pluginConfigOf(configuration: unknown, file: string): Json | undefined {
  const any = asObject(configuration);
  if (!any) return undefined;
  const typeUrl = String(any["@type"] ?? "");
  if (typeUrl.endsWith("google.protobuf.StringValue")) {
    const text = String(any.value ?? "");
    if (text.trim() === "") return undefined;
    try {
      const parsed = JSON.parse(text) as unknown;
      if (asObject(parsed)) return parsed as Json;
    } catch {
      // fall through to the error below
    }
    throw new PwtsError(
      "PWTS_ERR_PLUGIN_DEPLOYMENT",
      `${file}: the Wasm filter's configuration is not a JSON object; WasmPlugin.pluginConfig can only carry JSON objects (pass --config FILE)`,
    );
  }
  if (typeUrl.endsWith("google.protobuf.Struct")) return asObject(any.value) ?? {};
  if (typeUrl.endsWith("TypedStruct")) return asObject(any.value) ?? {};
  throw new PwtsError(
    "PWTS_ERR_PLUGIN_DEPLOYMENT",
    `${file}: configuration of type ${typeUrl} cannot be expressed as WasmPlugin.pluginConfig`,
  );
}

function failStrategyOf(config: Json): Pick<PluginDeployment, "failStrategy"> {
  const policy = config.failure_policy;
  if (policy === "FAIL_OPEN") return { failStrategy: "FAIL_OPEN" };
  if (policy === "FAIL_RELOAD") return { failStrategy: "FAIL_RELOAD" };
  if (policy === "FAIL_CLOSED") return { failStrategy: "FAIL_CLOSE" };
  if (config.fail_open === true) return { failStrategy: "FAIL_OPEN" };
  return {};
}

function stringsIn(value: unknown): string[] {
  if (typeof value === "string") return [value];
  if (Array.isArray(value)) return value.flatMap(stringsIn);
  if (value && typeof value === "object") return Object.values(value).flatMap(stringsIn);
  return [];
}

function calloutCluster(cluster: Json): CalloutCluster {
  const endpoint = asObject(
    asObject(asList(asObject(asList(asObject(cluster.load_assignment)?.endpoints)[0])?.lb_endpoints)[0])
      ?.endpoint,
  );
  const socket = asObject(asObject(endpoint?.address)?.socket_address);
  const host = typeof socket?.address === "string" ? socket.address : undefined;
  const port = typeof socket?.port_value === "number" ? socket.port_value : undefined;
  return {
    name: String(cluster.name),
    definition: cluster,
    ...(host ? { host } : {}),
    ...(port ? { port } : {}),
    tls: Boolean(cluster.transport_socket),
  };
}
