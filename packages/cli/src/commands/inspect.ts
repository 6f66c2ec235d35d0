/**
 * `pwts inspect PLUGIN.wasm`: what a plugin module is and whether Envoy could load it — ABI version, size,
 * start-up and allocator exports, every import (marked when the host or Envoy would not provide it, or
 * provides it with another signature), every export (marked when it looks like a callback but no host
 * calls it). Exits 1 when Envoy could not load the module, 2 when the input is not a module at all.
 *
 * What the host provides comes from the host's own import and export tables, import-signature reader and
 * module loader, so this command and the host can never disagree.
 */
import { readFile } from "node:fs/promises";
import { hasErrorCode } from "@proxy-wasm-ts/errors";
import {
  ABI_MARKERS,
  type AbiVersion,
  EXPORT_TABLE,
  findImport,
  formatSignature,
  ProxyWasmModule,
  readImportSignatures,
  type Signature,
  sameSignature,
} from "@proxy-wasm-ts/host";
import type { Command } from "commander";
import { UserError } from "../user-error.ts";

/** Exit status when the input is unreadable or not a WebAssembly module. */
const EXIT_BAD_INPUT = 2;
/** Exit status when the module is valid WebAssembly but Envoy could not load it. */
const EXIT_NOT_LOADABLE = 1;

/** How one import fares against what the host (and Envoy) provide. */
export type ImportVerdict =
  | { kind: "ok" }
  | { kind: "missing" }
  | { kind: "wrong-abi"; providedTo: readonly AbiVersion[] }
  | { kind: "signature-mismatch"; expected: Signature }
  | { kind: "not-a-function"; importKind: string };

export interface ImportReport {
  module: string;
  name: string;
  kind: string;
  /** Null for non-function imports. */
  signature: Signature | null;
  verdict: ImportVerdict;
  /** For a well-known import that cannot be provided: where it comes from and what to do instead. */
  advice?: string;
}

export interface ExportReport {
  name: string;
  kind: string;
  /** True when the host looks this export up (a callback, allocator, start function or ABI marker). */
  usedByHost: boolean;
}

/** Everything `pwts inspect` reports, as data (printed as text or, with `--json`, as JSON). */
export interface InspectReport {
  file: string;
  size: number;
  abiVersion: AbiVersion | null;
  /** How the host starts the module, as proxy-wasm-cpp-host does. */
  startup: "_initialize + main" | "_initialize" | "_start" | "none";
  allocator: "malloc" | "proxy_on_memory_allocate" | null;
  imports: ImportReport[];
  exports: ExportReport[];
  /** Reasons Envoy could not load the module; empty when it could. */
  problems: string[];
  /** The host's own verdict: null when its loader accepts the module, else the loader's message. */
  hostLoadError: string | null;
}

// ---- analysis ----------------------------------------------------------------------------------------------

/**
 * Where well-known imports that no proxy provides come from, and what to do instead. Advice only: whether
 * an import is provided is decided by the host's import table alone.
 */
const IMPORT_ADVICE: ReadonlyArray<[pattern: RegExp, advice: string]> = [
  [
    /^env\.(abort|trace|seed)$/,
    "AssemblyScript's runtime import: build with --use abort=<handler> (and no trace/seed), or with the SDK",
  ],
  [
    /^env\.proxy_(clear_route_cache|continue_request|continue_response|get_configuration)$/,
    "ABI v0.1.0 only: on v0.2.x use proxy_continue_stream, the PLUGIN_CONFIGURATION buffer, and the " +
      "foreign function clear_route_cache",
  ],
  [
    /^env\.proxy_(dictionary_get|get_secret|get_effective_at_secret|kv_store_\w+)$/,
    "a G-Core FastEdge extension, not part of Proxy-Wasm; Envoy and Istio do not have it",
  ],
  [
    /^wasi_(snapshot_preview1|unstable)\.(fd_filestat_\w+|fd_readdir|path_\w+|sock_\w+)$/,
    "file-system or socket WASI call (Go's os/net packages pull them in); proxies give plugins no files or sockets",
  ],
];

