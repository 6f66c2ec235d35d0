import { createHash } from "node:crypto";

/** The OCI content digest of some bytes: `sha256:<64 lowercase hex>`. */
export function sha256Digest(bytes: Uint8Array): string {
  return `sha256:${createHash("sha256").update(bytes).digest("hex")}`;
}
