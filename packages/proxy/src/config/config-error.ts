import { PwtsError } from "@proxy-wasm-ts/errors";

/**
 * A problem in the bootstrap configuration. `path` is the field path inside the document
 * (`static_resources.clusters[2].connect_timeout`); the message is one line meant for a person.
 */
export class ConfigError extends PwtsError {
  constructor(
    readonly path: string,
    readonly reason: string,
  ) {
    super("PWTS_ERR_CONFIG", path ? `${path}: ${reason}` : reason);
  }
}
