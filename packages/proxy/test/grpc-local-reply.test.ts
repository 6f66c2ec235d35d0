import assert from "node:assert/strict";
import { test } from "node:test";
import { grpcPercentEncode, httpToGrpcStatus } from "../src/http/local-reply.ts";

test("HTTP statuses map to gRPC statuses as Envoy's Grpc::Utility::httpToGrpcStatus maps them", () => {
  const table: Array<[number, number]> = [
    [400, 13],
    [401, 16],
    [403, 7],
    [404, 12],
    [429, 14],
    [502, 14],
    [503, 14],
    [504, 14],
    [500, 2],
    [413, 2],
    [200, 2],
  ];
  for (const [http, grpc] of table) assert.equal(httpToGrpcStatus(http), grpc, `HTTP ${http}`);
});

test("grpc-message is percent-encoded as Envoy's PercentEncoding::encode: controls, '%', '~' and non-ASCII bytes", () => {
  assert.equal(grpcPercentEncode(Buffer.from("plain text: ok!")), "plain text: ok!");
  assert.equal(grpcPercentEncode(Buffer.from("100% sure\n")), "100%25 sure%0A");
  assert.equal(grpcPercentEncode(Buffer.from("a~b")), "a%7Eb");
  assert.equal(grpcPercentEncode(Buffer.from("café")), "caf%C3%A9");
});
