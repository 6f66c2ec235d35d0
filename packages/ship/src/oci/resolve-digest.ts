import { formatImageReference, manifestReference, parseImageReference } from "./image-reference.ts";
import type { RegistryCredentials } from "./registry-auth.ts";
import { RegistryClient } from "./registry-client.ts";

/**
 * Pins an image reference to its manifest digest: returns `registry/repo@sha256:…`, asking the registry
 * when the reference carries only a tag.
 */
export async function resolveImageDigest(
  image: string,
  options: { credentials?: RegistryCredentials; plainHttp?: boolean } = {},
): Promise<string> {
  const reference = parseImageReference(image);
  const pinned = (digest: string) =>
    formatImageReference({ registry: reference.registry, repository: reference.repository, digest });
  if (reference.digest) return pinned(reference.digest);
  const client = new RegistryClient({
    registry: reference.registry,
    ...(options.credentials ? { credentials: options.credentials } : {}),
    ...(options.plainHttp !== undefined ? { plainHttp: options.plainHttp } : {}),
  });
  try {
    const { digest } = await client.getManifest(reference.repository, manifestReference(reference));
    return pinned(digest);
  } finally {
    await client.close();
  }
}
