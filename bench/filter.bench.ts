/**
 * The Wasm HTTP filter of the local data plane, driven in-process: CPU time per stream for one no-op
 * plugin and for the header-mutation plugin, through the same `WasmHttpFilter` that `pwts run` puts in its
 * filter chains. A stream is what a plain GET through the proxy shows a filter: request headers (end of
 * stream), response headers, one body chunk, the empty end-of-stream body call Envoy's HTTP/1 codec makes,
 * then log and destroy. Baseline: the same calls on a filter that lets everything continue without a
 * plugin, so the ratio is the plugin's share.
 *
 * This isolates the filter from the network and the other processes of the `proxy` suite, whose wall-time
 * figures move with the machine; the data plane's header lists and Buffers are built fresh per stream, as
 * the listener builds them.
 */
import { type Plugin, ProxyWasmHost } from "@proxy-wasm-ts/host";
import { noopPluginWat } from "@proxy-wasm-ts/test-support/proxy-plugins";
import { compileWat } from "@proxy-wasm-ts/test-support/wat";
import type { HeaderList } from "../packages/proxy/src/http/header-list.ts";
import type {
  BodyBuffer,
  FilterStatus,
  HttpFilter,
  HttpFilterCallbacks,
} from "../packages/proxy/src/http/http-filter.ts";
import { StreamInfo } from "../packages/proxy/src/stream-info.ts";
import { WasmHttpFilter } from "../packages/proxy/src/wasm/wasm-http-filter.ts";
import { buildPlugin } from "../plugins/test-support/plugin-build.ts";
import { cpuNsPerCall, defineSuite } from "./benchmark.ts";

const STREAMS_PER_SAMPLE = 50_000;
const HEADER_MUTATION_DIR = new URL("../plugins/header-mutation", import.meta.url).pathname;
const EMPTY = Buffer.alloc(0);
const BODY = "hello from the upstream\n";

function requestHeaders(): HeaderList {
  return [
    [":authority", "127.0.0.1:10000"],
    [":path", "/bench"],
    [":method", "GET"],
    [":scheme", "http"],
    ["user-agent", "autocannon"],
    ["x-forwarded-proto", "http"],
    ["x-request-id", "5d3f2c1e-8a7b-4c6d-9e0f-1a2b3c4d5e6f"],
  ];
}

function responseHeaders(): HeaderList {
  return [
    [":status", "200"],
    ["content-type", "text/plain"],
    ["content-length", String(BODY.length)],
    ["date", "Sun, 22 Nov 2026 01:28:51 GMT"],
    ["x-envoy-upstream-service-time", "1"],
    ["server", "envoy"],
  ];
}

/** What the filter needs of its stream; nothing here pauses, replies or resets. */
function callbacks(): HttpFilterCallbacks {
  const info = new StreamInfo(1, "127.0.0.1:50000", "127.0.0.1:10000", {
    name: "bench",
    direction: 0,
  });
  return {
    streamInfo: info,
    route: () => undefined,
    requestHeaders: () => [],
    responseHeaders: () => undefined,
    continueDecoding() {},
    continueEncoding() {},
    sendLocalReply() {},
    resetStream() {},
    clearRouteCache() {},
  };
}

class PassThroughFilter implements HttpFilter {
  decodeHeaders(): FilterStatus {
    return "continue";
  }
  decodeData(): FilterStatus {
    return "continue";
  }
  drainDecoded(): Buffer {
    return EMPTY;
  }
  encodeHeaders(): FilterStatus {
    return "continue";
  }
  encodeData(): FilterStatus {
    return "continue";
  }
  drainEncoded(): Buffer {
    return EMPTY;
  }
  onLog(): void {}
  onDestroy(): void {}
}

function runStream(filter: HttpFilter): void {
  filter.decodeHeaders(requestHeaders(), true);
  filter.encodeHeaders(responseHeaders(), false);
  const body: BodyBuffer = { data: Buffer.from(BODY) };
  filter.encodeData(body, false);
  filter.encodeData({ data: EMPTY }, true);
  filter.onLog();
  filter.onDestroy();
}

let noop: Plugin;
let header: Plugin;
const cb = callbacks();

export default defineSuite({
  name: "filter",
  description:
    "CPU ns per HTTP stream through the local data plane's Wasm filter in-process (request headers, response headers, a body chunk and its end, log): no-op plugin and header mutation vs the same calls on a filter with no plugin.",
  async setup() {
    const host = new ProxyWasmHost({ log: () => {} });
    noop = host.startPlugin(await host.loadModule(await compileWat(noopPluginWat())), { name: "noop" });
    const headerBytes = await buildPlugin(HEADER_MUTATION_DIR); // built unless up to date
    header = host.startPlugin(await host.loadModule(headerBytes), {
      name: "header_mutation",
      rootId: "header_mutation",
    });
  },
  cases: [
    {
      name: "baseline: filter without a plugin",
      unit: "CPU ns/stream",
      sample: () => cpuNsPerCall(STREAMS_PER_SAMPLE * 4, () => runStream(new PassThroughFilter())),
    },
    {
      name: "Wasm filter, no-op plugin",
      unit: "CPU ns/stream",
      baseline: "baseline: filter without a plugin",
      sample: () => cpuNsPerCall(STREAMS_PER_SAMPLE, () => runStream(new WasmHttpFilter(noop, cb))),
    },
    {
      name: "Wasm filter, header mutation",
      unit: "CPU ns/stream",
      baseline: "baseline: filter without a plugin",
      sample: () => cpuNsPerCall(STREAMS_PER_SAMPLE, () => runStream(new WasmHttpFilter(header, cb))),
    },
  ],
});
