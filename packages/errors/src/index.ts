/**
 * The one error base class of the proxy-wasm-ts packages, and the catalogue of its codes. Like undici's
 * `UND_ERR_*` and fastify's `FST_ERR_*`, every error a package throws on purpose carries a stable `code`
 * (`PWTS_ERR_*`): callers switch on the code, not on the class or the message, and the code stays the same
 * when a message is reworded or the error is thrown by another copy of the package. Anything thrown without
 * a code is a bug, not a verdict on the input. This package imports nothing, so every package may depend on
 * it without depending on another.
 */

/** Every code, with what it means (the README's table of codes is checked against this list). */
export const ERROR_CODES = {
  PWTS_ERR_WASM_BINARY: "A WebAssembly binary is malformed; the message says where reading stopped.",
  PWTS_ERR_MODULE_LOAD: "A module cannot load in Envoy (or here): wrong ABI version, imports or exports.",
  PWTS_ERR_PLUGIN_START:
    "A plugin did not start: bad plugin options, a load error, or proxy_on_vm_start / proxy_on_configure returned false or trapped.",
  PWTS_ERR_CONFIG:
    "The Envoy bootstrap configuration is invalid or uses what the local data plane does not support; `path` names the field.",
  PWTS_ERR_LISTEN:
    "A listener could not bind its address; `systemCode` holds the socket error (EADDRINUSE, EADDRNOTAVAIL, ...).",
  PWTS_ERR_CALLBACK_TIMEOUT:
    "A plugin callback ran longer than the callback time limit and was stopped; `callback` names it.",
  PWTS_ERR_COMPILE:
    "An AssemblyScript plugin does not compile; the message holds the compiler's diagnostics.",
  PWTS_ERR_INVALID_WASM: "Bytes given as a plugin module are not a valid WebAssembly module.",
  PWTS_ERR_IMAGE_REFERENCE:
    "An OCI image reference cannot be parsed, or does not fit the operation (push needs a tag).",
  PWTS_ERR_REGISTRY_CREDENTIALS:
    "Registry credentials are incomplete or unreadable (a password without a user, a malformed docker config entry).",
  PWTS_ERR_REGISTRY_AUTH:
    "A registry refused the credentials, or asked for an authentication this client does not speak.",
  PWTS_ERR_REGISTRY_NETWORK: "A registry could not be reached.",
  PWTS_ERR_REGISTRY_NOT_FOUND: "A registry has no such repository, tag or blob.",
  PWTS_ERR_REGISTRY_PROTOCOL:
    "A registry answered outside the distribution protocol (status, headers, redirects).",
  PWTS_ERR_REGISTRY_INTEGRITY: "Content from a registry does not hash to its digest.",
  PWTS_ERR_NOT_WASM_IMAGE:
    "An image is not a Wasm image Istio can load (not a single image manifest, no Wasm layer, a broken compat layer).",
  PWTS_ERR_PLUGIN_DEPLOYMENT:
    "An Envoy config cannot be turned into Istio resources: no Wasm filter, an unknown callout cluster, an unsupported plugin configuration.",
  PWTS_ERR_WASMPLUGIN_OPTIONS:
    "Options for a WasmPlugin contradict each other or Istio's rules (an unpinned image, selector and targetRefs).",
  PWTS_ERR_USAGE:
    "A pwts command line or the files it names are not usable as given; the message says what is expected.",
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

/**
 * The base class of every error the proxy-wasm-ts packages throw on purpose. `name` is the subclass's
 * name (set here, once); `code` is one of `ERROR_CODES`. Subclasses add the fields their callers need
 * (`ConfigError.path`, `RegistryError.kind`); errors that need none are thrown as `PwtsError` itself.
 */
export class PwtsError extends Error {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/**
 * True for an error carrying one of the catalogued codes, whichever copy of a package threw it (an
 * `instanceof` test fails across two installed copies; the code does not).
 */
export function hasErrorCode(err: unknown): err is Error & { code: ErrorCode } {
  if (!(err instanceof Error)) return false;
  const code: unknown = (err as { code?: unknown }).code;
  return typeof code === "string" && Object.hasOwn(ERROR_CODES, code);
}
