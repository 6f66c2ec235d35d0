import assert from "node:assert/strict";
import { connect } from "node:net";
import { after, before, describe, test } from "node:test";
import { httpBootstrap, staticCluster } from "@proxy-wasm-ts/test-support/envoy-config";
import { Client, type Dispatcher } from "undici";
import { type RunningTestProxy, startTestProxy } from "./support/proxy.ts";
import { startUpstream, type TestUpstream } from "./support/upstream.ts";

/** Writes raw bytes (optionally in slow pieces) and returns everything the proxy sent until it closed. */
function raw(port: number, pieces: string[], delayMs = 0, localAddress?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: "127.0.0.1", port, ...(localAddress ? { localAddress } : {}) });
    let got = "";
    socket.setEncoding("utf8");
    socket.on("data", (d: string) => {
      got += d;
    });
    socket.on("close", () => resolve(got));
    socket.on("error", reject);
    socket.setTimeout(10_000, () => socket.destroy(new Error(`no close; got ${JSON.stringify(got)}`)));
    socket.on("connect", async () => {
      for (const p of pieces) {
        socket.write(p);
        if (delayMs) await new Promise((r) => setTimeout(r, delayMs));
      }
    });
  });
}

/** One request on its own connection, closed afterwards (so connection counts can be checked). */
async function once(
  url: string,
  options: { headers?: Record<string, string> } = {},
): Promise<{ status: number; body: string }> {
  const u = new URL(url);
  const client = new Client(u.origin);
  try {
    const res: Dispatcher.ResponseData = await client.request({
      path: u.pathname + u.search,
      method: "GET",
      ...options,
    });
    return { status: res.statusCode, body: await res.body.text() };
  } finally {
    await client.close();
  }
}

