import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { after, before, describe, test } from "node:test";
import { promisify } from "node:util";
import { startRegistry, type TestRegistry } from "@proxy-wasm-ts/test-support/docker-registry";
import { freePort } from "@proxy-wasm-ts/test-support/server-process";
import { tinyPluginWasm } from "@proxy-wasm-ts/test-support/wasm-fixture";
import { pullWasm, pushWasm, RegistryError, sha256Digest, type UploadProgress } from "../src/index.ts";
import { type RegistryFront, startRegistryFront } from "./support/registry-front.ts";

const run = promisify(execFile);

async function skopeoRaw(image: string, creds?: string): Promise<Buffer> {
  const args = [
    "inspect",
    "--tls-verify=false",
    "--raw",
    ...(creds ? ["--creds", creds] : []),
    `docker://${image}`,
  ];
  const { stdout } = await run("skopeo", args, { encoding: "buffer", timeout: 30_000 });
  return stdout;
}

describe("push and pull against docker-registry on loopback", { timeout: 300_000 }, () => {
  let registry: TestRegistry;
  const wasm = tinyPluginWasm("layouts");
  before(async () => {
    registry = await startRegistry();
  });
  after(async () => {
    await registry?.stop();
  });

  for (const layout of ["compat", "wasm-layers"] as const) {
    test(`${layout}: the printed digest is the registry's and skopeo's, and pull gives the module back`, async () => {
      const image = `${registry.host}/plugins/demo-${layout}:0.1.0`;
      const progress: UploadProgress[] = [];
      const pushed = await pushWasm(wasm, image, {
        layout,
        rootIds: ["demo"],
        onProgress: (p) => progress.push(p),
      });
      assert.match(pushed.digest, /^sha256:[a-f0-9]{64}$/);
      assert.equal(pushed.pinnedUrl, `oci://${registry.host}/plugins/demo-${layout}@${pushed.digest}`);
      assert.ok(
        progress.some((p) => p.state === "done"),
        "progress reports finished uploads",
      );

      // The registry's own digest header for the tag.
      const head = await fetch(`http://${registry.host}/v2/plugins/demo-${layout}/manifests/0.1.0`, {
        method: "HEAD",
        headers: { accept: "application/vnd.oci.image.manifest.v1+json" },
      });
      assert.equal(head.headers.get("docker-content-digest"), pushed.digest);

      // skopeo, an independent client, reads the manifest; its bytes hash to the printed digest.
      const raw = await skopeoRaw(image);
      assert.equal(sha256Digest(raw), pushed.digest);
      const manifest = JSON.parse(raw.toString()) as { layers: Array<{ mediaType: string }> };
      if (layout === "compat") {
        assert.deepEqual(
          manifest.layers.map((l) => l.mediaType),
          ["application/vnd.oci.image.layer.v1.tar+gzip"],
        );
        const { stdout } = await run("skopeo", ["inspect", "--tls-verify=false", `docker://${image}`]);
        assert.equal((JSON.parse(stdout) as { Digest: string }).Digest, pushed.digest);
      } else {
        assert.deepEqual(
          manifest.layers.map((l) => l.mediaType),
          ["application/vnd.module.wasm.config.v1+json", "application/vnd.module.wasm.content.layer.v1+wasm"],
        );
      }

      for (const ref of [image, `${registry.host}/plugins/demo-${layout}@${pushed.digest}`]) {
        const pulled = await pullWasm(ref);
        assert.equal(pulled.digest, pushed.digest);
        assert.equal(pulled.layout, layout);
        assert.deepEqual(pulled.wasm, wasm);
      }
    });
  }

  test("the same module gives the same digest, and existing blobs are not sent again", async () => {
    const image = `${registry.host}/plugins/repeat:1`;
    const first = await pushWasm(wasm, image);
    const second = await pushWasm(wasm, image);
    assert.equal(second.digest, first.digest);
    assert.ok(first.uploads.every((u) => u.how === "monolithic"));
    assert.ok(second.uploads.every((u) => u.how === "exists"));
  });

  test("the chunked upload flow stores the same image", async () => {
    const image = `${registry.host}/plugins/chunked:1`;
    const progress: UploadProgress[] = [];
    const pushed = await pushWasm(wasm, image, { chunkSize: 40, onProgress: (p) => progress.push(p) });
    assert.ok(pushed.uploads.every((u) => u.how === "chunked"));
    const layerUpload = progress.filter((p) => p.method === "chunked" && p.state === "uploading");
    assert.ok(layerUpload.length > 2, "several chunks reported");
    const pulled = await pullWasm(image);
    assert.deepEqual(pulled.wasm, wasm);
    assert.equal(pulled.digest, pushed.digest);
  });

  test("an image skopeo rewrote as a Docker v2 manifest still pulls as compat", async () => {
    const source = `${registry.host}/plugins/oci-format:0.1.0`;
    const target = `${registry.host}/plugins/docker-format:0.1.0`;
    await pushWasm(wasm, source);
    await run(
      "skopeo",
      [
        "copy",
        "--src-tls-verify=false",
        "--dest-tls-verify=false",
        "--format",
        "v2s2",
        `docker://${source}`,
        `docker://${target}`,
      ],
      { timeout: 60_000 },
    );
    const raw = JSON.parse((await skopeoRaw(target)).toString()) as {
      mediaType: string;
      layers: Array<{ mediaType: string }>;
    };
    assert.equal(raw.mediaType, "application/vnd.docker.distribution.manifest.v2+json");
    assert.equal(raw.layers[0]?.mediaType, "application/vnd.docker.image.rootfs.diff.tar.gzip");
    const pulled = await pullWasm(target);
    assert.equal(pulled.layout, "compat");
    assert.deepEqual(pulled.wasm, wasm);
  });

  test("pull of a missing tag says so", async () => {
    await assert.rejects(pullWasm(`${registry.host}/plugins/none:1`), (err: Error) => {
      assert.ok(err instanceof RegistryError);
      assert.equal(err.kind, "not-found");
      assert.match(err.message, /plugins\/none:1 not found/);
      return true;
    });
  });
});

