import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { connect, createServer, type Server } from "node:net";
import { after, before, describe, test } from "node:test";
import { writePlugins } from "@proxy-wasm-ts/test-support/proxy-plugins";
import { compileWat } from "@proxy-wasm-ts/test-support/wat";
import { type PwtsProcess, startPwts } from "./support/pwts-process.ts";

// The host's TCP routing fixture (seeds 000/001): even last octet of source.address -> egress-router1,
// odd -> egress-router2, via set_envoy_filter_state("envoy.tcp_proxy.cluster"); "> " prepended to
// downstream data, " <" appended to upstream data.
const fixture = readFileSync(new URL("../../host/test/fixtures/tcp-filter.wat", import.meta.url), "utf8");
compileWat(fixture); // fails early with wabt's message if the fixture changed shape
const plugins = writePlugins({ tcp: fixture });

function tagServer(tag: string): Promise<Server> {
  const server = createServer({ allowHalfOpen: true }, (socket) => {
    socket.on("data", (d) => socket.write(`${tag}:${d.toString()}`));
    socket.on("end", () => socket.end());
  });
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(server)));
}

/** Sends `message`, reads until the plugin's " <" suffix, then closes (a half-close would reach the plugin too). */
function talk(port: number, localAddress: string, message: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: "127.0.0.1", port, localAddress }, () => socket.write(message));
    let got = "";
    socket.setEncoding("utf8");
    socket.on("data", (d: string) => {
      got += d;
      if (got.endsWith(" <")) {
        socket.destroy();
        resolve(got);
      }
    });
    socket.on("error", reject);
  });
}

describe("TCP listener with a network Wasm filter before tcp_proxy (pwts run)", { timeout: 180_000 }, () => {
  let r1: Server;
  let r2: Server;
  let pwts: PwtsProcess;

  before(async () => {
    r1 = await tagServer("r1");
    r2 = await tagServer("r2");
    const port = (s: Server) => (s.address() as { port: number }).port;
    const cluster = (name: string, p: number) => `
  - name: ${name}
    connect_timeout: 1s
    type: STATIC
    load_assignment:
      cluster_name: ${name}
      endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: ${p} } } } }] }]`;
    pwts = await startPwts(
      `
static_resources:
  listeners:
  - name: tcp_routing
    address: { socket_address: { address: 127.0.0.1, port_value: 0 } }
    filter_chains:
    - filters:
      - name: envoy.filters.network.wasm
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.wasm.v3.Wasm
          config:
            name: tcp_router
            root_id: tcp_router
            vm_config:
              runtime: envoy.wasm.runtime.v8
              code: { local: { filename: ${plugins.path.tcp} } }
      - name: envoy.filters.network.tcp_proxy
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy
          stat_prefix: tcp
          cluster: egress-router1
          access_log:
          - name: envoy.access_loggers.stdout
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.access_loggers.stream.v3.StdoutAccessLog
              log_format:
                text_format_source:
                  inline_string: "[%START_TIME%] cluster=%UPSTREAM_CLUSTER% src=%DOWNSTREAM_REMOTE_ADDRESS% dst=%DOWNSTREAM_LOCAL_ADDRESS% -> %UPSTREAM_HOST% %BYTES_RECEIVED% %BYTES_SENT%\\n"
  clusters:${cluster("egress-router1", port(r1))}${cluster("egress-router2", port(r2))}
admin:
  address: { socket_address: { address: 127.0.0.1, port_value: 0 } }
`,
      plugins.dir,
    );
  });

  after(async () => {
    const code = await pwts?.stop();
    assert.equal(code, 0, "pwts exits 0 after SIGTERM");
    r1?.close();
    r2?.close();
  });

  test("the source address picks the cluster and data passes through the plugin both ways", async () => {
    const port = pwts.ports.tcp_routing!;
    assert.equal(await talk(port, "127.0.0.10", "ping"), "r1:> ping <");
    assert.equal(await talk(port, "127.0.0.11", "pong"), "r2:> pong <");
    const even = await pwts.waitFor("stdout", /cluster=egress-router1 src=127\.0\.0\.10:\d+/);
    const odd = await pwts.waitFor("stdout", /cluster=egress-router2 src=127\.0\.0\.11:\d+/);
    assert.match(
      even,
      /^\[[^\]]+\] cluster=egress-router1 src=127\.0\.0\.10:\d+ dst=127\.0\.0\.1:\d+ -> 127\.0\.0\.1:\d+ 4 \d+$/,
    );
    assert.match(odd, /dst=127\.0\.0\.1:\d+ -> 127\.0\.0\.1:\d+/);
    await pwts.waitFor("stderr", /wasm log tcp_router tcp_router: routed to egress-router1$/);
    await pwts.waitFor("stderr", /wasm log tcp_router tcp_router: routed to egress-router2$/);
    await pwts.waitFor("stderr", /wasm log tcp_router tcp_router: downstream closed, peer \d$/);
  });
});
