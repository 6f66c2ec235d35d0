// The plugin examples (```typescript blocks) of the top-level README and of this package's README, each
// built with pwts build and run in the host harness.
import assert from "node:assert/strict";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, test } from "node:test";
import { fileURLToPath } from "node:url";
import { buildPlugin } from "@proxy-wasm-ts/cli/build";
import { Action } from "@proxy-wasm-ts/host";
import { startPlugin } from "@proxy-wasm-ts/host/testing";

const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const HERE = fileURLToPath(new URL(".", import.meta.url));
const made: string[] = [];

after(async () => {
  for (const dir of made) await rm(dir, { recursive: true, force: true });
});

async function examples(readme: string): Promise<string[]> {
  const text = await readFile(join(ROOT, readme), "utf8");
  return [...text.matchAll(/^```typescript\n([\s\S]*?)^```$/gm)].map((m) => m[1]!);
}

/** Builds `source` as a plugin's src/index.ts (inside the checkout, so imports resolve the workspace). */
async function build(source: string): Promise<Uint8Array> {
  const dir = await mkdtemp(join(HERE, ".readme-"));
  made.push(dir);
  await mkdir(join(dir, "src"));
  await writeFile(join(dir, "src", "index.ts"), source);
  const result = await buildPlugin(dir);
  return new Uint8Array(await readFile(result.outFile));
}

const headers = (extra: Array<[string, string]>): Array<[string, string]> => [
  [":method", "GET"],
  [":path", "/"],
  [":authority", "example.com"],
  ...extra,
];

test("the top-level README's plugin awaits its callout", { timeout: 300_000 }, async () => {
  const [source] = await examples("README.md");
  assert.ok(source, "README.md has no ```typescript example");
  const t = await startPlugin(await build(source), { clusters: ["accounts"] });
  const anonymous = t.http();
  anonymous.requestHeaders(headers([]), true);
  assert.equal(anonymous.localReply?.statusCode, 401);
  const http = t.http();
  assert.equal(http.requestHeaders(headers([["x-user", "alice"]]), true), Action.Pause);
  assert.equal(t.httpCalls[0]!.header(":path"), "/users/alice");
  t.httpCalls[0]!.respond({ headers: [[":status", "200"]], body: '{"tier":"gold"}' });
  assert.equal(http.requestHeader("x-user-tier"), "gold");
  assert.equal(http.events.requestResumed, 1);
});

test("packages/js/README.md's plugin: tenant lookup, denial, timeout", { timeout: 300_000 }, async () => {
  const [source] = await examples("packages/js/README.md");
  assert.ok(source, "packages/js/README.md has no ```typescript example");
  const t = await startPlugin(await build(source), { clusters: ["tenants"], configuration: "" });
  const ok = t.http();
  ok.requestHeaders(headers([["x-tenant", "acme"]]), true);
  assert.equal(t.httpCalls[0]!.header(":path"), "/tenants/acme");
  t.httpCalls[0]!.respond({ headers: [[":status", "200"]], body: '{"plan":"pro"}' });
  assert.equal(ok.requestHeader("x-tenant-plan"), "pro");
  ok.responseHeaders([[":status", "200"]], true);
  assert.equal(ok.responseHeader("x-served-by"), "my-plugin");

  const denied = t.http();
  denied.requestHeaders(headers([["x-tenant", "evil"]]), true);
  t.httpCalls[1]!.respond({ headers: [[":status", "404"]] });
  assert.equal(denied.localReply?.statusCode, 403);
  assert.equal(t.counter("tenant_denied_total"), 1n);

  const slow = t.http();
  slow.requestHeaders(headers([["x-tenant", "slow"]]), true);
  t.advance(500);
  assert.equal(slow.localReply?.statusCode, 503);
  assert.equal(slow.localReplyBodyText, "tenant service: timeout\n");
});
