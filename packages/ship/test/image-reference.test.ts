import assert from "node:assert/strict";
import { test } from "node:test";
import { formatImageReference, parseImageReference } from "../src/index.ts";

test("references with tag, digest, oci:// and a port parse", { timeout: 30_000 }, () => {
  const digest = `sha256:${"a".repeat(64)}`;
  assert.deepEqual(parseImageReference("ghcr.io/org/plugins/demo:0.1.0"), {
    registry: "ghcr.io",
    repository: "org/plugins/demo",
    tag: "0.1.0",
  });
  assert.deepEqual(parseImageReference(`oci://127.0.0.1:5000/demo@${digest}`), {
    registry: "127.0.0.1:5000",
    repository: "demo",
    digest,
  });
  assert.deepEqual(parseImageReference("localhost/demo"), {
    registry: "localhost",
    repository: "demo",
    tag: "latest",
  });
  assert.equal(formatImageReference(parseImageReference(`r.io/a/b:1@${digest}`)), `r.io/a/b:1@${digest}`);
});

test("bad references say what was expected", { timeout: 30_000 }, () => {
  assert.throws(() => parseImageReference("demo:1"), /expected REGISTRY\/REPOSITORY\[:TAG\]/);
  assert.throws(() => parseImageReference("org/demo:1"), /"org" is not a registry host/);
  assert.throws(() => parseImageReference("ghcr.io/Org/Demo:1"), /repository "Org\/Demo" is not valid/);
  assert.throws(() => parseImageReference("ghcr.io/org/demo:bad tag"), /tag "bad tag" is not valid/);
  assert.throws(
    () => parseImageReference("ghcr.io/org/demo@sha256:abc"),
    /digest "sha256:abc" is not sha256:<64 lowercase hex>/,
  );
});
