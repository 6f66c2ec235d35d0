/**
 * The import table: every function a module may import from the host, its Wasm signature, and which ABI
 * versions provide it. It is the single source of truth for module loading, `pwts inspect` and `pwts build`.
 * Registration follows proxy-wasm-cpp-host (`src/wasm.cc`): most `proxy_*` functions exist for every ABI,
 * a few only for some versions, and the WASI subset is registered under both `wasi_unstable` and
 * `wasi_snapshot_preview1`.
 */
import type { AbiVersion } from "../types.ts";

export type WasmValueType = "i32" | "i64";

/** One host function a module may import. */
export interface ImportSpec {
  module: "env" | "wasi_snapshot_preview1" | "wasi_unstable";
  name: string;
  params: readonly WasmValueType[];
  results: readonly WasmValueType[];
  /** ABI versions under which the host (and Envoy) provide it. */
  abi: readonly AbiVersion[];
  /** True for the 47 host functions the v0.2.1 spec lists. */
  inSpec: boolean;
}

const ALL: readonly AbiVersion[] = ["0.2.1", "0.2.0", "0.1.0"];
const V02: readonly AbiVersion[] = ["0.2.1", "0.2.0"];
const i32 = "i32" as const;
const i64 = "i64" as const;
const n = (k: number): WasmValueType[] => new Array(k).fill(i32);

function proxy(name: string, params: WasmValueType[], abi = ALL, inSpec = true): ImportSpec {
  return { module: "env", name, params, results: [i32], abi, inSpec };
}

/** `env.proxy_*` functions. */
const PROXY: ImportSpec[] = [
  proxy("proxy_log", n(3)),
  proxy("proxy_get_log_level", n(1), ["0.2.1"]),
  proxy("proxy_get_current_time_nanoseconds", n(1)),
  proxy("proxy_set_tick_period_milliseconds", n(1)),
  proxy("proxy_done", []),
  proxy("proxy_set_effective_context", n(1)),
  proxy("proxy_get_buffer_bytes", n(5)),
  proxy("proxy_set_buffer_bytes", n(5)),
  proxy("proxy_get_buffer_status", n(3)),
  proxy("proxy_get_header_map_size", n(2)),
  proxy("proxy_get_header_map_pairs", n(3)),
  proxy("proxy_set_header_map_pairs", n(3)),
  proxy("proxy_get_header_map_value", n(5)),
  proxy("proxy_add_header_map_value", n(5)),
  proxy("proxy_replace_header_map_value", n(5)),
  proxy("proxy_remove_header_map_value", n(3)),
  proxy("proxy_continue_stream", n(1), V02),
  proxy("proxy_close_stream", n(1), V02),
  proxy("proxy_get_status", n(3)),
  proxy("proxy_send_local_response", n(8)),
  proxy("proxy_http_call", n(10)),
  proxy("proxy_grpc_call", n(12)),
  proxy("proxy_grpc_stream", n(9)),
  proxy("proxy_grpc_send", n(4)),
  proxy("proxy_grpc_cancel", n(1)),
  proxy("proxy_grpc_close", n(1)),
  proxy("proxy_set_shared_data", n(5)),
  proxy("proxy_get_shared_data", n(5)),
  proxy("proxy_register_shared_queue", n(3)),
  proxy("proxy_resolve_shared_queue", n(5)),
  proxy("proxy_enqueue_shared_queue", n(3)),
  proxy("proxy_dequeue_shared_queue", n(3)),
  proxy("proxy_define_metric", n(4)),
  proxy("proxy_record_metric", [i32, i64]),
  proxy("proxy_increment_metric", [i32, i64]),
  proxy("proxy_get_metric", n(2)),
  proxy("proxy_get_property", n(4)),
  proxy("proxy_set_property", n(4)),
  proxy("proxy_call_foreign_function", n(6)),
  // ABI v0.1.0 only (cpp-host registers them only for modules exporting proxy_abi_version_0_1_0).
  proxy("proxy_get_configuration", n(2), ["0.1.0"], false),
  proxy("proxy_continue_request", [], ["0.1.0"], false),
  proxy("proxy_continue_response", [], ["0.1.0"], false),
  proxy("proxy_clear_route_cache", [], ["0.1.0"], false),
  // Emscripten-built C++ modules import it; cpp-host provides it for every ABI.
  { module: "env", name: "pthread_equal", params: n(2), results: [i32], abi: ALL, inSpec: false },
  // Emscripten-built modules with growable memory import it; cpp-host registers it (a no-op) for every ABI.
  {
    module: "env",
    name: "emscripten_notify_memory_growth",
    params: n(1),
    results: [],
    abi: ALL,
    inSpec: false,
  },
];

