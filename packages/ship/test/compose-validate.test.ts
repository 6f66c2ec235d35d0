import assert from "node:assert/strict";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { validateConfigFiles } from "../src/index.ts";

describe("docker-compose files", { timeout: 120_000 }, () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "pwts-compose-"));
    await mkdir(join(dir, "build"), { recursive: true });
    await writeFile(join(dir, "envoy.yaml"), "static_resources: {}\n");
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function check(text: string) {
    const file = join(dir, "docker-compose.yaml");
    await writeFile(file, text);
    return validateConfigFiles([file]);
  }

  test("a compose file whose mounts exist passes", async () => {
    const problems = await check(
      "services:\n  envoy:\n    image: envoyproxy/envoy:v1.31-latest\n    volumes:\n      - ./envoy.yaml:/etc/envoy/envoy.yaml:ro\n      - ./build:/etc/envoy/wasm\n    ports: ['10000:10000']\n",
    );
    assert.deepEqual(problems, []);
  });

  test("a misspelt service key fails against the compose schema, with its path", async () => {
    const problems = await check(
      "services:\n  envoy:\n    image: envoyproxy/envoy:v1.31-latest\n    volumez: []\n",
    );
    assert.equal(problems.length, 1, JSON.stringify(problems));
    assert.equal(problems[0]?.path, "services.envoy");
    assert.match(problems[0]?.message ?? "", /must NOT have additional properties \(volumez\)/);
  });

  test("a bind mount or env file that does not exist is named", async () => {
    const problems = await check(
      "services:\n  envoy:\n    image: x\n    env_file: .env.local\n    volumes:\n      - type: bind\n        source: ./missing\n        target: /x\n",
    );
    assert.deepEqual(
      problems.map((p) => p.path),
      ["services.envoy.env_file[0]", "services.envoy.volumes[0]"],
    );
    assert.match(problems[1]?.message ?? "", /bind-mount source \.\/missing does not exist/);
  });
});
