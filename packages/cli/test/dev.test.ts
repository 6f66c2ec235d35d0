import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";

const REPO = fileURLToPath(new URL("../../../", import.meta.url));
const CLI = join(REPO, "packages", "cli", "bin", "pwts.js");
// Inside the repository so the plugin's `@proxy-wasm-ts/sdk/...` imports resolve (as build.test.ts does).
const SCRATCH = join(REPO, "packages", "cli", "build", "test-plugins");

/** A header plugin whose response header and log line carry `version`. */
function pluginSource(version: string): string {
  return `export * from "@proxy-wasm-ts/sdk/assembly/exports";
import { Action, HttpContext, RootContext, logInfo, registerRootContext, responseHeaders } from "@proxy-wasm-ts/sdk/assembly";
class Stream extends HttpContext {
  onResponseHeaders(count: u32, endOfStream: bool): Action {
    responseHeaders.set("x-version", "${version}");
    logInfo("answered with version ${version}");
    return Action.Continue;
  }
}
class Root extends RootContext {
  createHttpContext(id: u32): HttpContext | null {
    return new Stream(id, this);
  }
}
registerRootContext((id: u32): RootContext => new Root(id));
`;
}

function envoyYaml(extraRoute = ""): string {
  return `static_resources:
  listeners:
    - name: web
      address: { socket_address: { address: 127.0.0.1, port_value: 0 } }
      filter_chains:
        - filters:
            - name: envoy.filters.network.http_connection_manager
              typed_config:
                "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
                stat_prefix: web
                access_log:
                  - name: envoy.access_loggers.stdout
                    typed_config:
                      "@type": type.googleapis.com/envoy.extensions.access_loggers.stream.v3.StdoutAccessLog
                route_config:
                  virtual_hosts:
                    - name: all
                      domains: ["*"]
                      routes:${extraRoute}
                        - match: { prefix: "/" }
                          direct_response: { status: 200, body: { inline_string: "ok" } }
                http_filters:
                  - name: envoy.filters.http.wasm
                    typed_config:
                      "@type": type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm
                      config:
                        name: versioned
                        root_id: versioned
                        vm_config:
                          runtime: envoy.wasm.runtime.v8
                          code: { local: { filename: build/plugin.wasm } }
                  - name: envoy.filters.http.router
                    typed_config:
                      "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router
  clusters: []
`;
}

const NEW_ROUTE = `
                        - match: { prefix: "/new" }
                          direct_response: { status: 201, body: { inline_string: "new route" } }`;

interface Dev {
  child: ChildProcess;
  stderr(): string;
  stdout(): string;
  waitFor(stream: "stdout" | "stderr", pattern: RegExp, from?: number, timeoutMs?: number): Promise<string>;
}

