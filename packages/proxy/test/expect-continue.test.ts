import assert from "node:assert/strict";
import { createServer, type IncomingMessage, type Server } from "node:http";
import { after, before, describe, test } from "node:test";
import { httpBootstrap, staticCluster } from "@proxy-wasm-ts/test-support/envoy-config";
import { request } from "undici";
import { type RunningTestProxy, startTestProxy } from "./support/proxy.ts";
import { RawConnection } from "./support/raw-http.ts";
import { startUpstream, type TestUpstream } from "./support/upstream.ts";

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    let body = "";
    req.setEncoding("utf8");
    req.on("data", (c: string) => {
      body += c;
    });
    req.on("end", () => resolve(body));
  });
}

/**
 * An upstream that handles Expect itself: for 100-continue, /deny answers 417 at once and anything else 100
 * then 200; other expectations are accepted and echoed.
 */
async function startContinueUpstream(): Promise<{ server: Server; port: number; expects: string[] }> {
  const expects: string[] = [];
  const server = createServer((req, res) => {
    // Requests without Expect land here.
    expects.push(req.headers.expect ?? "");
    void readBody(req).then((body) => res.end(`no expect: ${body}`));
  });
  server.on("checkContinue", (req: IncomingMessage, res) => {
    expects.push(req.headers.expect ?? "");
    if (req.url === "/deny") {
      res.writeHead(417, { "content-type": "text/plain" });
      res.end("not that body");
      return;
    }
    // The 100 comes late, so a 100 the proxy invented would arrive first.
    setTimeout(() => {
      res.writeContinue();
      void readBody(req).then((body) => res.end(`upstream got: ${body}`));
    }, 150);
  });
  server.on("checkExpectation", (req: IncomingMessage, res) => {
    expects.push(req.headers.expect ?? "");
    res.end(`expectation: ${req.headers.expect}`);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { server, port: (server.address() as { port: number }).port, expects };
}

const POST = (path: string) =>
  `POST ${path} HTTP/1.1\r\nhost: a\r\nexpect: 100-continue\r\ncontent-length: 5\r\nconnection: close\r\n\r\n`;

describe("Expect: 100-continue", { timeout: 30_000 }, () => {
  let upstream: TestUpstream;
  let continuing: Awaited<ReturnType<typeof startContinueUpstream>>;
  let envoyAnswers: RunningTestProxy;
  let proxied: RunningTestProxy;

  before(async () => {
    upstream = await startUpstream("backend");
    continuing = await startContinueUpstream();
    const routes = `
              - match: { prefix: "/other-expectation" }
                route: { cluster: continuing }
              - match: { prefix: "/" }
                route: { cluster: backend }`;
    envoyAnswers = await startTestProxy(
      httpBootstrap({
        routes,
        clusters: staticCluster("backend", upstream.port) + staticCluster("continuing", continuing.port),
      }),
    );
    proxied = await startTestProxy(
      httpBootstrap({
        routes,
        clusters: staticCluster("backend", continuing.port) + staticCluster("continuing", continuing.port),
        hcmExtra: "\n          proxy_100_continue: true",
      }),
    );
  });

  after(async () => {
    await envoyAnswers?.close();
    await proxied?.close();
    await upstream?.close();
    continuing?.server.closeAllConnections();
    continuing?.server.close();
  });

  test("by default the proxy answers 100 Continue itself and the upstream gets the body without Expect", async () => {
    const c = await RawConnection.open(envoyAnswers.port());
    try {
      c.write(POST("/upload"));
      // The client sends its body only after the 100, as curl and browsers do.
      await c.waitFor(/^HTTP\/1\.1 100 Continue\r\n\r\n/);
      c.write("hello");
      const reply = await c.waitClosed();
      assert.match(reply, /\r\n\r\nHTTP\/1\.1 200 OK\r\n/);
      assert.match(reply, /"body":"hello"/);
      assert.doesNotMatch(reply, /"expect"/, "Envoy removes Expect before proxying");
    } finally {
      c.close();
    }
    assert.ok(envoyAnswers.stdout.some((l) => /"POST \/upload HTTP\/1\.1" 200 - /.test(l)));
    const stats = await (await request(`${envoyAnswers.adminUrl()}/stats`)).body.text();
    assert.match(stats, /^http\.ingress_http\.downstream_rq_1xx: 1$/m);
  });

  test("Expect with another value than 100-continue is passed upstream untouched, not refused with 417", async () => {
    const c = await RawConnection.open(envoyAnswers.port());
    try {
      c.write(
        "GET /other-expectation HTTP/1.1\r\nhost: a\r\nexpect: something-else\r\nconnection: close\r\n\r\n",
      );
      const reply = await c.waitClosed();
      assert.match(reply, /^HTTP\/1\.1 200 OK\r\n/);
      assert.match(reply, /expectation: something-else/);
    } finally {
      c.close();
    }
  });

  test("with proxy_100_continue the upstream gets Expect and its own 100 Continue reaches the client", async () => {
    const c = await RawConnection.open(proxied.port());
    try {
      c.write(POST("/upload"));
      await c.waitFor(/^HTTP\/1\.1 100 Continue\r\n\r\n/);
      c.write("hello");
      const reply = await c.waitClosed();
      assert.match(reply, /\r\n\r\nHTTP\/1\.1 200 OK\r\n/);
      assert.match(reply, /upstream got: hello/);
    } finally {
      c.close();
    }
    assert.deepEqual(continuing.expects.slice(-1), ["100-continue"]);
  });

  test("with proxy_100_continue an upstream that refuses the body answers the client directly, with no 100 from the proxy", async () => {
    const c = await RawConnection.open(proxied.port());
    try {
      c.write(POST("/deny"));
      const reply = await c.waitFor(/not that body/);
      assert.match(reply, /^HTTP\/1\.1 417 Expectation Failed\r\n/);
    } finally {
      c.close();
    }
    assert.ok(proxied.stdout.some((l) => /"POST \/deny HTTP\/1\.1" 417 - /.test(l)));
  });
});
