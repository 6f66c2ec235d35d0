/** A registry operation failed; `kind` tells auth, network and protocol failures apart. */
export class RegistryError extends Error {
  constructor(
    message: string,
    readonly kind: "auth" | "network" | "not-found" | "protocol" | "integrity",
  ) {
    super(message);
    this.name = "RegistryError";
  }
}
