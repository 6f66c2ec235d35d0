/**
 * The README's "Ship it" block, each line run through `pwts` in-process from the repository root: the three
 * targets' manifests for a plugin, then `pwts validate` over every plugin folder.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { before, test } from "node:test";
import { parseAllDocuments } from "yaml";
import { runPwts } from "./support/run-pwts.ts";

const REPO = join(import.meta.dirname, "..", "..", "..");

/** Runs `pwts ARGS` in-process; returns its exit code and what it wrote to stdout. */
const pwts = runPwts;

let lines: string[][] = [];

before(async () => {
  process.chdir(REPO);
  const readme = await readFile(join(REPO, "README.md"), "utf8");
  const section = readme.split(/^## /m).find((s) => s.startsWith("Ship it"));
  const block = section?.match(/```sh\n([\s\S]*?)```/)?.[1];
  assert.ok(block, "README.md has no sh block under its Ship it heading");
  lines = block
    .split("\n")
    .filter((l) => l.startsWith("npx pwts "))
    .map((l) => l.slice("npx pwts ".length).split(/\s+/).filter(Boolean));
  // --local-digest reads the built module; a fresh clone builds plugins in their own tests.
  if (!existsSync(join(REPO, "plugins", "header-mutation", "build", "plugin.wasm"))) {
    assert.equal((await pwts(["build", "plugins/header-mutation"])).code, 0);
  }
});

test("the Ship it block: one manifest kind per target, then pwts validate passes", {
  timeout: 300_000,
}, async () => {
  const kinds: string[] = [];
  assert.ok(lines.length >= 4, `expected the deploy and validate lines, got ${JSON.stringify(lines)}`);
  for (const args of lines) {
    const { code, stdout } = await pwts(args);
    assert.equal(code, 0, `pwts ${args.join(" ")}`);
    if (args[0] === "deploy") {
      const first = parseAllDocuments(stdout)[0]?.toJS() as { kind?: string; spec?: Record<string, unknown> };
      kinds.push(String(first?.kind));
      assert.match(stdout, /@sha256:[0-9a-f]{64}/, "pinned by digest");
    } else assert.match(stdout, /config\(s\) checked: (\d+) ok, 0 with errors/);
  }
  assert.deepEqual(kinds, ["WasmPlugin", "TrafficExtension", "EnvoyExtensionPolicy"]);
});
