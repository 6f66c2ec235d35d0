/**
 * Checks a built module against what Envoy provides: every import must be a host function of the
 * module's ABI version (the host package's import table is the single list), and the exports the
 * host needs must be present.
 */
import { ABI_MARKERS, findImport } from "@proxy-wasm-ts/host";

type AbiVersion = (typeof ABI_MARKERS)[number][1];

export interface ModuleCheck {
  /** ABI version from the `proxy_abi_version_*` export, or null when there is none. */
  abiVersion: AbiVersion | null;
  /** Every import, as `module.name`. */
  imports: string[];
  /** Imports Envoy does not provide for this ABI version, with the reason. */
  unsupported: string[];
  /** Required exports that are missing. */
  missingExports: string[];
}

export function checkModule(wasm: Uint8Array): ModuleCheck {
  const module = new WebAssembly.Module(wasm);
  const exports = new Set(WebAssembly.Module.exports(module).map((e) => e.name));
  const marker = ABI_MARKERS.find(([name]) => exports.has(name));
  const abiVersion = marker ? marker[1] : null;
  const imports: string[] = [];
  const unsupported: string[] = [];
  for (const entry of WebAssembly.Module.imports(module)) {
    const name = `${entry.module}.${entry.name}`;
    imports.push(name);
    if (entry.kind !== "function") {
      unsupported.push(`${name} (a ${entry.kind} import; Envoy only provides functions)`);
      continue;
    }
    const spec = findImport(entry.module, entry.name);
    if (!spec) unsupported.push(`${name} (not a Proxy-Wasm or WASI host function)`);
    else if (abiVersion && !spec.abi.includes(abiVersion))
      unsupported.push(
        `${name} (only provided to ABI ${spec.abi.join("/")} modules, this one is ${abiVersion})`,
      );
  }
  const missingExports: string[] = [];
  if (!abiVersion) missingExports.push("proxy_abi_version_0_2_1");
  if (!exports.has("malloc") && !exports.has("proxy_on_memory_allocate")) missingExports.push("malloc");
  if (!exports.has("memory")) missingExports.push("memory");
  return { abiVersion, imports, unsupported, missingExports };
}
