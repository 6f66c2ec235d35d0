/**
 * Envoy's v3 API as a protobuf descriptor set, compiled from the `.proto` files that `@grpc/grpc-js-xds`
 * publishes (envoy-api, cncf/xds + udpa, protoc-gen-validate, a googleapis subset) with `buf` from npm.
 * Nothing here is hand-written schema: every message, field, enum and `validate.rules` option comes from
 * Envoy's own protos. The set is built once into `packages/ship/build/` and reused.
 */
import { execFile } from "node:child_process";
import { cp, mkdir, mkdtemp, readdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { createFileRegistry, type FileRegistry, fromBinary } from "@bufbuild/protobuf";
import { FileDescriptorSetSchema } from "@bufbuild/protobuf/wkt";

const run = promisify(execFile);
const require = createRequire(import.meta.url);
const packageRoot = fileURLToPath(new URL("../..", import.meta.url));
/** Where the compiled descriptor set lives (git-ignored; rebuilt when the proto package changes). */
export const descriptorPath = join(packageRoot, "build", "envoy-api.binpb");
const stampPath = `${descriptorPath}.json`;
const recipe = 1;

function protoPackageDir(): { dir: string; version: string } {
  const manifest = require.resolve("@grpc/grpc-js-xds/package.json");
  const { version } = JSON.parse(require("node:fs").readFileSync(manifest, "utf8")) as { version: string };
  return { dir: dirname(manifest), version };
}

/** What the last build recorded: the proto package version and the files left out (missing imports). */
export interface DescriptorStamp {
  grpcJsXdsVersion: string;
  /** Bumped when the way the set is built changes, so an older build is not reused. */
  recipe: number;
  files: number;
  excluded: string[];
}

/**
 * Compiles the descriptor set. All `v3` Envoy protos plus the TypedStruct types are roots; a few files
 * import protos the package does not ship (opencensus, opentelemetry, prometheus): they, and whatever
 * imports them, are left out and listed in the stamp.
 */
export async function buildEnvoyDescriptor(): Promise<DescriptorStamp> {
  const { dir, version } = protoPackageDir();
  const work = await mkdtemp(join(tmpdir(), "pwts-envoy-protos-"));
  try {
    const modules = ["envoy-api", "xds", "protoc-gen-validate", "googleapis"];
    for (const m of modules) await cp(join(dir, "deps", m), join(work, m), { recursive: true });
    // The bundled validate.proto predates `ignore_empty`, which a few envoy-api files use (deploy.md §1a);
    // dropping that option keeps every other rule intact.
    for (const file of await protoFiles(work)) {
      const text = await readFile(file, "utf8");
      if (text.includes("ignore_empty")) {
        await writeFile(file, text.replace(/,?[ \t\r\n]*ignore_empty:[ \t\r\n]*true/g, ""));
      }
    }
    await writeFile(
      join(work, "buf.yaml"),
      `version: v2\nmodules:\n${modules.map((m) => `  - path: ${m}\n`).join("")}`,
    );
    const roots = new Set(
      (await protoFiles(join(work, "envoy-api", "envoy")))
        .map((f) => relative(work, f))
        .filter((f) => f.includes("/v3/")),
    );
    roots.add("xds/xds/type/v3/typed_struct.proto");
    roots.add("xds/udpa/type/v1/typed_struct.proto");
    const excluded: string[] = [];
    await mkdir(dirname(descriptorPath), { recursive: true });
    const buf = require.resolve("@bufbuild/buf/bin/buf");
    for (let round = 0; round < 10; round++) {
      const args = ["build", "--exclude-source-info", "-o", join(work, "envoy-api.binpb")];
      for (const r of roots) args.push("--path", r);
      const failed = await run(buf, args, { cwd: work, maxBuffer: 64 * 1024 * 1024 }).then(
        () => undefined,
        (err: { stderr?: string; message: string }) => err.stderr || err.message,
      );
      if (failed === undefined) {
        const stamp: DescriptorStamp = {
          grpcJsXdsVersion: version,
          recipe,
          files: roots.size,
          excluded: excluded.sort(),
        };
        // Renames are atomic: test files building at the same time never read a half-written set.
        const tmp = `${descriptorPath}.${process.pid}.tmp`;
        await cp(join(work, "envoy-api.binpb"), tmp);
        await rename(tmp, descriptorPath);
        await writeFile(`${stampPath}.${process.pid}.tmp`, `${JSON.stringify(stamp, null, 2)}\n`);
        await rename(`${stampPath}.${process.pid}.tmp`, stampPath);
        return stamp;
      }
      const broken = new Set(
        [...failed.matchAll(/^([\w./-]+\.proto):\d+:\d+:/gm)].map((m) => m[1] as string),
      );
      if (broken.size === 0) throw new Error(`buf build failed:\n${failed}`);
      // A file that fails is removed from disk too, so files importing it fail (and go) in the next round.
      for (const file of broken) {
        roots.delete(file);
        excluded.push(file);
        await rm(join(work, file), { force: true });
      }
    }
    throw new Error("buf build did not converge after removing files with missing imports");
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

async function protoFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile() && e.name.endsWith(".proto"))
    .map((e) => join(e.parentPath, e.name));
}

let cached: Promise<FileRegistry> | undefined;

/** The Envoy API registry: built on first use (about a second), then read from `build/`. */
export function envoyRegistry(): Promise<FileRegistry> {
  cached ??= (async () => {
    const { version } = protoPackageDir();
    const stamp = await readFile(stampPath, "utf8").then(
      (t) => JSON.parse(t) as DescriptorStamp,
      () => undefined,
    );
    const present = await stat(descriptorPath).then(
      () => true,
      () => false,
    );
    if (!present || stamp?.grpcJsXdsVersion !== version || stamp.recipe !== recipe)
      await buildEnvoyDescriptor();
    const set = fromBinary(FileDescriptorSetSchema, await readFile(descriptorPath));
    return createFileRegistry(set);
  })();
  return cached;
}
