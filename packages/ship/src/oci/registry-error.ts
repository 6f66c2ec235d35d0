import { type ErrorCode, PwtsError } from "@proxy-wasm-ts/errors";

export type RegistryErrorKind = "auth" | "network" | "not-found" | "protocol" | "integrity";

const CODES: Record<RegistryErrorKind, ErrorCode> = {
  auth: "PWTS_ERR_REGISTRY_AUTH",
  network: "PWTS_ERR_REGISTRY_NETWORK",
  "not-found": "PWTS_ERR_REGISTRY_NOT_FOUND",
  protocol: "PWTS_ERR_REGISTRY_PROTOCOL",
  integrity: "PWTS_ERR_REGISTRY_INTEGRITY",
};

/** A registry operation failed; `kind` (and `code`, one per kind) tells auth, network and protocol failures apart. */
export class RegistryError extends PwtsError {
  constructor(
    message: string,
    readonly kind: RegistryErrorKind,
    options?: ErrorOptions,
  ) {
    super(CODES[kind], message, options);
  }
}
