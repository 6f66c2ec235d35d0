import { type ImageReference, manifestReference, parseImageReference } from "./image-reference.ts";
import type { RegistryCredentials } from "./registry-auth.ts";
import { RegistryClient } from "./registry-client.ts";
import {
  assertWasmModule,
  type ImageManifest,
  parseImageManifest,
  type WasmImageLayout,
  wasmFromLayer,
  wasmLayerOf,
} from "./wasm-image.ts";

export interface PullWasmOptions {
  credentials?: RegistryCredentials;
  plainHttp?: boolean;
}

export interface PullWasmResult {
  reference: ImageReference;
  /** Manifest digest, computed from the bytes served (and checked against the registry's header). */
  digest: string;
  layout: WasmImageLayout;
  manifest: ImageManifest;
  wasm: Uint8Array;
}

/**
 * Fetches a Wasm image and checks it the way Istio would load it: an accepted layout, every blob matching
 * its digest, and a valid WebAssembly module inside.
 */
export async function pullWasm(image: string, options: PullWasmOptions = {}): Promise<PullWasmResult> {
  const reference = parseImageReference(image);
  const client = new RegistryClient({
    registry: reference.registry,
    ...(options.credentials ? { credentials: options.credentials } : {}),
    ...(options.plainHttp !== undefined ? { plainHttp: options.plainHttp } : {}),
  });
  try {
    const fetched = await client.getManifest(reference.repository, manifestReference(reference));
    const manifest = parseImageManifest(fetched.bytes, fetched.mediaType);
    const { layout, layer } = wasmLayerOf(manifest);
    const layerBytes = await client.getBlob(reference.repository, layer.digest);
    const wasm = await wasmFromLayer(layout, layerBytes);
    assertWasmModule(wasm, `module in ${image}`);
    return { reference, digest: fetched.digest, layout, manifest, wasm };
  } finally {
    await client.close();
  }
}
