/** `@proxy-wasm-ts/ship`: ship Proxy-Wasm plugins to Envoy, Istio and Envoy Gateway. */

export { validateComposeFile } from "./compose/compose-file.ts";
export { type ConfigProblem, formatProblem } from "./config-problem.ts";
export {
  type DeployManifests,
  type DeployOptions,
  type DeployTarget,
  deployManifests,
  deployTargets,
} from "./deploy/deploy-manifests.ts";
export {
  DEPLOY_DESCRIPTION,
  type DeploymentDescription,
  readDeploymentDescription,
} from "./deploy/deployment-description.ts";
export { validateEnvoyConfig } from "./envoy/envoy-config-validator.ts";
export { buildEnvoyDescriptor, envoyRegistry } from "./envoy/envoy-descriptor.ts";
export { UnsupportedTargetError } from "./envoy-gateway/envoy-gateway-generator.ts";
export {
  validateEnvoyExtensionPolicy,
  validateEnvoyPatchPolicy,
} from "./envoy-gateway/envoy-gateway-validator.ts";
export { type IstioManifestOptions, type IstioManifests, istioManifests } from "./istio/istio-manifests.ts";
export { validateKubernetesManifests, validateKubernetesResource } from "./istio/kubernetes-manifests.ts";
export {
  type CalloutCluster,
  type PluginDeployment,
  readPluginDeployment,
} from "./istio/plugin-deployment.ts";
export { validateTrafficExtension } from "./istio/trafficextension-validator.ts";
export { generateIstioResources, type WasmPluginOptions } from "./istio/wasmplugin-generator.ts";
export { type ResourceProblem, validateWasmPlugin } from "./istio/wasmplugin-validator.ts";
export {
  defaultTargetVersions,
  parseMinorVersion,
  type TargetVersions,
} from "./kubernetes/target-versions.ts";
export { sha256Digest } from "./oci/digest.ts";
export { formatImageReference, type ImageReference, parseImageReference } from "./oci/image-reference.ts";
export { MediaType } from "./oci/media-types.ts";
export { type PullWasmOptions, type PullWasmResult, pullWasm } from "./oci/pull-wasm.ts";
export { type PushWasmOptions, type PushWasmResult, pushWasm } from "./oci/push-wasm.ts";
export type { RegistryCredentials } from "./oci/registry-auth.ts";
export { RegistryClient, RegistryError, type UploadProgress } from "./oci/registry-client.ts";
export { resolveCredentials } from "./oci/registry-credentials.ts";
export { resolveImageDigest } from "./oci/resolve-digest.ts";
export {
  assertWasmModule,
  type BuiltWasmImage,
  buildWasmImage,
  type ImageManifest,
  type WasmImageLayout,
} from "./oci/wasm-image.ts";
export { type ConfigKind, detectConfigKind, validateConfigFiles } from "./validate-configs.ts";
