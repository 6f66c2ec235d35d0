/** `@proxy-wasm-ts/ship`: ship Proxy-Wasm plugins to Envoy and Istio. */
export { sha256Digest } from "./oci/digest.ts";
export { formatImageReference, type ImageReference, parseImageReference } from "./oci/image-reference.ts";
export { MediaType } from "./oci/media-types.ts";
export { type PullWasmOptions, type PullWasmResult, pullWasm } from "./oci/pull-wasm.ts";
export { type PushWasmOptions, type PushWasmResult, pushWasm } from "./oci/push-wasm.ts";
export type { RegistryCredentials } from "./oci/registry-auth.ts";
export { RegistryClient, RegistryError, type UploadProgress } from "./oci/registry-client.ts";
export {
  assertWasmModule,
  type BuiltWasmImage,
  buildWasmImage,
  type ImageManifest,
  type WasmImageLayout,
} from "./oci/wasm-image.ts";
