/** `pwts istio`: YAML on stdout or into a file, and a one-line error for input Istio would refuse. */
import assert from "node:assert/strict";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { parseAllDocuments } from "yaml";
import { istioCommand } from "../src/commands/istio.ts";
import { capturedIo } from "./support/captured-io.ts";

const seeds = join(import.meta.dirname, "..", "..", "ship", "test", "fixtures", "seeds");
const digest = `sha256:${"0123456789abcdef".repeat(4)}`;

describe("pwts istio", { timeout: 120_000 }, () => {
  let plugin: string;
  before(async () => {
    plugin = await mkdtemp(join(tmpdir(), "pwts-istio-cli-"));
    await mkdir(plugin, { recursive: true });
    // Seed 004 lab 3: an HTTP filter plus the `metadata` cluster it calls out to.
    await writeFile(join(plugin, "envoy.yaml"), await readFile(join(seeds, "004-lab3", "envoy.yaml")));
  });
  after(async () => {
    await rm(plugin, { recursive: true, force: true });
  });

  test("prints a WasmPlugin pinned by digest, and the callout's ServiceEntry and EnvoyFilter", async () => {
    const io = capturedIo();
    await istioCommand(
      plugin,
      {
        image: `ghcr.io/org/rust-header@${digest}`,
        name: "rust-header",
        namespace: "default",
        phase: "AUTHN",
        priority: [10],
        failStrategy: "FAIL_OPEN",
        selector: { app: "httpbin" },
        callout: ["metadata"],
      },
      io,
    );
    const docs = parseAllDocuments(io.stdout).map(
      (d) => d.toJS() as { kind: string; spec: Record<string, unknown> },
    );
    assert.deepEqual(
      docs.map((d) => d.kind),
      ["WasmPlugin", "ServiceEntry", "EnvoyFilter"],
    );
    const spec = docs[0]?.spec ?? {};
    assert.equal(spec.url, `oci://ghcr.io/org/rust-header@${digest}`);
    assert.equal(spec.sha256, digest.slice(7));
    assert.equal(spec.phase, "AUTHN");
    assert.equal(spec.priority, 10);
    assert.equal(spec.failStrategy, "FAIL_OPEN");
    assert.deepEqual(docs[1]?.spec.hosts, ["httpbin.org"]);
  });

  test("--output writes the file", async () => {
    const io = capturedIo();
    const out = join(plugin, "wasmplugin.yaml");
    await istioCommand(plugin, { image: `ghcr.io/org/rust-header@${digest}`, output: out }, io);
    assert.equal(io.stdout, "");
    assert.match(io.stderr, /wrote 1 resource\(s\)/);
    assert.match(await readFile(out, "utf8"), /kind: WasmPlugin/);
  });

  test("a folder without envoy.yaml takes the root id and type from the options", async () => {
    const bare = join(plugin, "bare-plugin");
    await mkdir(bare, { recursive: true });
    const io = capturedIo();
    await istioCommand(
      bare,
      { image: `ghcr.io/org/bare@${digest}`, rootId: "bare_root", type: "NETWORK" },
      io,
    );
    const [doc] = parseAllDocuments(io.stdout).map((d) => d.toJS() as { spec: Record<string, unknown> });
    const spec = doc?.spec ?? {};
    assert.equal(spec.pluginName, "bare_root");
    assert.equal(spec.type, "NETWORK");
  });

  test("a selector with targetRefs, and an unknown callout cluster, are user errors", async () => {
    await assert.rejects(
      istioCommand(
        plugin,
        {
          image: `ghcr.io/org/x@${digest}`,
          selector: { app: "a" },
          targetRef: [{ kind: "Gateway", name: "gw" }],
        },
        capturedIo(),
      ),
      (err: Error) =>
        err.name === "UserError" && /either a workload selector or targetRefs/.test(err.message),
    );
    await assert.rejects(
      istioCommand(plugin, { image: `ghcr.io/org/x@${digest}`, callout: ["nope"] }, capturedIo()),
      /no cluster named "nope"/,
    );
  });
});
