/**
 * Image references as `docker`/`oras` spell them: `[registry/]repository[:tag][@sha256:<hex>]`,
 * optionally prefixed with `oci://` (the scheme WasmPlugin URLs use).
 */
import { PwtsError } from "@proxy-wasm-ts/errors";

/** A parsed image reference. */
export interface ImageReference {
  /** Registry host with optional port, e.g. `ghcr.io` or `127.0.0.1:5000`. */
  registry: string;
  /** Repository path, e.g. `org/plugins/api-observer`. */
  repository: string;
  tag?: string;
  /** `sha256:<64 hex>` when the reference pins a manifest digest. */
  digest?: string;
}

const repositoryPattern =
  /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$/;
const tagPattern = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
const digestPattern = /^sha256:[a-f0-9]{64}$/;

/**
 * Parses an image reference. A registry host is required (no implicit Docker Hub): the first path
 * segment must contain a `.` or `:` or be `localhost`.
 */
export function parseImageReference(input: string): ImageReference {
  const fail = (why: string): never => {
    throw new PwtsError("PWTS_ERR_IMAGE_REFERENCE", `image reference "${input}": ${why}`);
  };
  let rest = input.startsWith("oci://") ? input.slice("oci://".length) : input;
  let digest: string | undefined;
  const at = rest.indexOf("@");
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!digestPattern.test(digest)) fail(`digest "${digest}" is not sha256:<64 lowercase hex>`);
  }
  const slash = rest.indexOf("/");
  if (slash < 0) fail("expected REGISTRY/REPOSITORY[:TAG], e.g. 127.0.0.1:5000/plugins/demo:0.1.0");
  const registry = rest.slice(0, slash);
  if (!(registry.includes(".") || registry.includes(":") || registry === "localhost")) {
    fail(`"${registry}" is not a registry host (expected a name with a dot or port, or localhost)`);
  }
  let repository = rest.slice(slash + 1);
  let tag: string | undefined;
  const colon = repository.lastIndexOf(":");
  if (colon >= 0) {
    tag = repository.slice(colon + 1);
    repository = repository.slice(0, colon);
    if (!tagPattern.test(tag)) fail(`tag "${tag}" is not valid (letters, digits, _ . -, at most 128)`);
  }
  if (!repositoryPattern.test(repository)) {
    fail(`repository "${repository}" is not valid (lowercase letters, digits and separators . _ - /)`);
  }
  if (!tag && !digest) tag = "latest";
  return { registry, repository, ...(tag ? { tag } : {}), ...(digest ? { digest } : {}) };
}

/** The reference a manifest request uses: the digest when pinned, else the tag. */
export function manifestReference(ref: ImageReference): string {
  return ref.digest ?? ref.tag ?? "latest";
}

/** Formats a reference back, `registry/repository[:tag][@digest]`. */
export function formatImageReference(ref: ImageReference): string {
  return `${ref.registry}/${ref.repository}${ref.tag ? `:${ref.tag}` : ""}${ref.digest ? `@${ref.digest}` : ""}`;
}
