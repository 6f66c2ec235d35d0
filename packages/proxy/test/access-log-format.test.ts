import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { compileJsonFormat, compileTextFormat, strftime } from "../src/access-log/format.ts";
import { StreamInfo } from "../src/stream-info.ts";

function info(): StreamInfo {
  const i = new StreamInfo(7, "127.0.0.10:40000", "127.0.0.1:10000", { name: "web", direction: 0 });
  i.protocol = "HTTP/1.1";
  i.requestHeaders = [
    [":method", "POST"],
    [":path", "/orders?id=1"],
    [":authority", "shop"],
    ["x-forwarded-for", "10.0.0.1"],
    ["cookie", "a=1"],
    ["cookie", "b=2"],
  ];
  i.responseHeaders = [
    [":status", "201"],
    ["x-envoy-upstream-service-time", "3"],
  ];
  i.responseCode = 201;
  i.bytesReceived = 12;
  i.bytesSent = 34;
  i.upstreamCluster = "orders";
  i.upstreamHost = "127.0.0.5:8080";
  i.setFlag("UT");
  i.setFlag("UF");
  i.finish();
  return i;
}

describe("access log format operators", () => {
  test("text operators print Envoy's values, '-' for missing ones", () => {
    const f = compileTextFormat(
      "%REQ(:METHOD)% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% %PROTOCOL% %RESPONSE_CODE% %RESPONSE_FLAGS% " +
        "%BYTES_RECEIVED% %BYTES_SENT% %RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)% %REQ(COOKIE)% %REQ(:AUTHORITY):2% " +
        "%UPSTREAM_CLUSTER% %UPSTREAM_HOST% %DOWNSTREAM_REMOTE_ADDRESS% %DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT% " +
        "%DOWNSTREAM_LOCAL_ADDRESS% %REQ(USER-AGENT)% %CONNECTION_ID% 100%%",
    );
    assert.equal(
      f(info()),
      "POST /orders?id=1 HTTP/1.1 201 UT,UF 12 34 3 a=1,b=2 sh orders 127.0.0.5:8080 127.0.0.10:40000 127.0.0.10 127.0.0.1:10000 - 7 100%",
    );
  });

  test("START_TIME default and with a format", () => {
    const i = info();
    assert.equal(compileTextFormat("%START_TIME%")(i), i.startTime.toISOString());
    const d = new Date(Date.UTC(2025, 10, 20, 3, 8, 18, 423));
    assert.equal(
      strftime(d, "%Y-%m-%dT%H:%M:%S.%3fZ %s"),
      `2025-11-20T03:08:18.423Z ${Math.floor(d.getTime() / 1000)}`,
    );
    assert.match(compileTextFormat("%START_TIME(%Y/%m/%d)%")(i), /^\d{4}\/\d\d\/\d\d$/);
  });

  test("JSON format keeps numbers as numbers and missing values as null", () => {
    const line = compileJsonFormat({
      code: "%RESPONSE_CODE%",
      ua: "%REQ(USER-AGENT)%",
      path: "path=%REQ(:PATH)%",
      nested: { bytes: "%BYTES_SENT%" },
    })(info());
    assert.deepEqual(JSON.parse(line), {
      code: 201,
      ua: null,
      path: "path=/orders?id=1",
      nested: { bytes: 34 },
    });
    assert.ok(line.endsWith("}\n"));
  });

  test("an unknown operator is an error naming it", () => {
    assert.throws(
      () => compileTextFormat("%NOT_AN_OPERATOR%"),
      /unsupported access log operator %NOT_AN_OPERATOR%/,
    );
  });
});
