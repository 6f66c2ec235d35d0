/**
 * The two Wasm image layouts Istio's fetcher accepts (istio/istio pkg/wasm/imagefetcher.go; deploy.md §4a):
 *
 * - `compat`: an ordinary OCI image whose single tar+gzip layer holds `plugin.wasm`
 *   (solo-io/wasm spec-compat; works with every registry and with docker/podman/skopeo);
 * - `wasm-layers`: solo.io's "oci" variant, exactly two layers, the runtime config
 *   (`application/vnd.module.wasm.config.v1+json`) and the raw module
 *   (`application/vnd.module.wasm.content.layer.v1+wasm`).
 *
 * Bytes are deterministic (tar mtime 0, gzip mtime 0, fixed key order) so the same module always gives the
 * same manifest digest.
 */

import { gunzipSync, gzipSync } from "node:zlib";
import { PwtsError } from "@proxy-wasm-ts/errors";
import { extract, pack } from "tar-stream";
import { assertProxyWasmModule, assertWasmModule } from "../wasm-module.ts";
import { sha256Digest } from "./digest.ts";
import { MediaType } from "./media-types.ts";

export { assertWasmModule };

export type WasmImageLayout = "compat" | "wasm-layers";

/** A content descriptor as manifests carry them. */
export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  annotations?: Record<string, string>;
}

/** An OCI/Docker image manifest (the fields a Wasm image uses). */
export interface ImageManifest {
  schemaVersion: 2;
  mediaType?: string;
  config: Descriptor;
  layers: Descriptor[];
  annotations?: Record<string, string>;
}

/** A built image: the blobs to upload and the manifest bytes that name them. */
export interface BuiltWasmImage {
  layout: WasmImageLayout;
  blobs: Array<{ descriptor: Descriptor; bytes: Uint8Array }>;
  manifest: Uint8Array;
  manifestMediaType: string;
  digest: string;
}

export interface WasmImageOptions {
  /** Root ids the module serves, recorded in the runtime config. */
  rootIds?: string[];
  /** Extra manifest annotations (e.g. `org.opencontainers.image.source`). */
  annotations?: Record<string, string>;
}

/** The file name Istio's fetcher looks for inside a compat layer. */
export const compatWasmFileName = "plugin.wasm";

/** Builds the image for a module in the chosen layout. */
export async function buildWasmImage(
  wasm: Uint8Array,
  layout: WasmImageLayout,
  options: WasmImageOptions = {},
): Promise<BuiltWasmImage> {
  assertProxyWasmModule(wasm, "module to push");
  return layout === "compat" ? buildCompat(wasm, options) : buildWasmLayers(wasm, options);
}

async function buildCompat(wasm: Uint8Array, options: WasmImageOptions): Promise<BuiltWasmImage> {
  const tar = await tarSingleFile(compatWasmFileName, wasm);
  // Node writes a zero mtime in the gzip header, so the layer bytes depend on the content only.
  const layer = new Uint8Array(gzipSync(tar, { level: 9 }));
  const config = jsonBytes({
    architecture: "wasm",
    os: "wasip1",
    config: {},
    rootfs: { type: "layers", diff_ids: [sha256Digest(tar)] },
  });
  const configDescriptor = descriptor(MediaType.ociImageConfig, config);
  const layerDescriptor = descriptor(MediaType.ociLayerTarGzip, layer);
  return finish("compat", [configDescriptor, config], [[layerDescriptor, layer]], {
    "module.wasm.image/variant": "compat",
    ...options.annotations,
  });
}

async function buildWasmLayers(wasm: Uint8Array, options: WasmImageOptions): Promise<BuiltWasmImage> {
  const runtimeConfig = jsonBytes({
    type: "envoy_proxy",
    abiVersions: ["proxy_abi_version_0_2_1"],
    config: { rootIds: options.rootIds ?? [] },
  });
  const configDescriptor = descriptor(MediaType.wasmRuntimeConfig, runtimeConfig);
  const wasmDescriptor = descriptor(MediaType.wasmContentLayer, wasm);
  return finish(
    "wasm-layers",
    [configDescriptor, runtimeConfig],
    [
      [configDescriptor, runtimeConfig],
      [wasmDescriptor, wasm],
    ],
    options.annotations,
  );
}

function finish(
  layout: WasmImageLayout,
  config: [Descriptor, Uint8Array],
  layers: Array<[Descriptor, Uint8Array]>,
  annotations: Record<string, string> | undefined,
): BuiltWasmImage {
  const manifestObject: ImageManifest = {
    schemaVersion: 2,
    mediaType: MediaType.ociManifest,
    config: config[0],
    layers: layers.map(([d]) => d),
    ...(annotations && Object.keys(annotations).length ? { annotations } : {}),
  };
  const manifest = jsonBytes(manifestObject);
  // The config blob doubles as a layer in the wasm-layers layout: upload each digest once.
  const blobs = new Map<string, { descriptor: Descriptor; bytes: Uint8Array }>();
  for (const [d, bytes] of [config, ...layers]) blobs.set(d.digest, { descriptor: d, bytes });
  return {
    layout,
    blobs: [...blobs.values()],
    manifest,
    manifestMediaType: MediaType.ociManifest,
    digest: sha256Digest(manifest),
  };
}