/** WASI preview1 functions cpp-host registers (mostly stubs); the first 8 names are the spec's. */
const WASI_SIGNATURES: Array<[string, WasmValueType[], WasmValueType[], boolean]> = [
  ["fd_write", n(4), [i32], true],
  ["clock_time_get", [i32, i64, i32], [i32], true],
  ["random_get", n(2), [i32], true],
  ["environ_sizes_get", n(2), [i32], true],
  ["environ_get", n(2), [i32], true],
  ["args_sizes_get", n(2), [i32], true],
  ["args_get", n(2), [i32], true],
  ["proc_exit", n(1), [], true],
  ["fd_read", n(4), [i32], false],
  ["fd_seek", [i32, i64, i32, i32], [i32], false],
  ["fd_close", n(1), [i32], false],
  ["fd_fdstat_get", n(2), [i32], false],
  ["fd_fdstat_set_flags", n(2), [i32], false],
  ["fd_prestat_get", n(2), [i32], false],
  ["fd_prestat_dir_name", n(3), [i32], false],
  ["path_open", [i32, i32, i32, i32, i32, i64, i64, i32, i32], [i32], false],
  ["clock_res_get", n(2), [i32], false],
  ["poll_oneoff", n(4), [i32], false],
  ["sched_yield", [], [i32], false],
];

const WASI: ImportSpec[] = (["wasi_snapshot_preview1", "wasi_unstable"] as const).flatMap((module) =>
  WASI_SIGNATURES.map(([name, params, results, inSpec]) => ({
    module,
    name,
    params,
    results,
    abi: ALL,
    inSpec: inSpec && module === "wasi_snapshot_preview1",
  })),
);

/** Every importable host function. */
export const IMPORT_TABLE: readonly ImportSpec[] = [...PROXY, ...WASI];

const byKey = new Map(IMPORT_TABLE.map((spec) => [`${spec.module}.${spec.name}`, spec]));

/** Looks up a host function by module and name; undefined when the host does not provide it at all. */
export function findImport(module: string, name: string): ImportSpec | undefined {
  return byKey.get(`${module}.${name}`);
}

/** The module callbacks (exports) the host calls, with their Wasm signatures. */
export interface ExportSpec {
  name: string;
  params: readonly WasmValueType[];
  results: readonly WasmValueType[];
  inSpec: boolean;
}

const cb = (name: string, params: number, results: number, inSpec = true): ExportSpec => ({
  name,
  params: n(params),
  results: n(results),
  inSpec,
});

/** Module exports the host looks up (spec callbacks plus those cpp-host also looks up). */
export const EXPORT_TABLE: readonly ExportSpec[] = [
  cb("_initialize", 0, 0),
  cb("main", 2, 1),
  cb("_start", 0, 0),
  cb("malloc", 1, 1),
  cb("proxy_on_memory_allocate", 1, 1),
  cb("proxy_on_context_create", 2, 0),
  cb("proxy_on_done", 1, 1),
  cb("proxy_on_log", 1, 0),
  cb("proxy_on_delete", 1, 0),
  cb("proxy_on_vm_start", 2, 1),
  cb("proxy_on_configure", 2, 1),
  cb("proxy_on_tick", 1, 0),
  cb("proxy_on_new_connection", 1, 1),
  cb("proxy_on_downstream_data", 3, 1),
  cb("proxy_on_downstream_connection_close", 2, 0),
  cb("proxy_on_upstream_data", 3, 1),
  cb("proxy_on_upstream_connection_close", 2, 0),
  cb("proxy_on_request_headers", 3, 1),
  cb("proxy_on_request_body", 3, 1),
  cb("proxy_on_request_trailers", 2, 1),
  cb("proxy_on_response_headers", 3, 1),
  cb("proxy_on_response_body", 3, 1),
  cb("proxy_on_response_trailers", 2, 1),
  cb("proxy_on_http_call_response", 5, 0),
  cb("proxy_on_grpc_receive_initial_metadata", 3, 0),
  cb("proxy_on_grpc_receive", 3, 0),
  cb("proxy_on_grpc_receive_trailing_metadata", 3, 0),
  cb("proxy_on_grpc_close", 3, 0),
  cb("proxy_on_queue_ready", 2, 0),
  cb("proxy_on_foreign_function", 3, 0),
  cb("proxy_validate_configuration", 2, 1, false),
  // HTTP/2 METADATA frames: cpp-host looks them up; the C++ and AssemblyScript SDKs export them.
  cb("proxy_on_request_metadata", 2, 1, false),
  cb("proxy_on_response_metadata", 2, 1, false),
];

/** ABI version marker exports, newest first. */
export const ABI_MARKERS: ReadonlyArray<[string, AbiVersion]> = [
  ["proxy_abi_version_0_2_1", "0.2.1"],
  ["proxy_abi_version_0_2_0", "0.2.0"],
  ["proxy_abi_version_0_1_0", "0.1.0"],
];
