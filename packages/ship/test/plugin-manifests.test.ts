/**
 * Each plugin folder's committed manifests (deploy/*.yaml) are what `pwts deploy --target all` makes from its
 * envoy.yaml and deploy.yaml today, at the digest they were pinned to, and they pass validation: a change to
 * either source without regenerating fails here, naming the command that regenerates them.
 */
import assert from "node:assert/strict";
import { existsSync, readdirSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, test } from "node:test";
import { deployManifests, deployTargets, validateConfigFiles } from "../src/index.ts";

const PLUGINS = join(import.meta.dirname, "..", "..", "..", "plugins");
const withDescription = readdirSync(PLUGINS).filter((p) => existsSync(join(PLUGINS, p, "deploy.yaml")));

describe("plugin folders' deploy/ manifests", { timeout: 300_000 }, () => {
  test("every plugin with an envoy.yaml has a deployment description", () => {
    const plugins = readdirSync(PLUGINS).filter((p) => existsSync(join(PLUGINS, p, "envoy.yaml")));
    assert.ok(plugins.length >= 11, `only ${plugins.join(", ")}`);
    assert.deepEqual(
      plugins.filter((p) => !withDescription.includes(p)),
      [],
      "plugins without deploy.yaml",
    );
  });

  for (const plugin of withDescription) {
    test(`${plugin}: deploy/ matches deploy.yaml + envoy.yaml and validates`, async () => {
      const dir = join(PLUGINS, plugin);
      const regenerate = `pwts deploy plugins/${plugin} --target all --local-digest -o plugins/${plugin}/deploy`;
      for (const target of deployTargets) {
        const file = join(dir, "deploy", `${target}.yaml`);
        if (!existsSync(file)) continue; // a target the plugin cannot run on (--target all skipped it)
        const committed = await readFile(file, "utf8");
        const digest = /@(sha256:[0-9a-f]{64})/.exec(committed)?.[1];
        assert.ok(digest, `${file} is not pinned by digest`);
        const { yaml, problems } = await deployManifests(dir, { target, digest });
        assert.deepEqual(problems, []);
        // The header names the source path as given; compare from the first resource on.
        const body = (text: string) => text.slice(text.indexOf("apiVersion:"));
        assert.equal(body(committed), body(yaml), `${file} is stale: run ${regenerate}`);
        const errors = (await validateConfigFiles([file])).filter((p) => p.severity === "error");
        assert.deepEqual(errors, []);
      }
      assert.ok(existsSync(join(dir, "deploy", "istio-wasmplugin.yaml")), `run ${regenerate}`);
    });
  }
});