describe("robustness: malformed HTTP, limits, slow clients, upstream resets", { timeout: 60_000 }, () => {
  let upstream: TestUpstream;
  let p: RunningTestProxy;

  before(async () => {
    upstream = await startUpstream("backend");
    p = await startTestProxy(
      httpBootstrap({
        routes: `
              - match: { prefix: "/" }
                route: { cluster: backend }`,
        clusters: staticCluster("backend", upstream.port),
        hcmExtra: "\n          use_remote_address: true",
      }),
    );
  });

  after(async () => {
    await p?.close();
    await upstream?.close();
  });

  async function activeCounts(): Promise<{ cx: number; rq: number }> {
    const text = (await once(`${p.adminUrl()}/stats`)).body;
    const get = (name: string) => Number(new RegExp(`^${name}: (-?\\d+)$`, "m").exec(text)?.[1] ?? "0");
    return {
      cx: get("http\\.ingress_http\\.downstream_cx_active"),
      rq: get("http\\.ingress_http\\.downstream_rq_active"),
    };
  }

  async function assertNoLeaks(): Promise<void> {
    for (let i = 0; i < 50; i++) {
      const c = await activeCounts();
      if (c.cx === 0 && c.rq === 0) return;
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.deepEqual(await activeCounts(), { cx: 0, rq: 0 });
  }

  test("malformed HTTP gets Envoy's 400 and the connection is closed", async () => {
    const reply = await raw(p.port(), ["GARBAGE / NOT-HTTP\r\n\r\n"]);
    assert.match(reply, /^HTTP\/1\.1 400 Bad Request\r\n/);
    assert.match(reply, /\r\nconnection: close\r\n/);
    assert.ok(reply.endsWith("\r\n\r\nBad Request"));
    await assertNoLeaks();
    assert.ok(p.stdout.some((l) => / 400 DPE /.test(l)));
  });

  test("headers over max_request_headers_kb (60 KiB) get 431", async () => {
    const big = "x".repeat(61 * 1024);
    const reply = await raw(p.port(), [`GET / HTTP/1.1\r\nhost: a\r\nx-big: ${big}\r\n\r\n`]);
    assert.match(reply, /^HTTP\/1\.1 431 Request Header Fields Too Large\r\n/);
    assert.ok(reply.endsWith("Request Header Fields Too Large"));
    const many = Array.from({ length: 101 }, (_, i) => `x-h${i}: ${i}\r\n`).join("");
    const reply2 = await raw(p.port(), [`GET / HTTP/1.1\r\nhost: a\r\n${many}\r\n`]);
    assert.match(reply2, /^HTTP\/1\.1 431 /);
    // Just under the limit is fine.
    const ok = await once(`${p.url()}/get`, { headers: { "x-big": "y".repeat(50 * 1024) } });
    assert.equal(ok.status, 200);
    await assertNoLeaks();
  });

  test("a client that sends slowly is served, and does not hold up others", async () => {
    const request1 =
      "POST /slow-client HTTP/1.1\r\nhost: a\r\ncontent-length: 10\r\nconnection: close\r\n\r\n0123456789";
    const pieces = request1.match(/.{1,4}/gs)!;
    const slow = raw(p.port(), pieces, 15);
    const fast = await once(`${p.url()}/fast`);
    assert.equal(fast.status, 200);
    const reply = await slow;
    assert.match(reply, /^HTTP\/1\.1 200 OK\r\n/);
    assert.match(reply, /"body":"0123456789"/);
    await assertNoLeaks();
  });

  test("a client that stops reading gets a large response whole once it reads again", async () => {
    // 16 MiB is far more than the sockets buffer: the proxy must hold the upstream (pause) and let it go
    // again (resume) when the client drains, or the body never completes.
    const size = 16 * 1024 * 1024;
    const client = new Client(p.url());
    try {
      const res = await client.request({ path: `/big/${size}`, method: "GET" });
      assert.equal(res.statusCode, 200);
      await new Promise((r) => setTimeout(r, 300)); // not reading: undici stops reading the socket
      let received = 0;
      let foreign = 0;
      for await (const chunk of res.body as AsyncIterable<Buffer>) {
        received += chunk.length;
        for (const b of chunk) if (b !== 97) foreign++;
      }
      assert.equal(received, size);
      assert.equal(foreign, 0, "every byte is the upstream's 'a'");
    } finally {
      await client.close();
    }
    await assertNoLeaks();
  });

  test("an upstream that resets mid-body resets the client; nothing leaks; later requests work", async () => {
    await assert.rejects(once(`${p.url()}/reset-mid-body`));
    const ok = await once(`${p.url()}/after`);
    assert.equal(ok.status, 200);
    await assertNoLeaks();
    assert.ok(
      p.stdout.some((l) => /"GET \/reset-mid-body HTTP\/1\.1" 200 UC /.test(l)),
      p.stdout.join(""),
    );
  });

  test("upgrade requests get Envoy's 403 and CONNECT its 404 (no upgrade or CONNECT config)", async () => {
    const ws = await raw(p.port(), [
      "GET /ws HTTP/1.1\r\nhost: a\r\nconnection: upgrade\r\nupgrade: websocket\r\n\r\n",
    ]);
    assert.match(ws, /^HTTP\/1\.1 403 Forbidden\r\n/);
    const tunnel = await raw(p.port(), ["CONNECT example.com:443 HTTP/1.1\r\nhost: example.com:443\r\n\r\n"]);
    assert.match(tunnel, /^HTTP\/1\.1 404 Not Found\r\n/);
    await assertNoLeaks();
  });

  test("stream_idle_timeout: a received request with no activity gets Envoy's 504 with flag SI", async () => {
    const idle = await startTestProxy(
      httpBootstrap({
        routes: `
              - match: { prefix: "/" }
                route: { cluster: backend, timeout: 0s }`,
        clusters: staticCluster("backend", upstream.port),
        hcmExtra: "\n          stream_idle_timeout: 0.3s",
      }),
    );
    try {
      const res = await once(`${idle.url()}/slow/3000`);
      // The request is all there, so Envoy answers 504 (Utility::maybeRequestTimeoutCode), not 408.
      assert.equal(res.status, 504);
      assert.equal(res.body, "stream timeout");
      await new Promise((r) => setTimeout(r, 20));
      assert.ok(idle.stdout.some((l) => /"GET \/slow\/3000 HTTP\/1\.1" 504 SI /.test(l)));
    } finally {
      await idle.close();
    }
  });

  test("real source addresses: 127.0.0.10 shows in x-forwarded-for and the access log", async () => {
    const reply = await raw(
      p.port(),
      ["GET /who HTTP/1.1\r\nhost: a\r\nconnection: close\r\n\r\n"],
      0,
      "127.0.0.10",
    );
    assert.match(reply, /"x-forwarded-for":"127\.0\.0\.10"/);
    assert.match(reply, /"x-envoy-internal":"true"/);
    assert.ok(p.stdout.some((l) => /"GET \/who HTTP\/1\.1" 200 - .* "127\.0\.0\.10"/.test(l)));
  });
});
