/** `pwts deploy`: every target from one plugin folder, `--target all` into a folder, version flags. */
import assert from "node:assert/strict";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { parseAllDocuments } from "yaml";
import { deployCommand } from "../src/commands/deploy.ts";
import { validateCommand } from "../src/commands/validate.ts";
import { capturedIo } from "./support/captured-io.ts";

// biome-ignore lint/suspicious/noExplicitAny: test resources are read and mutated freely
type Loose = Record<string, any>;

const seeds = join(import.meta.dirname, "..", "..", "ship", "test", "fixtures", "seeds");
const digest = `sha256:${"0123456789abcdef".repeat(4)}`;

describe("pwts deploy", { timeout: 120_000 }, () => {
  let plugin: string;
  before(async () => {
    plugin = await mkdtemp(join(tmpdir(), "pwts-deploy-cli-"));
    await writeFile(join(plugin, "envoy.yaml"), await readFile(join(seeds, "004-lab3", "envoy.yaml")));
    await writeFile(
      join(plugin, "deploy.yaml"),
      "image: ghcr.io/org/lab3:0.1.0\nfailStrategy: FAIL_OPEN\nenvoyGateway: { targetRefs: [{ kind: HTTPRoute, name: web }] }\n",
    );
  });
  after(async () => {
    await rm(plugin, { recursive: true, force: true });
  });

  test("--target envoy-gateway prints an EnvoyExtensionPolicy on the route, pinned by --digest", async () => {
    const io = capturedIo();
    await deployCommand(plugin, { target: "envoy-gateway", digest }, io);
    const [policy] = parseAllDocuments(io.stdout).map((d) => d.toJS() as Loose);
    assert.equal(policy?.kind, "EnvoyExtensionPolicy");
    assert.deepEqual(policy?.spec.targetRefs, [
      { group: "gateway.networking.k8s.io", kind: "HTTPRoute", name: "web" },
    ]);
    assert.equal(policy?.spec.wasm[0].code.image.url, `ghcr.io/org/lab3@${digest}`);
  });

  test("--target all writes the three files, and pwts validate passes them", async () => {
    const out = join(plugin, "deploy");
    const io = capturedIo();
    // The lab's callout needs a Gateway for its EnvoyPatchPolicy: the flag replaces deploy.yaml's route.
    await deployCommand(
      plugin,
      { target: "all", digest, targetRef: [{ kind: "Gateway", name: "eg" }], output: out },
      io,
    );
    assert.deepEqual((await readdir(out)).sort(), [
      "envoy-gateway.yaml",
      "istio-trafficextension.yaml",
      "istio-wasmplugin.yaml",
    ]);
    const check = capturedIo();
    assert.equal(await validateCommand([out], {}, check), 0, check.stdout);
    assert.match(check.stdout, /3 config\(s\) checked: 3 ok/);
  });

  test("pwts validate --istio-version 1.29 refuses a TrafficExtension, naming the version", async () => {
    const io = capturedIo();
    const file = join(plugin, "deploy", "istio-trafficextension.yaml");
    assert.equal(await validateCommand([file], { istioVersion: "1.29" }, io), 1);
    assert.match(io.stdout, /TrafficExtension needs Istio 1\.30 or later \(checking for 1\.29\)/);
  });

  test("no image anywhere is a one-line error", async () => {
    const bare = await mkdtemp(join(tmpdir(), "pwts-deploy-bare-"));
    try {
      await writeFile(join(bare, "envoy.yaml"), await readFile(join(seeds, "004-lab3", "envoy.yaml")));
      await assert.rejects(
        deployCommand(bare, { target: "istio-wasmplugin", digest }, capturedIo()),
        /no image for .*: pass --image or set image: in deploy\.yaml/,
      );
    } finally {
      await rm(bare, { recursive: true, force: true });
    }
  });
});
