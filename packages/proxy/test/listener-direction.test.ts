/**
 * A listener's `traffic_direction` reaches plugins as Envoy gives it: `xds.listener_direction` and
 * `listener_direction`, 1 for INBOUND and 2 for OUTBOUND (http-timing picks its metric names by it); and
 * the other stream attributes the data plane supplies.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { ProxyWasmHost } from "@proxy-wasm-ts/host";
import { httpBootstrap, staticCluster } from "@proxy-wasm-ts/test-support/envoy-config";
import { noopPluginWat } from "@proxy-wasm-ts/test-support/proxy-plugins";
import { compileWat } from "@proxy-wasm-ts/test-support/wat";
import { parseBootstrapText } from "../src/config/load-config.ts";
import { StreamInfo } from "../src/stream-info.ts";
import { streamProperties } from "../src/wasm/stream-properties.ts";

const routes = `
              - match: { prefix: "/" }
                route: { cluster: a }`;

function listenerWith(direction: string | undefined) {
  const listenerExtra = direction ? `\n    traffic_direction: ${direction}` : "";
  const yaml = httpBootstrap({ routes, clusters: staticCluster("a", 1), listenerExtra });
  return parseBootstrapText(yaml, "test.yaml", "/tmp").listeners[0]!;
}

test("traffic_direction is read from the listener (default UNSPECIFIED)", () => {
  assert.equal(listenerWith(undefined).trafficDirection, 0);
  assert.equal(listenerWith("INBOUND").trafficDirection, 1);
  assert.equal(listenerWith("OUTBOUND").trafficDirection, 2);
});

test("an unknown traffic_direction is a config error naming the field", () => {
  assert.throws(() => listenerWith("SIDEWAYS"), /traffic_direction.*(INBOUND|OUTBOUND)/s);
});

test("plugins read the direction as Envoy encodes it (an integer)", () => {
  const info = new StreamInfo(1, "127.0.0.10:4000", "127.0.0.1:10000", { name: "in", direction: 1 });
  const props = streamProperties(info);
  assert.equal(props["xds.listener_direction"], 1n);
  assert.equal(props.listener_direction, 1n);
});

test("request.protocol is the client's HTTP version, not the host's HTTP/1.1 default", async () => {
  const host = new ProxyWasmHost({ log: () => {} });
  const plugin = host.startPlugin(await host.loadModule(await compileWat(noopPluginWat())), { name: "p" });
  const read = (protocol: string | undefined) => {
    const info = new StreamInfo(1, "127.0.0.10:4000", "127.0.0.1:10000", { name: "in", direction: 0 });
    info.protocol = protocol;
    const stream = plugin.newHttpStream({ properties: streamProperties(info) });
    const value = stream.getProperty(["request", "protocol"]);
    stream.complete();
    return value === undefined ? undefined : new TextDecoder().decode(value);
  };
  assert.equal(read("HTTP/1.0"), "HTTP/1.0");
  assert.equal(read("HTTP/1.1"), "HTTP/1.1");
  assert.equal(read(undefined), "HTTP/1.1", "unknown to the data plane: the host's default");
});
