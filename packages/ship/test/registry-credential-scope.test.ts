/**
 * Registry credentials stay with the registry host (and token realm) they were given for, as docker,
 * containerd and ORAS keep them: real HTTP servers on three loopback addresses play the registry
 * (127.0.0.1), an upload or blob storage host (127.0.0.2) and a token service (127.0.0.3).
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { lookup as dnsLookup } from "node:dns";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { LookupFunction } from "node:net";
import { after, before, describe, type TestContext, test } from "node:test";
import { startRegistry, type TestRegistry } from "@proxy-wasm-ts/test-support/docker-registry";
import { tinyPluginWasm } from "@proxy-wasm-ts/test-support/wasm-fixture";
import { Agent } from "undici";
import { pullWasm, pushWasm, RegistryClient, RegistryError } from "../src/index.ts";
import {
  type RecordingFront,
  type RecordingFrontOptions,
  startRecordingFront,
} from "./support/recording-front.ts";

const credentials = { username: "shipper", password: "s3cret-pass" };
const basic = `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString("base64")}`;

type Answer = NonNullable<RecordingFrontOptions["answer"]>;

/** A registry's basic-auth gate: 401 unless the request carries the right credentials. */
function basicGate(): Answer {
  return (req, res) => {
    if (req.headers.authorization === basic) return false;
    res.writeHead(401, { "www-authenticate": 'Basic realm="pwts-test"' }).end();
    return true;
  };
}

/** A registry's bearer gate: 401 with a challenge naming `realm` unless the request carries an issued token. */
function bearerGate(realm: string, tokens: Set<string>): Answer {
  return (req, res, url) => {
    const token = /^Bearer (\w+)$/.exec(req.headers.authorization ?? "")?.[1];
    if (token && tokens.has(token)) return false;
    const repo = /^\/v2\/(.+?)\/(blobs|manifests)\//.exec(url.pathname)?.[1];
    const scope = repo ? `,scope="repository:${repo}:pull,push"` : "";
    res.writeHead(401, { "www-authenticate": `Bearer realm="${realm}",service="pwts-test"${scope}` }).end();
    return true;
  };
}

/** A token service: issues a token for the right basic credentials, 401 otherwise. */
function tokenService(tokens: Set<string>): Answer {
  return (req: IncomingMessage, res: ServerResponse) => {
    if (req.headers.authorization !== basic) {
      res.writeHead(401, { "content-type": "application/json" }).end('{"details":"bad credentials"}');
      return true;
    }
    const token = randomBytes(16).toString("hex");
    tokens.add(token);
    res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ token }));
    return true;
  };
}

/** Sends the registry's upload sessions (POST/PATCH answers) to another host, as S3-backed registries do. */
function uploadsTo(host: string): RecordingFrontOptions["rewriteLocation"] {
  return (location) =>
    location.pathname.includes("/blobs/uploads/")
      ? `http://${host}${location.pathname}${location.search}`
      : undefined;
}

function withAuthorization(front: RecordingFront): string[] {
  return front.seen.filter((r) => r.authorization).map((r) => `${r.method} ${r.path}: ${r.authorization}`);
}

