/** The catalogue of codes, the README's table of them, and the codes the packages use agree. */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { ERROR_CODES, hasErrorCode, PwtsError } from "../src/index.ts";

const README = new URL("../README.md", import.meta.url);
const PACKAGES = new URL("../../", import.meta.url).pathname;

/** The README's table of codes: code -> meaning (cells trimmed, as the formatter pads them). */
async function documentedCodes(): Promise<Map<string, string>> {
  const readme = await readFile(README, "utf8");
  const rows = new Map<string, string>();
  for (const line of readme.split("\n")) {
    const cells = line.split("|").map((cell) => cell.trim());
    const code = /^`(PWTS_ERR_[A-Z0-9_]+)`$/.exec(cells[1] ?? "")?.[1];
    if (!code) continue;
    assert.ok(!rows.has(code), `${code} is documented twice`);
    rows.set(code, cells[3] ?? "");
  }
  return rows;
}

async function sourceFiles(dir: string): Promise<string[]> {
  const files: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) files.push(...(await sourceFiles(path)));
    else if (entry.name.endsWith(".ts")) files.push(path);
  }
  return files;
}

describe("error codes", () => {
  test("every code in ERROR_CODES is documented in the README, with the same meaning", async () => {
    const documented = await documentedCodes();
    for (const [code, meaning] of Object.entries(ERROR_CODES)) {
      assert.ok(documented.has(code), `${code} is missing from the README's table of codes`);
      assert.equal(documented.get(code), meaning, `${code}: the README's meaning differs from ERROR_CODES`);
    }
  });

  test("every code the README documents exists in ERROR_CODES", async () => {
    for (const code of (await documentedCodes()).keys()) {
      assert.ok(Object.hasOwn(ERROR_CODES, code), `${code} is documented but not in ERROR_CODES`);
    }
  });

  test("every PWTS_ERR_ code the packages' sources name exists in ERROR_CODES", async () => {
    for (const name of await readdir(PACKAGES)) {
      const src = join(PACKAGES, name, "src");
      const files = await sourceFiles(src).catch(() => []);
      for (const file of files) {
        for (const [code] of (await readFile(file, "utf8")).matchAll(/PWTS_ERR_[A-Z0-9_]+/g)) {
          assert.ok(Object.hasOwn(ERROR_CODES, code), `${file} names ${code}, which ERROR_CODES lacks`);
        }
      }
    }
  });
});

describe("PwtsError", () => {
  class ExampleError extends PwtsError {}

  test("carries its code, its message and its cause; name is the class's name", () => {
    const cause = new Error("EADDRINUSE");
    const err = new ExampleError("PWTS_ERR_LISTEN", "address in use", { cause });
    assert.equal(err.code, "PWTS_ERR_LISTEN");
    assert.equal(err.message, "address in use");
    assert.equal(err.cause, cause);
    assert.equal(err.name, "ExampleError");
    assert.equal(new PwtsError("PWTS_ERR_USAGE", "x").name, "PwtsError");
    assert.ok(err instanceof PwtsError && err instanceof Error);
  });

  test("hasErrorCode is true for catalogued codes only, whatever the class", () => {
    assert.equal(hasErrorCode(new PwtsError("PWTS_ERR_CONFIG", "x")), true);
    assert.equal(hasErrorCode(Object.assign(new Error("copy"), { code: "PWTS_ERR_CONFIG" })), true);
    assert.equal(hasErrorCode(Object.assign(new Error("fs"), { code: "ENOENT" })), false);
    assert.equal(hasErrorCode(Object.assign(new Error("made up"), { code: "PWTS_ERR_NOPE" })), false);
    assert.equal(hasErrorCode(new TypeError("bug")), false);
    assert.equal(hasErrorCode({ code: "PWTS_ERR_CONFIG" }), false);
  });

  test("the README example runs as written", async () => {
    const readme = await readFile(README, "utf8");
    const example = /```ts\n([\s\S]*?)```/.exec(readme)?.[1];
    assert.ok(example, "README has a ts example");
    const dir = await mkdtemp(join(tmpdir(), "pwts-errors-readme-"));
    try {
      const script = join(dir, "example.mts");
      const index = new URL("../src/index.ts", import.meta.url).pathname;
      await writeFile(script, example.replace('"@proxy-wasm-ts/errors"', JSON.stringify(index)));
      const stdout = await new Promise<string>((resolve, reject) => {
        execFile(process.execPath, ["--import", "tsx", script], { timeout: 60_000 }, (err, out, errOut) =>
          err ? reject(new Error(`${err.message}\n${errOut}`)) : resolve(out),
        );
      });
      const expected = /\/\/ (.*)\n$/.exec(example)?.[1];
      assert.equal(stdout, `${expected}\n`);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
