/** How pwts tells the user's errors (one line, no stack) from bugs (thrown on with their stack): by `code`. */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { PwtsError } from "@proxy-wasm-ts/errors";
import { ConfigError } from "@proxy-wasm-ts/proxy";
import { RegistryError } from "@proxy-wasm-ts/ship";
import { main } from "../src/main.ts";
import { asUserError } from "../src/ship-commands.ts";
import { UserError, userErrorOf } from "../src/user-error.ts";

describe("userErrorOf", () => {
  test("a UserError is itself", () => {
    const err = new UserError("bad flag", 2);
    assert.equal(userErrorOf(err), err);
    assert.equal(err.code, "PWTS_ERR_USAGE");
  });

  test("an error with a PWTS_ERR_ code becomes a UserError with its message", () => {
    const user = userErrorOf(new RegistryError("registry.test rejected the credentials", "auth"));
    assert.ok(user instanceof UserError);
    assert.equal(user.message, "registry.test rejected the credentials");
    assert.equal(user.exitCode, 1);
    assert.equal(
      userErrorOf(new ConfigError("admin", "expected an object"))?.message,
      "admin: expected an object",
    );
  });

  test("the code decides, not the class: an error from another copy of a package is recognised", () => {
    const copy = Object.assign(new Error('image reference "x": expected REGISTRY/REPOSITORY'), {
      code: "PWTS_ERR_IMAGE_REFERENCE",
    });
    assert.equal(userErrorOf(copy)?.message, copy.message);
    const renamed = new Error("same name, no code");
    renamed.name = "RegistryError";
    assert.equal(userErrorOf(renamed), undefined);
  });

  test("errors without a catalogued code are bugs", () => {
    assert.equal(userErrorOf(new Error("internal")), undefined);
    assert.equal(userErrorOf(new TypeError("x is undefined")), undefined);
    assert.equal(userErrorOf(Object.assign(new Error("made up"), { code: "PWTS_ERR_NOPE" })), undefined);
    assert.equal(userErrorOf("a string"), undefined);
  });
});

describe("asUserError (push, pull, istio)", () => {
  test("registry failures and rejected input are user errors", () => {
    assert.ok(asUserError(new RegistryError("cannot reach registry", "network")) instanceof UserError);
    assert.ok(
      asUserError(new PwtsError("PWTS_ERR_NOT_WASM_IMAGE", "manifest is not JSON")) instanceof UserError,
    );
  });

  test("a file the user named that cannot be read or written is a user error", () => {
    const enoent = Object.assign(new Error("ENOENT: no such file or directory, open 'out/x.wasm'"), {
      code: "ENOENT",
      syscall: "open",
    });
    const user = asUserError(enoent);
    assert.ok(user instanceof UserError);
    assert.equal(user.message, enoent.message);
  });

  test("any other error is returned as it is, stack and all", () => {
    const bug = new Error("descriptor set lacks the Envoy bootstrap");
    assert.equal(asUserError(bug), bug);
    const typeError = new TypeError("cannot read properties of undefined");
    assert.equal(asUserError(typeError), typeError);
  });
});

describe("main", () => {
  test("prints a user error as one line and returns its exit code", async () => {
    const written: string[] = [];
    const write = process.stderr.write;
    process.stderr.write = ((chunk: string) => {
      written.push(String(chunk));
      return true;
    }) as typeof process.stderr.write;
    let status: number;
    try {
      status = await main(["validate", "/nonexistent/pwts-errors-test"]);
    } finally {
      process.stderr.write = write;
    }
    assert.equal(status, 1);
    assert.deepEqual(written, ["pwts: /nonexistent/pwts-errors-test: no such file or directory\n"]);
  });
});
