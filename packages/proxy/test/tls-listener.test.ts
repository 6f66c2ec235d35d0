/**
 * TLS listeners and filter chains, end to end with real clients: DownstreamTlsContext (certificate, ALPN),
 * filter_chain_match (server_names, transport_protocol, application_protocols, source_prefix_ranges,
 * destination_port), default_filter_chain, the tls_inspector listener filter, HTTP and tcp_proxy chains.
 */
import assert from "node:assert/strict";
import { connect as http2Connect } from "node:http2";
import { request as httpsRequest, type RequestOptions } from "node:https";
import { createServer as createNetServer, connect as netConnect, type Server } from "node:net";
import { after, before, describe, test } from "node:test";
import { connect as tlsConnect } from "node:tls";
import { freePort } from "@proxy-wasm-ts/test-support/server-process";
import { parseBootstrapText } from "../src/config/load-config.ts";
import { type RunningTestProxy, startTestProxy } from "./support/proxy.ts";
import { makeCertificates, type TestCertificates } from "./support/tls.ts";

const HCM =
  "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager";
const TLS_CONTEXT = "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext";

/** An HTTP chain answering every request with `body` (a direct_response), so a client sees which chain served it. */
function httpChain(
  body: string,
  opts: { match?: string; tls?: TestCertificates; alpn?: string[] } = {},
): string {
  const tls = opts.tls
    ? `
      transport_socket:
        name: envoy.transport_sockets.tls
        typed_config:
          "@type": ${TLS_CONTEXT}
          common_tls_context:
            ${opts.alpn ? `alpn_protocols: ${JSON.stringify(opts.alpn)}` : ""}
            tls_certificates:
            - certificate_chain: { filename: ${opts.tls.dir}/server.pem }
              private_key: { inline_string: ${JSON.stringify(opts.tls.key)} }`
    : "";
  return `
    - name: ${body}
      ${opts.match ? `filter_chain_match: ${opts.match}` : ""}${tls}
      filters:
      - name: envoy.filters.network.http_connection_manager
        typed_config:
          "@type": ${HCM}
          stat_prefix: ${body.replace(/\W/g, "_")}
          route_config:
            virtual_hosts:
            - name: all
              domains: ["*"]
              routes: [{ match: { prefix: "/" }, direct_response: { status: 200, body: { inline_string: ${body} } } }]
          http_filters: [{ name: envoy.filters.http.router }]`;
}

function bootstrap(listener: string, clusters = ""): string {
  return `
static_resources:
  listeners:
  - name: edge
    address: { socket_address: { address: 127.0.0.1, port_value: 0 } }
${listener}
  clusters: [${clusters}]
`;
}

const INSPECTOR = `
    listener_filters:
    - name: envoy.filters.listener.tls_inspector
      typed_config: { "@type": type.googleapis.com/envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector }`;

function httpsGet(
  port: number,
  serverName: string,
  ca: string,
  localAddress = "127.0.0.1",
  anyName = false,
): Promise<{ status: number; body: string; alpn: string | false | null }> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      {
        host: "127.0.0.1",
        port,
        servername: serverName,
        ca,
        path: "/",
        localAddress,
        agent: false,
        ALPNProtocols: ["http/1.1"],
        // The test certificate names one host; a chain for other names serves it all the same.
        ...(anyName ? { checkServerIdentity: () => undefined } : {}),
      } as RequestOptions & { ALPNProtocols: string[] },
      (res) => {
        let body = "";
        res.on("data", (c: Buffer) => (body += c));
        res.on("end", () =>
          resolve({
            status: res.statusCode ?? 0,
            body,
            alpn: (res.socket as unknown as { alpnProtocol: string | false | null }).alpnProtocol,
          }),
        );
      },
    );
    req.on("error", reject);
    req.end();
  });
}

/** One HTTP/2 request over TLS (ALPN h2) with node:http2. */
async function h2Get(
  port: number,
  serverName: string,
  ca: string,
): Promise<{ status: number; body: string; alpn: string | undefined }> {
  const session = http2Connect(`https://127.0.0.1:${port}`, { ca, servername: serverName });
  try {
    return await new Promise((resolve, reject) => {
      session.on("error", reject);
      const s = session.request({ ":path": "/" });
      let status = 0;
      let body = "";
      s.on("response", (h) => (status = Number(h[":status"])));
      s.on("data", (c: Buffer) => (body += c));
      s.on("end", () => resolve({ status, body, alpn: session.alpnProtocol }));
      s.on("error", reject);
    });
  } finally {
    session.close();
  }
}

