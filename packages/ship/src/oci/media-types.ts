/** Media types of the manifests and layers the Wasm image layouts use (OCI image spec, solo-io/wasm spec). */
export const MediaType = {
  ociManifest: "application/vnd.oci.image.manifest.v1+json",
  ociIndex: "application/vnd.oci.image.index.v1+json",
  dockerManifest: "application/vnd.docker.distribution.manifest.v2+json",
  dockerManifestList: "application/vnd.docker.distribution.manifest.list.v2+json",
  ociImageConfig: "application/vnd.oci.image.config.v1+json",
  ociLayerTarGzip: "application/vnd.oci.image.layer.v1.tar+gzip",
  dockerLayerTarGzip: "application/vnd.docker.image.rootfs.diff.tar.gzip",
  /** solo.io "oci" variant: the raw Wasm bytes. */
  wasmContentLayer: "application/vnd.module.wasm.content.layer.v1+wasm",
  /** solo.io "oci" variant: the runtime config, used both as manifest config and as the second layer. */
  wasmRuntimeConfig: "application/vnd.module.wasm.config.v1+json",
} as const;

/** What `GET /v2/<name>/manifests/<ref>` asks for: every manifest type a Wasm image can come as. */
export const manifestAccept = [
  MediaType.ociManifest,
  MediaType.dockerManifest,
  MediaType.ociIndex,
  MediaType.dockerManifestList,
].join(", ");
