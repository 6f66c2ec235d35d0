import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { httpBootstrap, staticCluster, wasmHttpFilter } from "@proxy-wasm-ts/test-support/envoy-config";
import { invalidHeaderPluginWat, writePlugins } from "@proxy-wasm-ts/test-support/proxy-plugins";
import { request } from "undici";
import { parseBootstrapText } from "../src/config/load-config.ts";
import { type RunningTestProxy, startTestProxy } from "./support/proxy.ts";
import { startUpstream, type TestUpstream } from "./support/upstream.ts";

const plugins = writePlugins({
  requestValue: invalidHeaderPluginWat("request", "x-bad", "one\r\ninjected: two"),
  requestName: invalidHeaderPluginWat("request", "x bad", "fine"),
  responseValue: invalidHeaderPluginWat("response", "x-bad", "nul\u0000byte"),
  localReply: invalidHeaderPluginWat("local-reply", "x-bad", "one\ntwo"),
});

const LOG_FORMAT = "%REQ(:PATH)% %RESPONSE_CODE% %RESPONSE_FLAGS% %RESPONSE_CODE_DETAILS%\\n";

describe("invalid headers set by a plugin", { timeout: 30_000 }, () => {
  let upstream: TestUpstream;
  const running: RunningTestProxy[] = [];

  before(async () => {
    upstream = await startUpstream("backend");
  });

  after(async () => {
    for (const p of running) await p.close();
    await upstream?.close();
  });

  async function start(file: string, name: string): Promise<RunningTestProxy> {
    const p = await startTestProxy(
      httpBootstrap({
        filters: wasmHttpFilter(file, { name }),
        routes: `
              - match: { prefix: "/" }
                route: { cluster: backend }`,
        clusters: staticCluster("backend", upstream.port),
        accessLogFormat: LOG_FORMAT,
      }),
    );
    running.push(p);
    return p;
  }

  test("a request header value with CR LF gets Envoy's 503 with DPE, a log line naming plugin and header, and never reaches the upstream", async () => {
    const p = await start(plugins.path.requestValue, "crlf_adder");
    const before = upstream.seen.length;
    const res = await request(`${p.url()}/req-value`);
    assert.equal(res.statusCode, 503);
    assert.equal(await res.body.text(), "invalid header value for: x-bad");
    assert.equal(res.headers["content-type"], "text/plain");
    assert.equal(upstream.seen.length, before, "the upstream sees nothing");
    assert.deepEqual(p.stdout, [
      "/req-value 503 DPE filter_removed_required_request_headers{invalid_header_value_for:_x-bad}\n",
    ]);
    assert.ok(
      p.stderr.some((l) => /\[warning\].*"crlf_adder".*request header "x-bad"/.test(l)),
      p.stderr.join(""),
    );
  });

  test("a request header name that is not a token gets the same 503, naming the header", async () => {
    const p = await start(plugins.path.requestName, "space_in_name");
    const res = await request(`${p.url()}/req-name`);
    assert.equal(res.statusCode, 503);
    assert.equal(await res.body.text(), "invalid header name: x bad");
    assert.deepEqual(p.stdout, [
      "/req-name 503 DPE filter_removed_required_request_headers{invalid_header_name:_x_bad}\n",
    ]);
    assert.ok(
      p.stderr.some((l) => /"space_in_name".*request header "x bad"/.test(l)),
      p.stderr.join(""),
    );
  });

  test("a response header value with NUL gets a 502 local reply naming the header instead of an empty reply", async () => {
    const p = await start(plugins.path.responseValue, "nul_adder");
    const res = await request(`${p.url()}/resp-value`);
    assert.equal(res.statusCode, 502);
    assert.equal(await res.body.text(), "invalid header value for: x-bad");
    assert.equal(res.headers.server, "envoy");
    assert.deepEqual(p.stdout, [
      "/resp-value 502 - filter_removed_required_response_headers{invalid_header_value_for:_x-bad}\n",
    ]);
    assert.ok(
      p.stderr.some((l) => /"nul_adder".*response header "x-bad"/.test(l)),
      p.stderr.join(""),
    );
    // The connection is still usable: the next request gets the same clear answer.
    const again = await request(`${p.url()}/resp-value`);
    assert.equal(again.statusCode, 502);
    await again.body.dump();
  });

  test("a local reply whose headers carry LF gets the same 502", async () => {
    const p = await start(plugins.path.localReply, "teapot");
    const res = await request(`${p.url()}/local`);
    assert.equal(res.statusCode, 502);
    assert.equal(await res.body.text(), "invalid header value for: x-bad");
    assert.match(p.stdout[0] ?? "", /^\/local 502 - filter_removed_required_response_headers/);
    assert.ok(
      p.stderr.some((l) => /"teapot".*response header "x-bad"/.test(l)),
      p.stderr.join(""),
    );
  });

  test("a configured header value with CR LF is refused at start, naming the field", () => {
    const yaml = httpBootstrap({
      routes: `
              - match: { prefix: "/" }
                route: { cluster: backend }
                request_headers_to_add: [{ header: { key: x-note, value: "a\\r\\nb" } }]`,
      clusters: staticCluster("backend", 1),
    });
    assert.throws(() => parseBootstrapText(yaml, "test.yaml", process.cwd()), {
      name: "ConfigError",
      message:
        /routes\[0\]\.request_headers_to_add\[0\]\.header\.value: a header value must not contain NUL, CR or LF/,
    });
  });
});
