/**
 * DownstreamTlsContext beyond one certificate, end to end with node:tls / node:https clients: several
 * certificates picked by the client's SNI (DefaultTlsCertificateSelector::findTlsContext), client
 * certificates (validation_context.trusted_ca, require_client_certificate), the TLS connection attributes a
 * plugin reads (expr/context.cc ConnectionWrapper) and the access log's TLS operators.
 */
import assert from "node:assert/strict";
import { X509Certificate } from "node:crypto";
import { readFileSync } from "node:fs";
import { connect as http2Connect } from "node:http2";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { type TLSSocket, connect as tlsConnect } from "node:tls";
import { writePlugins } from "@proxy-wasm-ts/test-support/proxy-plugins";
import { request } from "undici";
import { parseBootstrapText } from "../src/config/load-config.ts";
import { type RunningTestProxy, startTestProxy } from "./support/proxy.ts";
import { makeCertificates, type TestCertificates } from "./support/tls.ts";
import { WAT_ACCEPTING_START, WAT_PLUGIN_BASICS } from "./support/wat-plugin.ts";

const HCM =
  "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager";
const TLS_CONTEXT = "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext";

/** Response header -> the property a plugin copies into it (a bool as "0" / "1"). */
const PROPERTIES: Array<[header: string, path: string[], bool?: true]> = [
  ["x-sni", ["connection", "requested_server_name"]],
  ["x-tls-version", ["connection", "tls_version"]],
  ["x-mtls", ["connection", "mtls"], true],
  ["x-local-subject", ["connection", "subject_local_certificate"]],
  ["x-peer-subject", ["connection", "subject_peer_certificate"]],
  ["x-local-dns", ["connection", "dns_san_local_certificate"]],
  ["x-peer-dns", ["connection", "dns_san_peer_certificate"]],
  ["x-peer-digest", ["connection", "sha256_peer_certificate_digest"]],
];

const hex = (bytes: Uint8Array) => [...bytes].map((b) => `\\${b.toString(16).padStart(2, "0")}`).join("");

/** Copies each of PROPERTIES that exists into a response header (absent when the property is not found). */
function attributesPluginWat(): string {
  let at = 256;
  const data: string[] = [];
  const copies: string[] = [];
  for (const [header, path, bool] of PROPERTIES) {
    const p = Buffer.from(path.join("\0"));
    const h = Buffer.from(header);
    data.push(`(data (i32.const ${at}) "${hex(p)}")`, `(data (i32.const ${at + 64}) "${hex(h)}")`);
    const toDigit = bool
      ? "(i32.store8 (i32.load (i32.const 16)) (i32.add (i32.const 48) (i32.load8_u (i32.load (i32.const 16)))))"
      : "";
    copies.push(`(if (i32.eqz (call $get_property (i32.const ${at}) (i32.const ${p.length}) (i32.const 16) (i32.const 20)))
      (then ${toDigit}
        (drop (call $add (i32.const 2) (i32.const ${at + 64}) (i32.const ${h.length}) (i32.load (i32.const 16)) (i32.load (i32.const 20))))))`);
    at += 128;
  }
  return `(module
  (import "env" "proxy_get_property" (func $get_property (param i32 i32 i32 i32) (result i32)))
  (import "env" "proxy_add_header_map_value" (func $add (param i32 i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 2)
  ${data.join("\n  ")}
  ${WAT_PLUGIN_BASICS}
  ${WAT_ACCEPTING_START}
  (func (export "proxy_on_request_headers") (param i32 i32 i32) (result i32) (i32.const 0))
  (func (export "proxy_on_response_headers") (param i32 i32 i32) (result i32)
    ${copies.join("\n    ")}
    (i32.const 0))
)`;
}

const plugins = writePlugins({ attributes: attributesPluginWat() });

interface Options {
  certificates: TestCertificates[];
  trustedCa?: TestCertificates;
  require?: boolean;
}