/** Parses manifest bytes, checking the fields a Wasm image needs. */
export function parseImageManifest(bytes: Uint8Array, mediaType: string): ImageManifest {
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    throw new PwtsError("PWTS_ERR_NOT_WASM_IMAGE", "manifest is not JSON");
  }
  const m = value as Partial<ImageManifest> & { manifests?: unknown };
  const type = m.mediaType ?? mediaType;
  if (type === MediaType.ociIndex || type === MediaType.dockerManifestList || m.manifests) {
    throw new PwtsError(
      "PWTS_ERR_NOT_WASM_IMAGE",
      `manifest is an index (${type}); a Wasm image must be a single image manifest`,
    );
  }
  if (m.schemaVersion !== 2 || !m.config || !Array.isArray(m.layers)) {
    throw new PwtsError(
      "PWTS_ERR_NOT_WASM_IMAGE",
      `manifest (${type || "no media type"}) lacks schemaVersion 2, config or layers`,
    );
  }
  return m as ImageManifest;
}

/**
 * Decides which layout a manifest has, the way Istio's fetcher does, and names the layer holding the module.
 * Throws with Istio's reason when the image would be refused.
 */
export function wasmLayerOf(manifest: ImageManifest): { layout: WasmImageLayout; layer: Descriptor } {
  const layers = manifest.layers;
  const tarGzip: string[] = [MediaType.ociLayerTarGzip, MediaType.dockerLayerTarGzip];
  if (layers.length === 1 && layers[0] && tarGzip.includes(layers[0].mediaType)) {
    return { layout: "compat", layer: layers[0] };
  }
  const content = layers.find((l) => l.mediaType === MediaType.wasmContentLayer);
  if (layers.length === 2 && content) return { layout: "wasm-layers", layer: content };
  const types = layers.map((l) => l.mediaType).join(", ") || "none";
  throw new PwtsError(
    "PWTS_ERR_NOT_WASM_IMAGE",
    `image is not a Wasm image Istio accepts: expected one tar+gzip layer holding ${compatWasmFileName}, ` +
      `or two layers with ${MediaType.wasmContentLayer}; found ${layers.length} layer(s): ${types}`,
  );
}

/** Gets the module out of a layer's bytes: unpacks `plugin.wasm` from a compat layer, or takes raw bytes. */
export async function wasmFromLayer(layout: WasmImageLayout, layer: Uint8Array): Promise<Uint8Array> {
  if (layout === "wasm-layers") return layer;
  let tar: Buffer;
  try {
    tar = gunzipSync(layer);
  } catch {
    throw new PwtsError("PWTS_ERR_NOT_WASM_IMAGE", "compat layer is not gzip data");
  }
  const found = await readTarFile(tar, (name) => name.split("/").pop() === compatWasmFileName);
  if (!found) throw new PwtsError("PWTS_ERR_NOT_WASM_IMAGE", `compat layer holds no ${compatWasmFileName}`);
  return found;
}

function descriptor(mediaType: string, bytes: Uint8Array): Descriptor {
  return { mediaType, digest: sha256Digest(bytes), size: bytes.byteLength };
}

function jsonBytes(value: unknown): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(value));
}

async function tarSingleFile(name: string, content: Uint8Array): Promise<Uint8Array> {
  const archive = pack();
  const chunks: Buffer[] = [];
  archive.on("data", (chunk) => chunks.push(chunk as Buffer));
  const ended = new Promise<void>((resolve, reject) => {
    archive.on("end", resolve);
    archive.on("error", reject);
  });
  archive.entry(
    { name, size: content.byteLength, mode: 0o644, mtime: new Date(0), uid: 0, gid: 0, uname: "", gname: "" },
    Buffer.from(content),
  );
  archive.finalize();
  await ended;
  return new Uint8Array(Buffer.concat(chunks));
}

/** The content of the first regular file whose name `wanted` accepts, or undefined. */
async function readTarFile(
  tar: Uint8Array,
  wanted: (name: string) => boolean,
): Promise<Uint8Array | undefined> {
  const reader = extract();
  let found: Uint8Array | undefined;
  const done = new Promise<void>((resolve, reject) => {
    reader.on("entry", (header, stream, next) => {
      const keep = found === undefined && header.type === "file" && wanted(header.name);
      const chunks: Buffer[] = [];
      stream.on("data", (chunk) => {
        if (keep) chunks.push(chunk as Buffer);
      });
      stream.on("end", () => {
        if (keep) found = new Uint8Array(Buffer.concat(chunks));
        next();
      });
    });
    reader.on("finish", resolve);
    reader.on("error", (err: Error) =>
      reject(new Error(`compat layer is not a valid tar archive: ${err.message}`)),
    );
  });
  reader.end(Buffer.from(tar));
  await done;
  return found;
}
