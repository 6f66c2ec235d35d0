import { PwtsError } from "@proxy-wasm-ts/errors";
import { formatImageReference, type ImageReference, parseImageReference } from "./image-reference.ts";
import type { RegistryCredentials } from "./registry-auth.ts";
import { RegistryClient, type UploadProgress } from "./registry-client.ts";
import { buildWasmImage, type WasmImageLayout } from "./wasm-image.ts";

export interface PushWasmOptions {
  layout?: WasmImageLayout;
  credentials?: RegistryCredentials;
  plainHttp?: boolean;
  /** Force the chunked upload flow with chunks of this many bytes. */
  chunkSize?: number;
  rootIds?: string[];
  annotations?: Record<string, string>;
  onProgress?: (progress: UploadProgress) => void;
}

export interface PushWasmResult {
  /** Manifest digest: what `WasmPlugin.spec.sha256` and `url …@sha256:` need. */
  digest: string;
  reference: ImageReference;
  /** `oci://registry/repository@sha256:…`: the pinned URL for a WasmPlugin. */
  pinnedUrl: string;
  layout: WasmImageLayout;
  manifestSize: number;
  uploads: Array<{ digest: string; size: number; how: "exists" | "monolithic" | "chunked" }>;
}

/** Builds a Wasm image in the chosen layout (compat by default) and pushes it to `image`. */
export async function pushWasm(
  wasm: Uint8Array,
  image: string,
  options: PushWasmOptions = {},
): Promise<PushWasmResult> {
  const reference = parseImageReference(image);
  if (reference.digest)
    throw new PwtsError(
      "PWTS_ERR_IMAGE_REFERENCE",
      `image reference "${image}": push needs a tag, not a digest`,
    );
  const layout = options.layout ?? "compat";
  const built = await buildWasmImage(wasm, layout, {
    ...(options.rootIds ? { rootIds: options.rootIds } : {}),
    ...(options.annotations ? { annotations: options.annotations } : {}),
  });
  const client = new RegistryClient({
    registry: reference.registry,
    ...(options.credentials ? { credentials: options.credentials } : {}),
    ...(options.plainHttp !== undefined ? { plainHttp: options.plainHttp } : {}),
    ...(options.chunkSize !== undefined ? { chunkSize: options.chunkSize } : {}),
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
  });
  try {
    const uploads: PushWasmResult["uploads"] = [];
    for (const blob of built.blobs) {
      const how = await client.pushBlob(reference.repository, blob.bytes, blob.descriptor.digest);
      uploads.push({ digest: blob.descriptor.digest, size: blob.descriptor.size, how });
    }
    const digest = await client.putManifest(
      reference.repository,
      reference.tag ?? "latest",
      built.manifest,
      built.manifestMediaType,
    );
    return {
      digest,
      reference,
      pinnedUrl: `oci://${formatImageReference({ registry: reference.registry, repository: reference.repository, digest })}`,
      layout,
      manifestSize: built.manifest.byteLength,
      uploads,
    };
  } finally {
    await client.close();
  }
}