/** One TLS listener (tls_inspector, one chain) answering 200 through the attributes plugin, access-logged. */
function bootstrap(o: Options): string {
  const certificates = o.certificates
    .map(
      (c) => `
            - certificate_chain: { filename: ${join(c.dir, "server.pem")} }
              private_key: { filename: ${join(c.dir, "server.key")} }`,
    )
    .join("");
  const validation = o.trustedCa
    ? `
            validation_context: { trusted_ca: { filename: ${o.trustedCa.caFile} } }`
    : "";
  return `
static_resources:
  listeners:
  - name: tls
    address: { socket_address: { address: 127.0.0.1, port_value: 0 } }
    listener_filters:
    - name: envoy.filters.listener.tls_inspector
      typed_config: { "@type": type.googleapis.com/envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector }
    filter_chains:
    - transport_socket:
        name: envoy.transport_sockets.tls
        typed_config:
          "@type": ${TLS_CONTEXT}
          ${o.require !== undefined ? `require_client_certificate: ${o.require}` : ""}
          common_tls_context:
            tls_certificates:${certificates}${validation}
      filters:
      - name: envoy.filters.network.http_connection_manager
        typed_config:
          "@type": ${HCM}
          stat_prefix: tls
          access_log:
          - name: envoy.access_loggers.stdout
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.access_loggers.stream.v3.StdoutAccessLog
              log_format: { text_format_source: { inline_string: "sni=%REQUESTED_SERVER_NAME% tls=%DOWNSTREAM_TLS_VERSION% peer=%DOWNSTREAM_PEER_SUBJECT% fp=%DOWNSTREAM_PEER_FINGERPRINT_256% local=%DOWNSTREAM_LOCAL_DNS_SAN%\\n" } }
          route_config:
            virtual_hosts:
            - name: all
              domains: ["*"]
              routes: [{ match: { prefix: "/" }, direct_response: { status: 200, body: { inline_string: ok } } }]
          http_filters:
          - name: envoy.filters.http.wasm
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm
              config:
                name: attributes
                vm_config: { runtime: envoy.wasm.runtime.v8, code: { local: { filename: ${plugins.path.attributes} } } }
          - name: envoy.filters.http.router
admin:
  address: { socket_address: { address: 127.0.0.1, port_value: 0 } }
`;
}

interface Answer {
  status: number;
  headers: Record<string, string>;
  /** The CN of the certificate the proxy presented. */
  servedCn: string;
}

/** GET / over TLS with node:tls and a hand-written HTTP/1.1 request; rejects when the handshake fails. */
function get(port: number, servername: string | undefined, client?: TestCertificates): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const socket: TLSSocket = tlsConnect({
      host: "127.0.0.1",
      port,
      ...(servername ? { servername } : {}),
      rejectUnauthorized: false,
      ...(client ? { cert: client.cert, key: client.key } : {}),
    });
    let text = "";
    let servedCn = "";
    socket.on("secureConnect", () => {
      servedCn = String(socket.getPeerCertificate().subject?.CN ?? "");
      socket.write("GET / HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n");
    });
    socket.on("data", (d: Buffer) => (text += d.toString("latin1")));
    socket.on("end", () => {
      const [head = ""] = text.split("\r\n\r\n");
      const [statusLine = "", ...lines] = head.split("\r\n");
      if (!statusLine) return reject(new Error("connection closed without a response"));
      const headers: Record<string, string> = {};
      for (const l of lines)
        headers[l.slice(0, l.indexOf(":")).toLowerCase()] = l.slice(l.indexOf(":") + 1).trim();
      resolve({ status: Number(statusLine.split(" ")[1]), headers, servedCn });
    });
    socket.on("error", reject);
  });
}

async function counter(p: RunningTestProxy, name: string): Promise<number> {
  const text = await (await request(`${p.adminUrl()}/stats`)).body.text();
  const line = text.split("\n").find((l) => l.includes(`.${name}: `));
  return line ? Number(line.split(": ")[1]) : 0;
}

let a: TestCertificates;
let wildcard: TestCertificates;
let client: TestCertificates;
let stranger: TestCertificates;
before(() => {
  a = makeCertificates("a.test");
  wildcard = makeCertificates("*.b.test");
  client = makeCertificates("client.test");
  stranger = makeCertificates("stranger.test");
});