function plainGet(port: number, localAddress = "127.0.0.1", localPort?: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = netConnect({ host: "127.0.0.1", port, localAddress, ...(localPort ? { localPort } : {}) }, () =>
      s.write("GET / HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n"),
    );
    let data = "";
    s.on("data", (c: Buffer) => (data += c));
    s.on("end", () => resolve(data));
    s.on("close", () => resolve(data));
    s.on("error", reject);
  });
}

let certA: TestCertificates;
let certB: TestCertificates;
before(() => {
  certA = makeCertificates("a.test");
  certB = makeCertificates("b.test");
});

describe("TLS listeners and filter chains", () => {
  let proxy: RunningTestProxy | undefined;
  after(async () => {
    await proxy?.close();
  });

  test("the tls_inspector's SNI picks the filter chain whose server_names match, each with its own certificate", async () => {
    proxy = await startTestProxy(
      bootstrap(`${INSPECTOR}
    filter_chains:${httpChain("chain-a", { match: "{ server_names: [a.test] }", tls: certA })}${httpChain("chain-b", { match: '{ server_names: ["*.b.test", b.test] }', tls: certB })}`),
    );
    const port = proxy.port();
    assert.equal((await httpsGet(port, "a.test", certA.ca)).body, "chain-a");
    assert.equal((await httpsGet(port, "b.test", certB.ca)).body, "chain-b");
    assert.equal(proxy.proxy.stats.counter("tls_inspector.sni_found").value, 2);
    await proxy.close();
    proxy = undefined;
  });

  test("with alpn_protocols h2 the AUTO codec speaks HTTP/2 over TLS, and HTTP/1.1 to a client offering only http/1.1", async () => {
    proxy = await startTestProxy(
      bootstrap(`
    filter_chains:${httpChain("tls-chain", { tls: certA, alpn: ["h2", "http/1.1"] })}`),
    );
    const port = proxy.port();
    const h2 = await h2Get(port, "a.test", certA.ca);
    assert.deepEqual(h2, { status: 200, body: "tls-chain", alpn: "h2" });
    const h1 = await httpsGet(port, "a.test", certA.ca);
    assert.equal(h1.body, "tls-chain");
    assert.equal(h1.alpn, "http/1.1");
    await proxy.close();
    proxy = undefined;
  });

  test("a client offering none of alpn_protocols gets no ALPN and HTTP/1.1, as Envoy's ALPN selection answers, not a failed handshake", async () => {
    proxy = await startTestProxy(
      bootstrap(`
    filter_chains:${httpChain("h2-only", { tls: certA, alpn: ["h2"] })}`),
    );
    const r = await httpsGet(proxy.port(), "a.test", certA.ca);
    assert.equal(r.body, "h2-only");
    assert.equal(r.alpn, false);
    await proxy.close();
    proxy = undefined;
  });

  test("server_names: an exact name wins over a *. wildcard, and the wildcard takes the names under it", async () => {
    proxy = await startTestProxy(
      bootstrap(`${INSPECTOR}
    filter_chains:${httpChain("exact", { match: "{ server_names: [www.a.test] }", tls: certA })}${httpChain("wildcard", { match: '{ server_names: ["*.a.test"] }', tls: certA })}${httpChain("other", { tls: certA })}`),
    );
    const port = proxy.port();
    assert.equal((await httpsGet(port, "www.a.test", certA.ca, "127.0.0.1", true)).body, "exact");
    assert.equal((await httpsGet(port, "api.v1.a.test", certA.ca, "127.0.0.1", true)).body, "wildcard");
    assert.equal((await httpsGet(port, "a.test", certA.ca)).body, "other");
    await proxy.close();
    proxy = undefined;
  });

  test("a connection no filter chain matches is closed and counted as no_filter_chain_match", async () => {
    proxy = await startTestProxy(
      bootstrap(`${INSPECTOR}
    filter_chains:${httpChain("tls-only", { match: "{ transport_protocol: tls }", tls: certA })}`),
    );
    const port = proxy.port();
    assert.equal(await plainGet(port), "");
    assert.equal(proxy.proxy.stats.counter(`listener.127.0.0.1_${port}.no_filter_chain_match`).value, 1);
    assert.equal((await httpsGet(port, "a.test", certA.ca)).body, "tls-only");
    await proxy.close();
    proxy = undefined;
  });

  test("transport_protocol and application_protocols route plaintext and TLS clients on one listener", async () => {
    proxy = await startTestProxy(
      bootstrap(`${INSPECTOR}
    filter_chains:${httpChain("plain", { match: "{ transport_protocol: raw_buffer }" })}${httpChain("tls-h2", { match: "{ transport_protocol: tls, application_protocols: [h2] }", tls: certA, alpn: ["h2"] })}${httpChain("tls-any", { match: "{ transport_protocol: tls }", tls: certA })}`),
    );
    const port = proxy.port();
    assert.match(await plainGet(port), /\r\n\r\nplain$/);
    assert.equal((await httpsGet(port, "a.test", certA.ca)).body, "tls-any");
    assert.equal((await h2Get(port, "a.test", certA.ca)).body, "tls-h2");
    await proxy.close();
    proxy = undefined;
  });

  test("without tls_inspector a chain with server_names sees no SNI, so the default_filter_chain serves", async () => {
    proxy = await startTestProxy(
      bootstrap(`
    filter_chains:${httpChain("sni-chain", { match: "{ server_names: [a.test] }", tls: certA })}
    default_filter_chain:${httpChain("default", {}).replace(/^\s*- name: default/m, "\n      name: default")}`),
    );
    const port = proxy.port();
    assert.match(await plainGet(port), /\r\n\r\ndefault$/);
    await assert.rejects(httpsGet(port, "a.test", certA.ca));
    await proxy.close();
    proxy = undefined;
  });

  test("source_prefix_ranges pick the chain for the client's address, the longest prefix winning", async () => {
    proxy = await startTestProxy(
      bootstrap(`
    filter_chains:${httpChain("wide", { match: "{ source_prefix_ranges: [{ address_prefix: 127.0.0.0, prefix_len: 8 }] }" })}${httpChain("narrow", { match: "{ source_prefix_ranges: [{ address_prefix: 127.0.0.10, prefix_len: 32 }] }" })}`),
    );
    const port = proxy.port();
    assert.match(await plainGet(port, "127.0.0.10"), /narrow$/);
    assert.match(await plainGet(port, "127.0.0.1"), /wide$/);
    await proxy.close();
    proxy = undefined;
  });

  test("prefix_ranges (the destination address), direct_source_prefix_ranges, source_type and source_ports pick chains as Envoy's levels do", async () => {
    // filter_chain_manager_impl.cc findFilterChain: destination IP, ..., direct source IP, source type,
    // source IP, source port; at each level the most specific entry wins, a chain without the field is the
    // catch-all.
    const serve = async (chains: string, localAddress = "127.0.0.1", localPort?: number) => {
      proxy = await startTestProxy(bootstrap(`\n    filter_chains:${chains}`));
      try {
        return (await plainGet(proxy.port(), localAddress, localPort)).split("\r\n\r\n")[1];
      } finally {
        await proxy.close();
        proxy = undefined;
      }
    };
    const cidr = (ip: string, len: number) => `{ address_prefix: ${ip}, prefix_len: ${len} }`;
    assert.equal(
      await serve(
        httpChain("any-destination", {}) +
          httpChain("loopback-destination", { match: `{ prefix_ranges: [${cidr("127.0.0.0", 8)}] }` }),
      ),
      "loopback-destination",
    );
    assert.equal(
      await serve(
        httpChain("any-destination", {}) +
          httpChain("ten-destination", { match: `{ prefix_ranges: [${cidr("10.0.0.0", 8)}] }` }),
      ),
      "any-destination",
    );
    const direct = (ip: string) =>
      serve(
        httpChain("wide", { match: `{ direct_source_prefix_ranges: [${cidr("127.0.0.0", 8)}] }` }) +
          httpChain("narrow", { match: `{ direct_source_prefix_ranges: [${cidr("127.0.0.10", 32)}] }` }),
        ip,
      );
    assert.equal(await direct("127.0.0.10"), "narrow");
    assert.equal(await direct("127.0.0.1"), "wide");
    // A loopback client is SAME_IP_OR_LOOPBACK, never EXTERNAL.
    assert.equal(
      await serve(
        httpChain("any-type", {}) + httpChain("local", { match: "{ source_type: SAME_IP_OR_LOOPBACK }" }),
      ),
      "local",
    );
    assert.equal(
      await serve(httpChain("any-type", {}) + httpChain("external", { match: "{ source_type: EXTERNAL }" })),
      "any-type",
    );
    const clientPort = await freePort();
    assert.equal(
      await serve(
        httpChain("any-port", {}) + httpChain("this-port", { match: `{ source_ports: [${clientPort}] }` }),
        "127.0.0.1",
        clientPort,
      ),
      "this-port",
    );
  });

  test("destination_port picks the chain naming the listener's port over one without", async () => {
    const listenPort = await freePort();
    proxy = await startTestProxy(
      bootstrap(`
    filter_chains:${httpChain("any-port", {})}${httpChain("this-port", { match: `{ destination_port: ${listenPort} }` })}`).replace(
        "port_value: 0",
        `port_value: ${listenPort}`,
      ),
    );
    assert.match(await plainGet(listenPort), /this-port$/);
    await proxy.close();
    proxy = undefined;
  });

  test("listener_filters_timeout closes a connection whose first bytes never come, or with continue_on_listener_filters_timeout hands it to its chain", async () => {
    const banner: Server = createNetServer((s) => s.end("hello from upstream\n"));
    await new Promise<void>((r) => banner.listen(0, "127.0.0.1", r));
    const bannerPort = (banner.address() as { port: number }).port;
    const listener = (continueOn: boolean) => `${INSPECTOR}
    listener_filters_timeout: 0.2s
    continue_on_listener_filters_timeout: ${continueOn}
    filter_chains:
    - filters:
      - name: envoy.filters.network.tcp_proxy
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy
          stat_prefix: banner
          cluster: banner`;
    const cluster = `{ name: banner, load_assignment: { cluster_name: banner, endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: ${bannerPort} } } } }] }] } }`;
    const silentClient = (port: number) =>
      new Promise<string>((resolve, reject) => {
        const s = netConnect({ host: "127.0.0.1", port });
        let data = "";
        s.on("data", (c: Buffer) => (data += c));
        s.on("close", () => resolve(data));
        s.on("error", reject);
      });
    proxy = await startTestProxy(bootstrap(listener(false), cluster));
    let port = proxy.port();
    assert.equal(await silentClient(port), "");
    assert.equal(proxy.proxy.stats.counter(`listener.127.0.0.1_${port}.downstream_pre_cx_timeout`).value, 1);
    await proxy.close();
    proxy = await startTestProxy(bootstrap(listener(true), cluster));
    port = proxy.port();
    assert.equal(await silentClient(port), "hello from upstream\n");
    await proxy.close();
    proxy = undefined;
    banner.close();
  });

  test("a tcp_proxy chain behind TLS relays the decrypted bytes to its cluster", async () => {
    const echo: Server = createNetServer((s) => s.pipe(s));
    await new Promise<void>((r) => echo.listen(0, "127.0.0.1", r));
    const echoPort = (echo.address() as { port: number }).port;
    proxy = await startTestProxy(
      bootstrap(
        `${INSPECTOR}
    filter_chains:
    - filter_chain_match: { server_names: [a.test] }
      transport_socket:
        name: envoy.transport_sockets.tls
        typed_config:
          "@type": ${TLS_CONTEXT}
          common_tls_context:
            tls_certificates: [{ certificate_chain: { inline_string: ${JSON.stringify(certA.cert)} }, private_key: { filename: ${certA.dir}/server.key } }]
      filters:
      - name: envoy.filters.network.tcp_proxy
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy
          stat_prefix: echo
          cluster: echo`,
        `{ name: echo, load_assignment: { cluster_name: echo, endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: ${echoPort} } } } }] }] } }`,
      ),
    );
    const port = proxy.port();
    const reply = await new Promise<string>((resolve, reject) => {
      const s = tlsConnect({ host: "127.0.0.1", port, servername: "a.test", ca: certA.ca }, () =>
        s.end("ping"),
      );
      let data = "";
      s.on("data", (c: Buffer) => (data += c));
      s.on("end", () => resolve(data));
      s.on("error", reject);
    });
    assert.equal(reply, "ping");
    await proxy.close();
    proxy = undefined;
    echo.close();
  });
});

describe("TLS listener and filter chain config", () => {
  const parse = (listener: string) => () =>
    parseBootstrapText(bootstrap(listener), "test.yaml", process.cwd());

  test("an unsupported filter_chain_match field is refused naming its path", () => {
    assert.throws(
      parse(`
    filter_chains:${httpChain("x", { match: "{ address_suffix: 0.0.0.1 }" })}`),
      /static_resources\.listeners\[0\]\.filter_chains\[0\]\.filter_chain_match\.address_suffix: unknown or unsupported field/,
    );
  });

  test("two filter chains with the same match are refused, as Envoy refuses them", () => {
    assert.throws(
      parse(`
    filter_chains:${httpChain("one", { match: "{ server_names: [a.test] }" })}${httpChain("two", { match: "{ server_names: [a.test] }" })}`),
      /filter_chains\[1\]: filter chain "two" has the same filter_chain_match as "one"/,
    );
  });

  test("an unsupported listener filter is refused naming it", () => {
    assert.throws(
      parse(`
    listener_filters: [{ name: envoy.filters.listener.http_inspector }]
    filter_chains:${httpChain("x")}`),
      /listener_filters\[0\]: unsupported listener filter "envoy.filters.listener.http_inspector"/,
    );
  });
});
