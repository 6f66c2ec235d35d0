/** `npm run build -w packages/ship`: compiles Envoy's v3 API descriptor set into packages/ship/build/. */
import { buildEnvoyDescriptor, descriptorPath } from "../src/envoy/envoy-descriptor.ts";

const stamp = await buildEnvoyDescriptor();
console.log(
  `${descriptorPath}: ${stamp.files} root files from @grpc/grpc-js-xds ${stamp.grpcJsXdsVersion}; ` +
    `left out (imports not shipped): ${stamp.excluded.join(", ") || "none"}`,
);