describe("DownstreamTlsContext: certificates by SNI, client certificates, TLS attributes", {
  timeout: 60_000,
}, () => {
  let proxy: RunningTestProxy | undefined;
  after(async () => {
    await proxy?.close();
  });
  async function start(o: Options): Promise<RunningTestProxy> {
    await proxy?.close();
    proxy = await startTestProxy(bootstrap(o));
    return proxy;
  }

  test("the client's SNI picks the certificate: exact name, then the wildcard one level up, else the first", async () => {
    const p = await start({ certificates: [a, wildcard] });
    assert.equal((await get(p.port(), "a.test")).servedCn, "a.test");
    assert.equal((await get(p.port(), "x.b.test")).servedCn, "*.b.test");
    assert.equal((await get(p.port(), "y.x.b.test")).servedCn, "a.test", "a wildcard covers one label");
    assert.equal((await get(p.port(), "other.test")).servedCn, "a.test");
    assert.equal((await get(p.port(), undefined)).servedCn, "a.test", "no SNI: the first certificate");
  });

  test("plugins read the TLS connection attributes; the access log has the TLS operators", async () => {
    const p = await start({ certificates: [a, wildcard], trustedCa: client });
    const answer = await get(p.port(), "x.b.test", client);
    assert.equal(answer.status, 200);
    const h = answer.headers;
    assert.equal(h["x-sni"], "x.b.test");
    assert.match(h["x-tls-version"] ?? "", /^TLSv1\.[23]$/);
    assert.equal(h["x-mtls"], "1");
    assert.equal(h["x-local-subject"], "CN=*.b.test");
    assert.equal(h["x-peer-subject"], "CN=client.test");
    assert.equal(h["x-local-dns"], "*.b.test");
    assert.equal(h["x-peer-dns"], "client.test");
    const digest = new X509Certificate(readFileSync(join(client.dir, "server.pem"))).fingerprint256;
    assert.equal(h["x-peer-digest"], digest.replaceAll(":", "").toLowerCase());
    await new Promise((r) => setTimeout(r, 50));
    assert.ok(
      p.stdout.some((l) =>
        l.startsWith(
          `sni=x.b.test tls=${h["x-tls-version"]} peer=CN=client.test fp=${h["x-peer-digest"]} local=*.b.test`,
        ),
      ),
      p.stdout.join(""),
    );

    // The same over HTTP/2 (ALPN h2 is not configured, so node:http2 is given HTTP/2 over the TLS socket as
    // the AUTO codec reads the preface).
    const session = http2Connect(`https://127.0.0.1:${p.port()}`, {
      servername: "x.b.test",
      rejectUnauthorized: false,
      cert: client.cert,
      key: client.key,
      ALPNProtocols: ["h2"],
    });
    try {
      const h2 = await new Promise<Record<string, unknown>>((resolve, reject) => {
        session.on("error", reject);
        const s = session.request({ ":path": "/" });
        s.on("response", resolve);
        s.on("error", reject);
        s.resume();
      });
      assert.deepEqual(
        [h2["x-sni"], h2["x-mtls"], h2["x-peer-subject"]],
        ["x.b.test", "1", "CN=client.test"],
      );
    } finally {
      session.close();
    }

    // Without a client certificate: mtls false, no peer values (Envoy gives the subject as "").
    const anonymous = await get(p.port(), undefined);
    assert.equal(anonymous.headers["x-mtls"], "0");
    assert.equal(anonymous.headers["x-sni"], "", "no SNI: an empty requested_server_name");
    assert.equal(anonymous.headers["x-peer-subject"], "");
    assert.equal(anonymous.headers["x-peer-dns"], undefined);
    assert.equal(anonymous.headers["x-peer-digest"], undefined);
  });

  test("an optional client certificate: none is accepted, one the trusted_ca did not sign is refused", async () => {
    const p = await start({ certificates: [a], trustedCa: client });
    assert.equal((await get(p.port(), "a.test")).status, 200);
    assert.equal((await get(p.port(), "a.test", client)).status, 200);
    await assert.rejects(get(p.port(), "a.test", stranger));
    assert.equal(await counter(p, "ssl.fail_verify_error"), 1);
    assert.equal(await counter(p, "ssl.no_certificate"), 1);
  });

  test("require_client_certificate: no certificate, or an untrusted one, fails the handshake", async () => {
    const p = await start({ certificates: [a], trustedCa: client, require: true });
    assert.equal((await get(p.port(), "a.test", client)).headers["x-mtls"], "1");
    await assert.rejects(get(p.port(), "a.test"));
    await assert.rejects(get(p.port(), "a.test", stranger));
    assert.equal(await counter(p, "ssl.fail_verify_no_cert"), 1);
    assert.equal(await counter(p, "ssl.fail_verify_error"), 1);
  });

  test("without a trusted_ca no client certificate is asked for, whatever require_client_certificate says", async () => {
    // ServerContextImpl adds client validation only with a CA to check against.
    const p = await start({ certificates: [a], require: true });
    const answer = await get(p.port(), "a.test");
    assert.equal(answer.status, 200);
    assert.equal(answer.headers["x-mtls"], "0");
  });

  test("the config reader keeps every certificate and the client-certificate settings, and refuses the checks it cannot make", () => {
    const config = parseBootstrapText(
      bootstrap({ certificates: [a, wildcard], trustedCa: client, require: true }),
      "t.yaml",
      "/",
    );
    const tls = config.listeners[0]!.filterChains!.chains[0]!.tls!;
    assert.equal(tls.certificates.length, 2);
    assert.equal(tls.requireClientCertificate, true);
    assert.ok(tls.trustedCa?.includes("BEGIN CERTIFICATE"));
    assert.throws(
      () =>
        parseBootstrapText(
          bootstrap({ certificates: [a], trustedCa: client }).replace(
            "validation_context: {",
            "validation_context: { match_typed_subject_alt_names: [], ",
          ),
          "t.yaml",
          "/",
        ),
      /validation_context\.match_typed_subject_alt_names: unknown or unsupported field/,
    );
  });
});
