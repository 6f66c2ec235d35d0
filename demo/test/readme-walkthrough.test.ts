import assert from "node:assert/strict";
import { test } from "node:test";
import { missingExpectedLine, readmeWalkthrough } from "../readme-walkthrough.ts";

const sample = [
  "# x",
  "```sh",
  "not a step: outside the walkthrough",
  "```",
  "```text",
  "x",
  "```",
  "## Walkthrough",
  "### 1. First",
  "```sh",
  "curl -s a",
  "```",
  "```text",
  '"name": "a"',
  "...",
  "done",
  "```",
  "### 2. No output promised",
  "```sh",
  "echo skipped",
  "```",
  "## Next section",
  "```sh",
  "ignored",
  "```",
  "```text",
  "ignored",
  "```",
].join("\n");

test("walkthrough steps are sh blocks followed by text blocks, under ## Walkthrough only", () => {
  const steps = readmeWalkthrough(sample);
  assert.deepEqual(steps, [
    { heading: "1. First", command: "curl -s a", expected: ['"name": "a"', "...", "done"] },
  ]);
});

test("a README without a walkthrough is an error naming the missing section", () => {
  assert.throws(() => readmeWalkthrough("# nothing"), /no "## Walkthrough" section/);
});

test("promised lines must appear in order", () => {
  assert.equal(missingExpectedLine('{"name": "a"}\nmore\ndone', ['"name": "a"', "...", "done"]), undefined);
  assert.equal(missingExpectedLine('done\n{"name": "a"}', ['"name": "a"', "done"]), "done");
  assert.equal(missingExpectedLine("", ["x"]), "x");
});
