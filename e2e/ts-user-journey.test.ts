/**
 * The TypeScript user journey, against a real npm registry: every package of this commit is published to
 * Verdaccio on loopback; then, in an empty directory outside the repository, a user installs the CLI,
 * scaffolds a plain-TypeScript plugin (`pwts init --lang ts`), installs its dependencies, builds it (esbuild,
 * QuickJS, the @proxy-wasm-ts/js glue, all as installed from the registry), runs its scaffolded test, checks
 * with `pwts inspect` that it imports only what Envoy provides, type-checks it, adds a handler of their own
 * and sends requests through `pwts run`.
 */
import assert from "node:assert/strict";
import { access, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { type NpmRegistry, startNpmRegistry } from "./support/npm-registry.ts";
import {
  installCli,
  prepareEnvoyYaml,
  publishPackages,
  repoVersion,
  requestsThroughPwtsRun,
  sh,
  userEnv,
} from "./support/user-journey.ts";

/** `pwts inspect --json`'s view of one import. */
interface InspectedImport {
  module: string;
  name: string;
  verdict: { kind: string };
}

let npmRegistry: NpmRegistry;
let work: string;

before(async () => {
  work = await mkdtemp(join(tmpdir(), "pwts-ts-journey-"));
  npmRegistry = await startNpmRegistry();
});
after(async () => {
  await npmRegistry?.stop();
  await rm(work, { recursive: true, force: true });
});

test("a user installs pwts from a registry, then inits, builds, tests, inspects and runs a TypeScript plugin", {
  timeout: 1_500_000,
}, async (t) => {
  // A temporary directory of the user's own: pwts build caches the linked engine (QuickJS + glue) in it, and
  // one left by this checkout's tests would spare the installed CLI from compiling and linking the glue.
  const userTmp = join(work, "tmp");
  await mkdir(userTmp);
  const env = { ...userEnv(npmRegistry, work), TMPDIR: userTmp };

  await t.test("every package of this commit packs and publishes", () => publishPackages(work, env));

  const user = join(work, "user");
  const plugin = join(user, "ts-plugin");

  await t.test("npm install -D @proxy-wasm-ts/cli in an empty project", () => installCli(user, env));

  await t.test("npx pwts init ts-plugin --lang ts, then npm install in it", async () => {
    await sh("npx", ["pwts", "init", "ts-plugin", "--lang", "ts"], user, env);
    const manifest = JSON.parse(await readFile(join(plugin, "package.json"), "utf8"));
    assert.equal(
      manifest.dependencies["@proxy-wasm-ts/js"],
      `^${repoVersion()}`,
      "the installed version, not a path",
    );
    await access(join(plugin, "src", "index.ts"));
    await sh("npm", ["install"], plugin, env);
  });

  await t.test(
    "npx pwts build links the engine from the installed packages and writes build/plugin.wasm",
    async () => {
      const { stdout } = await sh("npx", ["pwts", "build"], plugin, env);
      assert.match(stdout, /^build\/plugin\.wasm: \d+ bytes/m);
      const cached = await readdir(join(userTmp, "pwts-js-engine"));
      assert.equal(
        cached.filter((file) => file.endsWith(".wasm")).length,
        1,
        "one engine, linked by this build",
      );
    },
  );

  await t.test("npm test: the scaffolded harness test passes", async () => {
    const { stdout } = await sh("npm", ["test"], plugin, env);
    assert.match(stdout, /^(#|ℹ) pass 3$/m);
    assert.match(stdout, /^(#|ℹ) fail 0$/m);
  });

  await t.test("npx pwts inspect: the module imports only what Envoy provides", async () => {
    const { stdout } = await sh("npx", ["pwts", "inspect", "build/plugin.wasm", "--json"], plugin, env);
    const report = JSON.parse(stdout) as { problems: string[]; imports: InspectedImport[] };
    assert.deepEqual(report.problems, []);
    assert.ok(report.imports.some((i) => i.module === "env" && i.name.startsWith("proxy_")));
    for (const { module, name, verdict } of report.imports) {
      assert.ok(
        (module === "env" && name.startsWith("proxy_")) || module === "wasi_snapshot_preview1",
        `${module}.${name} is not a Proxy-Wasm hostcall or a WASI call Envoy provides`,
      );
      assert.equal(verdict.kind, "ok", `${module}.${name}`);
    }
  });

  await t.test("as its README says, npm run typecheck type-checks the plugin", async () => {
    // pwts build only strips types (esbuild); the scaffold brings TypeScript and a typecheck script.
    const readme = await readFile(join(plugin, "README.md"), "utf8");
    assert.match(readme, /`npm run typecheck` does/);
    await sh("npm", ["run", "typecheck"], plugin, env);
  });

  await t.test(
    "the user's own handler, using URL from @proxy-wasm-ts/js, builds and type-checks",
    async () => {
      // A local reply built from the query string: URL is core-js's, which pwts build bundles from the
      // installed @proxy-wasm-ts/js only because this plugin uses it.
      const entry = join(plugin, "src", "index.ts");
      const source = await readFile(entry, "utf8");
      const imports = 'import { definePlugin, log } from "@proxy-wasm-ts/js";';
      const handler = "  onResponseHeaders(response, { config }) {";
      assert.ok(source.includes(imports) && source.includes(handler), `the scaffolded ${entry} changed`);
      await writeFile(
        entry,
        source.replace(imports, 'import { definePlugin, log, respond } from "@proxy-wasm-ts/js";').replace(
          handler,
          `  onRequestHeaders(request) {
    const name = new URL(request.path, "http://plugin.invalid").searchParams.get("name");
    if (name !== null) return respond(200, \`hello \${name}, from TypeScript\\n\`);
  },

${handler}`,
        ),
      );
      await sh("npm", ["run", "typecheck"], plugin, env);
      const { stdout } = await sh("npx", ["pwts", "build"], plugin, env);
      assert.match(stdout, /^build\/plugin\.wasm: \d+ bytes/m);
    },
  );

  await t.test(
    "npx pwts run envoy.yaml: a real client sees the configured header and the handler's local reply",
    async () => {
      // A configuration of this test's own, so the header proves the plugin read it at run time.
      const port = await prepareEnvoyYaml(plugin, (yaml) => {
        const scaffolded = `'{"header": "x-hello", "value": "world"}'`;
        assert.ok(yaml.includes(scaffolded), "the scaffolded envoy.yaml configures x-hello: world");
        return yaml.replace(scaffolded, `'{"header": "x-journey", "value": "typescript"}'`);
      });
      const [upstream, local] = await requestsThroughPwtsRun(plugin, env, [
        `http://127.0.0.1:${port}/`,
        `http://127.0.0.1:${port}/greet?name=Ada%20L`,
      ]);
      assert.ok(upstream && local);
      assert.equal(upstream.response.status, 200);
      assert.equal(upstream.response.headers.get("x-journey"), "typescript");
      assert.equal(upstream.response.headers.get("x-hello"), null);
      assert.equal(upstream.body, "hello from envoy\n");
      assert.equal(local.response.status, 200);
      assert.equal(local.body, "hello Ada L, from TypeScript\n");
    },
  );
});