describe("auth and network failures", { timeout: 300_000 }, () => {
  let registry: TestRegistry;
  const credentials = { username: "shipper", password: "s3cret-pass" };
  before(async () => {
    registry = await startRegistry(credentials);
  });
  after(async () => {
    await registry?.stop();
  });

  test("basic auth: right credentials push; skopeo with the same credentials agrees on the digest", async () => {
    const image = `${registry.host}/private/demo:1`;
    const pushed = await pushWasm(tinyPluginWasm("auth"), image, { credentials });
    const raw = await skopeoRaw(image, `${credentials.username}:${credentials.password}`);
    assert.equal(sha256Digest(raw), pushed.digest);
    const pulled = await pullWasm(image, { credentials });
    assert.equal(pulled.digest, pushed.digest);
  });

  test("a wrong password is an auth error naming the registry", async () => {
    await assert.rejects(
      pushWasm(tinyPluginWasm(), `${registry.host}/private/demo:2`, {
        credentials: { username: credentials.username, password: "wrong" },
      }),
      (err: Error) => {
        assert.ok(err instanceof RegistryError);
        assert.equal(err.kind, "auth");
        assert.match(err.message, new RegExp(`^${registry.host} rejected the credentials of shipper`));
        return true;
      },
    );
  });

  test("no credentials for a protected registry asks for them", async () => {
    await assert.rejects(pullWasm(`${registry.host}/private/demo:1`), /requires a username and password/);
  });

  test("an unreachable registry is a network error", async () => {
    const port = await freePort();
    await assert.rejects(pushWasm(tinyPluginWasm(), `127.0.0.1:${port}/x/y:1`), (err: Error) => {
      assert.ok(err instanceof RegistryError);
      assert.equal(err.kind, "network");
      assert.match(err.message, /cannot reach registry 127\.0\.0\.1:\d+.*connection refused/);
      return true;
    });
  });
});

describe("bearer-token auth (distribution token flow)", { timeout: 300_000 }, () => {
  let registry: TestRegistry;
  let front: RegistryFront;
  const credentials = { username: "robot", password: "token-pass" };
  before(async () => {
    registry = await startRegistry();
    front = await startRegistryFront(registry.host, { bearer: credentials });
  });
  after(async () => {
    await front?.stop();
    await registry?.stop();
  });

  test("push and pull through a token service, with the repository scope it asks for", async () => {
    const image = `${front.host}/team/plugin:1`;
    const wasm = tinyPluginWasm("bearer");
    const pushed = await pushWasm(wasm, image, { credentials });
    const pulled = await pullWasm(image, { credentials });
    assert.equal(pulled.digest, pushed.digest);
    assert.deepEqual(pulled.wasm, wasm);
    assert.ok(front.scopes.includes("repository:team/plugin:pull,push"), JSON.stringify(front.scopes));
  });

  test("the token service refusing the credentials is an auth error", async () => {
    await assert.rejects(
      pullWasm(`${front.host}/team/plugin:1`, { credentials: { username: "robot", password: "nope" } }),
      (err: Error) => {
        assert.ok(err instanceof RegistryError);
        assert.equal(err.kind, "auth");
        assert.match(
          err.message,
          /token service 127\.0\.0\.1:\d+ rejected the credentials for robot \(HTTP 401\)/,
        );
        return true;
      },
    );
  });
});

describe("a registry that refuses single-request uploads", { timeout: 300_000 }, () => {
  let registry: TestRegistry;
  let front: RegistryFront;
  before(async () => {
    registry = await startRegistry();
    front = await startRegistryFront(registry.host, { refuseMonolithic: true });
  });
  after(async () => {
    await front?.stop();
    await registry?.stop();
  });

  test("the upload falls back to PATCH chunks and the image is complete", async () => {
    const wasm = tinyPluginWasm("fallback");
    const pushed = await pushWasm(wasm, `${front.host}/plugins/fallback:1`);
    assert.ok(
      pushed.uploads.every((u) => u.how === "chunked"),
      JSON.stringify(pushed.uploads),
    );
    const pulled = await pullWasm(`${registry.host}/plugins/fallback:1`);
    assert.equal(pulled.digest, pushed.digest);
    assert.deepEqual(pulled.wasm, wasm);
  });
});

test("a module without a Proxy-Wasm ABI marker is refused before anything is sent", {
  timeout: 60_000,
}, async () => {
  const { compileWat } = await import("@proxy-wasm-ts/test-support/wat");
  const plain = compileWat(`(module (func (export "main")))`);
  await assert.rejects(pushWasm(plain, "127.0.0.1:1/x/y:1"), /exports no proxy_abi_version_\* marker/);
});