describe("registry credentials stay with the host they were given for", { timeout: 300_000 }, () => {
  // docker-registry without auth: the storage behind every front below.
  let registry: TestRegistry;
  before(async () => {
    registry = await startRegistry();
  });
  after(async () => {
    await registry?.stop();
  });

  /** A recording front that closes when the test ends; `forward` sends what it does not answer to the registry. */
  async function front(
    t: TestContext,
    { forward, ...options }: Omit<RecordingFrontOptions, "upstream"> & { forward?: boolean },
  ): Promise<RecordingFront> {
    const started = await startRecordingFront({
      ...options,
      ...(forward ? { upstream: registry.host } : {}),
    });
    t.after(() => started.stop());
    return started;
  }

  test("a registry that points blob uploads to a second host: that host never sees Authorization, and the push completes", async (t) => {
    const uploadHost = await front(t, { address: "127.0.0.2", forward: true });
    const registryHost = await front(t, {
      address: "127.0.0.1",
      forward: true,
      answer: basicGate(),
      rewriteLocation: uploadsTo(uploadHost.host),
    });
    // Both upload flows: POST then PUT of the whole blob (distribution answers POST ?digest= with 202), and PATCH chunks.
    for (const chunkSize of [undefined, 40]) {
      const wasm = tinyPluginWasm(`split-upload-${chunkSize ?? "single"}`);
      const image = `${registryHost.host}/team/split-upload:${chunkSize ?? "single"}`;
      const pushed = await pushWasm(wasm, image, {
        credentials,
        ...(chunkSize !== undefined ? { chunkSize } : {}),
      });
      const pulled = await pullWasm(image, { credentials });
      assert.equal(pulled.digest, pushed.digest);
      assert.deepEqual(pulled.wasm, wasm);
    }
    const uploadMethods = new Set(uploadHost.seen.map((r) => r.method));
    assert.ok(
      uploadMethods.has("PUT") && uploadMethods.has("PATCH"),
      `upload host saw ${[...uploadMethods]}`,
    );
    assert.deepEqual(withAuthorization(uploadHost), []);
    assert.ok(
      registryHost.seen.some((r) => r.authorization === basic),
      "the registry host itself got the credentials",
    );
  });

  test("a token realm on a third loopback host gets the basic credentials, and the token goes to the registry host only, never to the upload host", async (t) => {
    const tokens = new Set<string>();
    const realmHost = await front(t, { address: "127.0.0.3", answer: tokenService(tokens) });
    const uploadHost = await front(t, { address: "127.0.0.2", forward: true });
    const registryHost = await front(t, {
      address: "127.0.0.1",
      forward: true,
      answer: bearerGate(`http://${realmHost.host}/token`, tokens),
      rewriteLocation: uploadsTo(uploadHost.host),
    });
    const wasm = tinyPluginWasm("token-realm");
    const image = `${registryHost.host}/team/token-realm:1`;
    const pushed = await pushWasm(wasm, image, { credentials, chunkSize: 64 });
    const pulled = await pullWasm(image, { credentials });
    assert.equal(pulled.digest, pushed.digest);

    assert.ok(realmHost.seen.length > 0, "the token service was asked");
    assert.ok(
      realmHost.seen.every((r) => r.authorization === basic),
      `token service saw ${JSON.stringify(realmHost.seen)}`,
    );
    const registryAuthorizations = registryHost.seen.flatMap((r) =>
      r.authorization ? [r.authorization] : [],
    );
    assert.ok(registryAuthorizations.length > 0, "the registry host got tokens");
    for (const authorization of registryAuthorizations) {
      const token = /^Bearer (\w+)$/.exec(authorization)?.[1];
      assert.ok(token && tokens.has(token), `registry host got ${authorization}, not an issued token`);
    }
    assert.ok(uploadHost.seen.length > 0, "uploads went to the upload host");
    assert.deepEqual(withAuthorization(uploadHost), []);
  });

  test("a token realm on plain HTTP at a non-loopback host gets no basic credentials unless the user asked for plain HTTP", async (t) => {
    const tokens = new Set<string>();
    const realmHost = await front(t, { address: "127.0.0.3", answer: tokenService(tokens) });
    // `token.test` is not loopback by name; this dispatcher alone resolves it, to the realm on 127.0.0.3.
    const lookup: LookupFunction = (hostname, options, callback) => {
      if (hostname !== "token.test") return dnsLookup(hostname, options, callback);
      if (options.all) return callback(null, [{ address: "127.0.0.3", family: 4 }]);
      return callback(null, "127.0.0.3", 4);
    };
    const dispatcher = new Agent({ connect: { lookup } });
    t.after(() => dispatcher.close());
    const registryHost = await front(t, {
      address: "127.0.0.1",
      forward: true,
      answer: bearerGate(`http://token.test:${realmHost.port}/token`, tokens),
    });

    const defaultClient = new RegistryClient({ registry: registryHost.host, credentials, dispatcher });
    t.after(() => defaultClient.close());
    await assert.rejects(defaultClient.ping(), (err: Error) => {
      assert.ok(err instanceof RegistryError, String(err));
      assert.equal(err.kind, "auth");
      assert.match(err.message, /credentials for shipper were not sent to it: .*not https .*--plain-http/);
      return true;
    });
    assert.equal(realmHost.seen.length, 1, "the token was asked for, anonymously");
    assert.deepEqual(withAuthorization(realmHost), []);

    const plainClient = new RegistryClient({
      registry: registryHost.host,
      credentials,
      dispatcher,
      plainHttp: true,
    });
    t.after(() => plainClient.close());
    await plainClient.ping();
    assert.equal(realmHost.seen.at(-1)?.authorization, basic);
  });

  test("pull: a blob download redirected to another host carries no Authorization there, not even when that host challenges for it", async (t) => {
    let challenge = false;
    const blobHost: RecordingFront = await front(t, {
      address: "127.0.0.2",
      forward: true,
      // A storage host that wants credentials of its own: asks through a bearer realm of its own.
      answer: (req, res, url) => {
        if (url.pathname === "/token") {
          res.writeHead(200, { "content-type": "application/json" }).end('{"token":"harvested"}');
          return true;
        }
        if (!challenge) return false;
        res
          .writeHead(401, {
            "www-authenticate": `Bearer realm="http://${req.headers.host}/token",service="cdn"`,
          })
          .end();
        return true;
      },
    });
    const gate = basicGate();
    const registryHost = await front(t, {
      address: "127.0.0.1",
      forward: true,
      answer: (req, res, url) => {
        if (gate(req, res, url)) return true;
        if (req.method !== "GET" || !/\/blobs\/sha256:/.test(url.pathname)) return false;
        res.writeHead(307, { location: `http://${blobHost.host}${url.pathname}` }).end();
        return true;
      },
    });
    const wasm = tinyPluginWasm("redirected-blob");
    await pushWasm(wasm, `${registry.host}/team/redirected:1`);
    const image = `${registryHost.host}/team/redirected:1`;

    const pulled = await pullWasm(image, { credentials });
    assert.deepEqual(pulled.wasm, wasm);
    assert.ok(blobHost.seen.length > 0, "the blob came from the blob host");

    challenge = true;
    const refused = await pullWasm(image, { credentials }).then(
      () => undefined,
      (err: unknown) => err,
    );
    // Checked before the error itself: the point is that the blob host got nothing to keep.
    assert.deepEqual(withAuthorization(blobHost), []);
    assert.ok(!blobHost.seen.some((r) => r.path === "/token"), "the blob host's realm was not asked");
    assert.ok(refused instanceof RegistryError, `pull should fail, got ${String(refused)}`);
    assert.equal(refused.kind, "auth");
    assert.match(
      refused.message,
      /127\.0\.0\.2:\d+ asks for credentials, and the credentials for 127\.0\.0\.1:\d+ are not sent there/,
    );
  });
});
