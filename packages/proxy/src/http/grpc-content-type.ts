/**
 * grpc/common.cc hasGrpcContentType: "application/grpc" exactly or followed by "+" (application/grpc+proto);
 * application/grpc-web is not gRPC. Decides gRPC local replies and the route match `grpc: {}`.
 */
export function isGrpcContentType(contentType: string | undefined): boolean {
  if (contentType === undefined || !contentType.startsWith("application/grpc")) return false;
  return contentType.length === 16 || contentType[16] === "+";
}
