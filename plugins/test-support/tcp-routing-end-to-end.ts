/**
 * tcp-routing's end-to-end behaviour on the local data plane, for the AssemblyScript plugin and its
 * TypeScript twin (plugins/tcp-routing-ts).
 */
import assert from "node:assert/strict";
import { connect } from "node:net";
import { after, before, describe, test } from "node:test";
import { type EchoServer, startEcho } from "@proxy-wasm-ts/echo";
import { type Endpoint, type InProcessDataPlane, startInProcessDataPlane } from "./in-process-data-plane.ts";
import { buildPlugin } from "./plugin-build.ts";

/** The end-to-end tests (e2e.test.ts) for the plugin in `pluginDir`, run with its envoy.yaml. */
export function tcpRoutingEndToEndTests(pluginDir: string): void {
  const echoes: EchoServer[] = [];
  let envoy: InProcessDataPlane;

  /** Sends one HTTP/1.1 request over a TCP connection bound to `localAddress`; returns the raw answer. */
  function requestFrom(
    localAddress: string,
    target: Endpoint,
  ): Promise<{ answer: string; localPort: number }> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host: target.host, port: target.port, localAddress });
      let answer = "";
      let localPort = 0;
      socket.setEncoding("utf8");
      socket.setTimeout(10_000, () => socket.destroy(new Error("no answer within 10 s")));
      socket.on("connect", () => {
        localPort = socket.localPort ?? 0;
        socket.end("GET /get HTTP/1.1\r\nHost: httpbin.org\r\nConnection: close\r\n\r\n");
      });
      socket.on("data", (chunk: string) => {
        answer += chunk;
      });
      socket.on("error", reject);
      socket.on("close", () => resolve({ answer, localPort }));
    });
  }

  function echoName(answer: string): string | undefined {
    return /^x-echo-name: (.+)$/im.exec(answer)?.[1]?.trim();
  }

  describe("tcp-routing envoy.yaml on the local data plane", { timeout: 120_000 }, () => {
    before(async () => {
      await buildPlugin(pluginDir);
      for (const name of ["egress-router1", "egress-router2", "default-router"]) {
        echoes.push(await startEcho({ host: "127.0.0.1", name }));
      }
      const [one, two, fallback] = echoes as [EchoServer, EchoServer, EchoServer];
      envoy = await startInProcessDataPlane(pluginDir, {
        "egress-router1": one,
        "egress-router2": two,
        "default-router": fallback,
      });
    });

    after(async () => {
      await envoy?.close();
      await Promise.all(echoes.map((e) => e.close()));
    });

    test("clients on 127.0.0.10 and 127.0.0.11 reach egress-router1 and egress-router2", async () => {
      const even = await requestFrom("127.0.0.10", envoy.listener());
      assert.match(even.answer, /^HTTP\/1\.1 200/);
      assert.equal(echoName(even.answer), "egress-router1");
      const odd = await requestFrom("127.0.0.11", envoy.listener());
      assert.equal(echoName(odd.answer), "egress-router2");

      await envoy.waitForOutput(
        new RegExp(`Routed source 127\\.0\\.0\\.10:${even.localPort} to egress-router1`),
      );
      await envoy.waitForOutput(
        new RegExp(`Routed source 127\\.0\\.0\\.11:${odd.localPort} to egress-router2`),
      );
      await envoy.waitForOutput(new RegExp(`cluster=egress-router1 src=127\\.0\\.0\\.10:${even.localPort} `));
      await envoy.waitForOutput(new RegExp(`cluster=egress-router2 src=127\\.0\\.0\\.11:${odd.localPort} `));
    });
  });
}