function startDev(dir: string, args: string[]): Dev {
  const child = spawn(process.execPath, [CLI, "dev", "envoy.yaml", "--callback-timeout", "0", ...args], {
    cwd: dir,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  child.stdout!.setEncoding("utf8").on("data", (d: string) => {
    out += d;
  });
  child.stderr!.setEncoding("utf8").on("data", (d: string) => {
    err += d;
  });
  const dev: Dev = {
    child,
    stderr: () => err,
    stdout: () => out,
    waitFor: (stream, pattern, from = 0, timeoutMs = 120_000) =>
      new Promise((resolve, reject) => {
        const started = Date.now();
        const poll = () => {
          const text = (stream === "stdout" ? out : err).slice(from);
          const hit = pattern.exec(text);
          if (hit) return resolve(hit[0]);
          if (child.exitCode !== null) return reject(new Error(`pwts dev exited ${child.exitCode}: ${err}`));
          if (Date.now() - started > timeoutMs)
            return reject(new Error(`no ${stream} text matching ${pattern}; stderr:\n${err}`));
          setTimeout(poll, 25);
        };
        poll();
      }),
  };
  return dev;
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once("exit", resolve));
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
  await exited;
  clearTimeout(timer);
}

/** Requests sent back to back by 4 workers (fetch keeps its connections alive) until stopped; every outcome kept. */
function continuousLoad(url: string) {
  const outcomes: Array<{ status: number; version: string } | { error: string }> = [];
  let running = true;
  const worker = async () => {
    while (running) {
      try {
        const res = await fetch(`${url}/`);
        await res.text();
        outcomes.push({ status: res.status, version: String(res.headers.get("x-version")) });
      } catch (err) {
        outcomes.push({ error: (err as Error).message });
      }
    }
  };
  const workers = Array.from({ length: 4 }, worker);
  return {
    outcomes,
    async stop() {
      running = false;
      await Promise.all(workers);
    },
  };
}

async function version(url: string, path = "/"): Promise<{ status: number; version: unknown; body: string }> {
  const res = await fetch(`${url}${path}`);
  return { status: res.status, version: res.headers.get("x-version") ?? undefined, body: await res.text() };
}

describe("pwts dev on an AssemblyScript plugin project", { timeout: 600_000 }, () => {
  let dir: string;
  let dev: Dev;
  let url: string;

  before(async () => {
    await mkdir(SCRATCH, { recursive: true });
    dir = await mkdtemp(join(SCRATCH, "dev-"));
    await mkdir(join(dir, "assembly"));
    await writeFile(join(dir, "package.json"), '{"name":"dev-scratch","private":true}\n');
    await writeFile(join(dir, "assembly", "index.ts"), pluginSource("1"));
    await writeFile(join(dir, "envoy.yaml"), envoyYaml());
    dev = startDev(dir, []);
    const line = await dev.waitFor("stderr", /listener web \(http\) on 127\.0\.0\.1:\d+/);
    url = `http://127.0.0.1:${line.split(":").pop()}`;
    await dev.waitFor("stderr", /pwts: ready/);
  });
  after(async () => {
    if (dev) await stop(dev.child);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  test("source edits swap in without failing a request; a broken edit keeps the old plugin; a config edit adds a route", async () => {
    assert.equal((await version(url)).version, "1", "the project was built at start");
    const load = continuousLoad(url);
    try {
      // 1. An edit: rebuilt and swapped while requests keep flowing.
      let from = dev.stderr().length;
      await writeFile(join(dir, "assembly", "index.ts"), pluginSource("2"));
      const reload = await dev.waitFor(
        "stderr",
        /reload: assembly\/index\.ts changed; built in \d+ ms; swapped versioned in \d+ ms; module [\d.]+ KiB/,
        from,
      );
      assert.ok(reload);
      assert.equal((await version(url)).version, "2", "the first request after the reload runs the new code");

      // 2. A broken edit: the compiler's error, printed once with file, line and column; version 2 serves on.
      from = dev.stderr().length;
      await writeFile(
        join(dir, "assembly", "index.ts"),
        `${pluginSource("3")}\nlet broken: i32 = undefinedThing;\n`,
      );
      await dev.waitFor("stderr", /build failed \(the previous version keeps serving\)/, from);
      await dev.waitFor("stderr", /undefinedThing/, from);
      const failure = dev.stderr().slice(from);
      assert.match(failure, /at assembly\/index\.ts:\d+:\d+/, "the error names file, line and column");
      assert.equal((await version(url)).version, "2");
      await new Promise((r) => setTimeout(r, 500));
      assert.equal(
        dev
          .stderr()
          .slice(from)
          .match(/build failed/g)?.length,
        1,
        "printed once",
      );

      // 3. Fixed again: the next good build goes in.
      from = dev.stderr().length;
      await writeFile(join(dir, "assembly", "index.ts"), pluginSource("3"));
      await dev.waitFor("stderr", /reload: assembly\/index\.ts changed; built/, from);
      assert.equal((await version(url)).version, "3");
    } finally {
      await load.stop();
    }
    const failed = load.outcomes.filter((o) => !("status" in o) || o.status !== 200);
    assert.deepEqual(failed, [], "no request failed across the swaps");
    const versions = new Set(load.outcomes.map((o) => ("version" in o ? o.version : "")));
    assert.ok(versions.has("1") && versions.has("2"), `the load saw the swap (versions ${[...versions]})`);
    // Plugin logs are grouped under their request's access log line.
    assert.match(
      dev.stdout(),
      /"GET \/ HTTP\/1\.1" 200[^\n]*\n {4}\[[^\n]*wasm log versioned versioned: answered with version 3/,
    );

    // 4. A config edit: a new route takes effect on the same port; the plugin keeps running.
    let from = dev.stderr().length;
    await writeFile(join(dir, "envoy.yaml"), envoyYaml(NEW_ROUTE));
    await dev.waitFor(
      "stderr",
      /reload: envoy\.yaml changed; listeners reloaded in \d+ ms: replaced web/,
      from,
    );
    assert.deepEqual(await version(url, "/new"), { status: 201, version: "3", body: "new route" });

    // 5. A bad config edit: printed with its place in the file; the running config keeps serving.
    from = dev.stderr().length;
    const bad = envoyYaml(NEW_ROUTE).replace("port_value: 0", "port_value: -5");
    await writeFile(join(dir, "envoy.yaml"), bad);
    const configError = await dev.waitFor("stderr", /config error[^\n]*\n[^\n]*/, from);
    const line = bad.split("\n").findIndex((l) => l.includes("port_value: -5")) + 1;
    assert.match(configError, new RegExp(`envoy\\.yaml:${line}:\\d+: `));
    assert.equal((await version(url, "/new")).body, "new route");
    assert.equal(await readFile(join(dir, "envoy.yaml"), "utf8"), bad);
  });
});
