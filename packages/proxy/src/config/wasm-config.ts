/**
 * `envoy.extensions.wasm.v3.PluginConfig` (inside the HTTP and network `Wasm` filter messages).
 * Configuration `Any`s become the bytes the plugin receives: StringValue raw, BytesValue decoded,
 * Struct as compact JSON (what Envoy passes to proxy_on_configure).
 */
import { isAbsolute, resolve } from "node:path";
import type { ConfigMessage, ConfigValue } from "./fields.ts";
import type { FailurePolicy, PluginCode, WasmPluginConfig, WasmServiceConfig } from "./model.ts";
import { expectType, readTypedConfig } from "./typed-config.ts";

const encoder = new TextEncoder();

/** Reads the `configuration` Any of a PluginConfig or VmConfig into the bytes handed to the plugin. */
export function readPluginConfiguration(value: ConfigValue | undefined): Uint8Array {
  if (!value) return new Uint8Array(0);
  const typed = readTypedConfig(value);
  const m = typed.message;
  switch (typed.type) {
    case "google.protobuf.StringValue": {
      const s = m.optional("value")?.string() ?? "";
      m.finish();
      return encoder.encode(s);
    }
    case "google.protobuf.BytesValue": {
      const v = m.optional("value");
      const s = v?.string() ?? "";
      m.finish();
      if (!/^[A-Za-z0-9+/_-]*={0,2}$/.test(s)) v!.fail("expected base64 bytes");
      return new Uint8Array(Buffer.from(s, "base64"));
    }
    case "google.protobuf.Struct": {
      // In an Any, a well-known type's JSON form sits under "value" (proto3 JSON mapping).
      const v = m.optional("value");
      const struct = v ? v.message().raw : {};
      m.finish();
      return encoder.encode(JSON.stringify(struct));
    }
    default:
      return m.fail(
        `unsupported configuration type ${typed.type} (supported: google.protobuf.StringValue, google.protobuf.BytesValue, google.protobuf.Struct)`,
      );
  }
}

function readCode(vm: ConfigMessage, baseDir: string): PluginCode {
  const codeValue = vm.required("code");
  const code = codeValue.message();
  const [kind, source] = code.oneOf(["local", "remote"])!;
  code.finish();
  const src = source.message();
  if (kind === "local") {
    const [field, v] = src.oneOf(["filename", "inline_bytes", "inline_string"])!;
    src.accept("watched_directory");
    src.finish();
    if (field === "filename") {
      const file = v.nonEmptyString();
      return { kind: "local", location: isAbsolute(file) ? file : resolve(baseDir, file), path: v.path };
    }
    const bytes =
      field === "inline_bytes" ? Buffer.from(v.string(), "base64") : Buffer.from(v.string(), "utf8");
    return { kind: "local", location: `<${field}>`, inline: new Uint8Array(bytes), path: v.path };
  }
  const httpUri = src.required("http_uri").message();
  const uri = httpUri.required("uri").nonEmptyString();
  const cluster = httpUri.required("cluster").nonEmptyString();
  const timeoutMs = httpUri.optional("timeout")?.durationMs() ?? 1000;
  httpUri.finish();
  const shaValue = src.required("sha256");
  const sha256 = shaValue.string().toLowerCase();
  if (!/^[0-9a-f]{64}$/.test(sha256)) shaValue.fail("expected 64 hexadecimal digits (a SHA-256 digest)");
  src.accept("retry_policy");
  src.finish();
  return { kind: "remote", location: uri, cluster, timeoutMs, sha256, path: codeValue.path };
}

/** Parses one PluginConfig. `defaultName` is the filter's name, used when `name` is empty. */
export function readWasmPluginConfig(config: ConfigMessage, baseDir: string): WasmPluginConfig {
  const name = config.optional("name")?.string() ?? "";
  const rootId = config.optional("root_id")?.string() ?? "";
  const vmValue = config.required("vm_config");
  const vm = vmValue.message();
  const vmId = vm.optional("vm_id")?.string() ?? "";
  const runtime = vm.optional("runtime");
  if (runtime) {
    runtime.oneOf(["envoy.wasm.runtime.v8", "envoy.wasm.runtime.wasmtime", "envoy.wasm.runtime.wamr", ""]);
  }
  const code = readCode(vm, baseDir);
  const vmConfiguration = readPluginConfiguration(vm.optional("configuration"));
  const environment: Record<string, string> = {};
  const env = vm.optional("environment_variables")?.message();
  if (env) {
    for (const key of env.optional("host_env_keys")?.list() ?? []) {
      const k = key.string();
      const v = process.env[k];
      if (v !== undefined) environment[k] = v;
    }
    for (const [k, v] of env.optional("key_values")?.entries() ?? []) environment[k] = v.string();
    env.finish();
  }
  vm.accept("allow_precompiled", "nack_on_code_cache_miss");
  vm.finish();

  const pluginConfiguration = readPluginConfiguration(config.optional("configuration"));
  const failOpen = config.optional("fail_open")?.bool();
  const policyValue = config.optional("failure_policy");
  let failurePolicy: FailurePolicy = failOpen ? "FAIL_OPEN" : "FAIL_CLOSED";
  if (policyValue) {
    const p = policyValue.oneOf(["UNSPECIFIED", "FAIL_RELOAD", "FAIL_CLOSED", "FAIL_OPEN"]);
    if (p !== "UNSPECIFIED") failurePolicy = p;
  }
  let reloadBackoffMs = 1000;
  const reload = config.optional("reload_config")?.message();
  if (reload) {
    const backoff = reload.optional("backoff")?.message();
    if (backoff) {
      reloadBackoffMs = backoff.optional("base_interval")?.durationMs() ?? 1000;
      backoff.accept("max_interval");
      backoff.finish();
    }
    reload.finish();
  }
  const allowStop = config.optional("allow_on_headers_stop_iteration")?.wrappedBool() ?? false;
  config.finish();
  return {
    name,
    rootId,
    vmId,
    code,
    vmConfiguration,
    pluginConfiguration,
    environment,
    failurePolicy,
    reloadBackoffMs,
    allowOnHeadersStopIteration: allowStop,
    path: config.path,
  };
}

/** Reads an `envoy.extensions.filters.{http,network}.wasm.v3.Wasm` message. */
export function readWasmFilter(message: ConfigMessage, baseDir: string): WasmPluginConfig {
  const config = message.required("config").message();
  message.finish();
  return readWasmPluginConfig(config, baseDir);
}

const WASM_SERVICE = "envoy.extensions.wasm.v3.WasmService";

/**
 * One `bootstrap_extensions` entry. Only `envoy.bootstrap.wasm` (a WasmService: `config` PluginConfig and
 * `singleton`) runs here; source/extensions/bootstrap/wasm/config.cc WasmServiceExtension::createWasm.
 */
export function readBootstrapExtension(value: ConfigValue, baseDir: string): WasmServiceConfig {
  const m = value.message();
  m.optional("name")?.string();
  const typed = readTypedConfig(m.required("typed_config"));
  m.finish();
  expectType(typed, [WASM_SERVICE]);
  const service = typed.message;
  const plugin = readWasmPluginConfig(service.required("config").message(), baseDir);
  const singleton = service.optional("singleton")?.bool() ?? false;
  service.finish();
  return { plugin, singleton, path: value.path };
}