function adviceFor(where: string): string | undefined {
  return IMPORT_ADVICE.find(([pattern]) => pattern.test(where))?.[1];
}

const CALLBACKS_THE_HOST_CALLS = new Set([
  ...EXPORT_TABLE.map((spec) => spec.name),
  ...ABI_MARKERS.map(([marker]) => marker),
  "memory",
]);

/** Analyses module bytes. Throws UserError when the bytes are not a WebAssembly module. */
export async function inspectModule(file: string, bytes: Uint8Array): Promise<InspectReport> {
  if (bytes.length < 8 || bytes[0] !== 0x00 || bytes[1] !== 0x61 || bytes[2] !== 0x73 || bytes[3] !== 0x6d) {
    const hint = /^\s*\(module/.test(new TextDecoder().decode(bytes.subarray(0, 64)))
      ? " (it looks like WebAssembly text; compile it to .wasm first)"
      : "";
    throw new UserError(
      `${file} is not a WebAssembly module: expected the magic bytes \\0asm at the start${hint}`,
      EXIT_BAD_INPUT,
    );
  }
  let compiled: WebAssembly.Module;
  try {
    compiled = await WebAssembly.compile(bytes);
  } catch (err) {
    throw new UserError(
      `${file} is not a valid WebAssembly module: ${(err as Error).message}`,
      EXIT_BAD_INPUT,
    );
  }
  const exported = WebAssembly.Module.exports(compiled);
  const exportNames = new Set(exported.map((e) => e.name));
  const marker = ABI_MARKERS.find(([name]) => exportNames.has(name));
  const abiVersion = marker ? marker[1] : null;
  const signatures = readImportSignatures(bytes);
  const problems: string[] = [];
  if (!abiVersion) {
    problems.push(
      `no ABI version marker: Envoy rejects it as "missing or unknown Proxy-Wasm ABI version" ` +
        `(export one of ${ABI_MARKERS.map(([name]) => name).join(", ")})`,
    );
  }

  const imports: ImportReport[] = WebAssembly.Module.imports(compiled).map((imp) => {
    const where = `${imp.module}.${imp.name}`;
    const signature = signatures.get(where) ?? null;
    let verdict: ImportVerdict;
    const spec = findImport(imp.module, imp.name);
    if (imp.kind !== "function") {
      verdict = { kind: "not-a-function", importKind: imp.kind };
      problems.push(`${where} imports a ${imp.kind}; the host provides functions only`);
    } else if (!spec) {
      verdict = { kind: "missing" };
      problems.push(`${where} is not provided by the host or Envoy ("missing import")`);
    } else if (signature && !sameSignature(signature, spec)) {
      const expected = { params: [...spec.params], results: [...spec.results] };
      verdict = { kind: "signature-mismatch", expected };
      problems.push(
        `${where} is imported as ${formatSignature(signature)} but the host and Envoy provide ` +
          `${formatSignature(expected)} ("import type mismatch")`,
      );
    } else if (abiVersion && !spec.abi.includes(abiVersion)) {
      verdict = { kind: "wrong-abi", providedTo: spec.abi };
      problems.push(
        `${where} is provided only to ABI ${spec.abi.join(", ")} modules, and this one is ${abiVersion}`,
      );
    } else {
      verdict = { kind: "ok" };
    }
    const report: ImportReport = { module: imp.module, name: imp.name, kind: imp.kind, signature, verdict };
    const advice = verdict.kind === "ok" ? undefined : adviceFor(where);
    if (advice) report.advice = advice;
    return report;
  });

  const allocator = exportNames.has("malloc")
    ? "malloc"
    : exportNames.has("proxy_on_memory_allocate")
      ? "proxy_on_memory_allocate"
      : null;
  if (!allocator)
    problems.push("exports neither malloc nor proxy_on_memory_allocate (Envoy: missing malloc function)");
  if (!exportNames.has("memory")) problems.push("does not export its linear memory as `memory`");
  const startup = exportNames.has("_initialize")
    ? exportNames.has("main")
      ? "_initialize + main"
      : "_initialize"
    : exportNames.has("_start")
      ? "_start"
      : "none";

  let hostLoadError: string | null = null;
  try {
    await ProxyWasmModule.load(bytes);
  } catch (err) {
    if (!(hasErrorCode(err) && err.code === "PWTS_ERR_MODULE_LOAD")) throw err;
    hostLoadError = err.message;
  }
  return {
    file,
    size: bytes.length,
    abiVersion,
    startup,
    allocator,
    imports,
    exports: exported.map((e) => ({
      name: e.name,
      kind: e.kind,
      usedByHost: CALLBACKS_THE_HOST_CALLS.has(e.name),
    })),
    problems,
    hostLoadError,
  };
}

// ---- output ------------------------------------------------------------------------------------------------

function describeVerdict(verdict: ImportVerdict): string {
  switch (verdict.kind) {
    case "ok":
      return "";
    case "missing":
      return "NOT PROVIDED by the host or Envoy";
    case "wrong-abi":
      return `NOT PROVIDED to this ABI version (only to ${verdict.providedTo.join(", ")})`;
    case "signature-mismatch":
      return `WRONG SIGNATURE: the host and Envoy provide ${formatSignature(verdict.expected)}`;
    case "not-a-function":
      return `NOT PROVIDED: a ${verdict.importKind} import`;
  }
}

/** Renders the report as the text `pwts inspect` prints. */
export function renderReport(report: InspectReport): string {
  const lines = [
    report.file,
    `  size        ${report.size} bytes`,
    `  ABI         ${report.abiVersion ?? "none (no proxy_abi_version_* export)"}`,
    `  start-up    ${report.startup}`,
    `  allocator   ${report.allocator ?? "none"}`,
    "",
    `imports (${report.imports.length})`,
  ];
  const width = Math.max(0, ...report.imports.map((i) => i.module.length + i.name.length + 1));
  for (const imp of report.imports) {
    const mark = imp.verdict.kind === "ok" ? "  ok " : "  !! ";
    const signature = imp.signature ? formatSignature(imp.signature) : imp.kind;
    const note = describeVerdict(imp.verdict);
    lines.push(`${mark}${`${imp.module}.${imp.name}`.padEnd(width)}  ${signature}${note ? `  ${note}` : ""}`);
    if (imp.advice) lines.push(`     ${" ".repeat(width)}  -> ${imp.advice}`);
  }
  lines.push("", `exports (${report.exports.length})`);
  for (const exp of report.exports) {
    const note =
      exp.usedByHost || exp.kind !== "function"
        ? ""
        : exp.name.startsWith("proxy_")
          ? "  (no host calls this: not a callback of the ABI)"
          : "  (not called by the host)";
    lines.push(`  ${exp.name}${exp.kind === "function" ? "" : ` [${exp.kind}]`}${note}`);
  }
  lines.push("");
  if (report.problems.length === 0) {
    lines.push("Envoy can load this plugin.");
  } else {
    lines.push(`Envoy could not load this plugin (${report.problems.length} problem(s)):`);
    for (const problem of report.problems) lines.push(`  - ${problem}`);
  }
  if (report.hostLoadError) lines.push(`proxy-wasm-ts host: ${report.hostLoadError}`);
  return `${lines.join("\n")}\n`;
}

export function register(command: Command): void {
  command
    .argument("<plugin.wasm>", "compiled plugin module")
    .option("--json", "print the report as JSON")
    .action(async (file: string, options: { json?: boolean }) => {
      let bytes: Uint8Array;
      try {
        bytes = new Uint8Array(await readFile(file));
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        const reason = code === "ENOENT" ? "no such file" : code === "EISDIR" ? "it is a directory" : code;
        throw new UserError(`cannot read ${file}: ${reason ?? (err as Error).message}`, EXIT_BAD_INPUT);
      }
      const report = await inspectModule(file, bytes);
      process.stdout.write(options.json ? `${JSON.stringify(report, null, 2)}\n` : renderReport(report));
      if (report.problems.length > 0 || report.hostLoadError) process.exitCode = EXIT_NOT_LOADABLE;
    });
}
