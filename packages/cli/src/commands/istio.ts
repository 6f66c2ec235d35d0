/**
 * `pwts istio [PLUGIN] --image IMAGE`: the Istio resources that deploy a plugin — a WasmPlugin pinned by
 * manifest digest, plus a ServiceEntry and EnvoyFilter for each callout cluster — read from the plugin's
 * envoy.yaml, validated against Istio's CRD schemas, printed as YAML (or written with --output).
 */
import { readFile, writeFile } from "node:fs/promises";
import type { IstioManifestOptions } from "@proxy-wasm-ts/ship";
import { type Command, Option } from "commander";
import {
  addRegistryOptions,
  asUserError,
  type CommandIo,
  processIo,
  type RegistryCliOptions,
  registryAccess,
} from "../ship-commands.ts";
import { UserError } from "../user-error.ts";

function keyValue(value: string, previous: Record<string, string> = {}): Record<string, string> {
  const eq = value.indexOf("=");
  if (eq <= 0) throw new UserError(`--selector: expected LABEL=VALUE, got "${value}"`);
  return { ...previous, [value.slice(0, eq)]: value.slice(eq + 1) };
}

function targetRef(value: string, previous: Array<{ kind: string; name: string }> = []) {
  const [kind, name, extra] = value.split("/");
  if (!kind || !name || extra !== undefined) {
    throw new UserError(`--target-ref: expected KIND/NAME (e.g. Gateway/ingress), got "${value}"`);
  }
  return [...previous, { kind, name }];
}

function integer(flag: string, min: number, max: number) {
  return (value: string, previous: number[] = []) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min || n > max) {
      throw new UserError(`${flag}: expected an integer from ${min} to ${max}, got "${value}"`);
    }
    return [...previous, n];
  };
}

/** Options of `pwts istio`. */
export interface IstioCliOptions extends RegistryCliOptions {
  image: string;
  name?: string;
  namespace?: string;
  phase?: IstioManifestOptions["phase"];
  priority?: number[];
  failStrategy?: IstioManifestOptions["failStrategy"];
  imagePullPolicy?: IstioManifestOptions["imagePullPolicy"];
  imagePullSecret?: string;
  selector?: Record<string, string>;
  targetRef?: Array<{ kind: string; name: string }>;
  matchMode?: "CLIENT" | "SERVER" | "CLIENT_AND_SERVER";
  port?: number[];
  rootId?: string;
  type?: "HTTP" | "NETWORK";
  callout?: string[];
  config?: string;
  output?: string;
}

export function register(command: Command): void {
  addRegistryOptions(
    command
      .argument("[plugin]", "plugin folder (settings come from its envoy.yaml when there is one)", ".")
      .requiredOption(
        "--image <image>",
        "pushed image, REGISTRY/REPO:TAG or …@sha256:DIGEST (a tag is resolved)",
      )
      .option("--name <name>", "metadata.name (default: the plugin name)")
      .option("-n, --namespace <namespace>", "metadata.namespace")
      .addOption(
        new Option("--phase <phase>", "filter chain phase").choices([
          "UNSPECIFIED_PHASE",
          "AUTHN",
          "AUTHZ",
          "STATS",
        ]),
      )
      .option(
        "--priority <n>",
        "order within the phase (higher first)",
        integer("--priority", -(2 ** 31), 2 ** 31 - 1),
      )
      .addOption(
        new Option(
          "--fail-strategy <strategy>",
          "what a plugin failure does (default: from envoy.yaml, else FAIL_CLOSE)",
        ).choices(["FAIL_CLOSE", "FAIL_OPEN", "FAIL_RELOAD"]),
      )
      .addOption(new Option("--image-pull-policy <policy>").choices(["IfNotPresent", "Always"]))
      .option("--image-pull-secret <secret>", "Secret with registry credentials, same namespace")
      .option("--selector <label=value>", "workload selector label (repeatable)", keyValue)
      .option("--target-ref <kind/name>", "Gateway API target, e.g. Gateway/ingress (repeatable)", targetRef)
      .addOption(
        new Option("--match-mode <mode>", "traffic direction").choices([
          "CLIENT",
          "SERVER",
          "CLIENT_AND_SERVER",
        ]),
      )
      .option("--port <port>", "match destination port (repeatable)", integer("--port", 1, 65535))
      .option("--root-id <id>", "root id (pluginName); picks the Wasm filter when envoy.yaml has several")
      .addOption(
        new Option("--type <type>", "filter type (default: from envoy.yaml, else HTTP)").choices([
          "HTTP",
          "NETWORK",
        ]),
      )
      .option("--callout <cluster...>", "clusters the plugin calls besides those named in its configuration")
      .option("--config <file>", "JSON file for pluginConfig instead of the filter's configuration")
      .option("-o, --output <file>", "write the YAML here instead of stdout"),
  ).action((plugin: string, options: IstioCliOptions) => istioCommand(plugin, options));
}

/** `pwts istio`: the YAML on `io.out` (or into --output); validation problems on `io.err`. */
export async function istioCommand(
  plugin: string,
  options: IstioCliOptions,
  io: CommandIo = processIo,
): Promise<void> {
  let pluginConfig: Record<string, unknown> | undefined;
  if (options.config) {
    const text = await readFile(options.config, "utf8").catch(() => {
      throw new UserError(`--config ${options.config}: cannot read the file`);
    });
    try {
      pluginConfig = JSON.parse(text) as Record<string, unknown>;
    } catch (err) {
      throw new UserError(`--config ${options.config}: not JSON (${(err as Error).message})`);
    }
    if (!pluginConfig || typeof pluginConfig !== "object" || Array.isArray(pluginConfig)) {
      throw new UserError(`--config ${options.config}: expected a JSON object`);
    }
  }
  const access = await registryAccess(options.image, options, io);
  const match =
    options.matchMode || options.port
      ? [
          {
            ...(options.matchMode ? { mode: options.matchMode } : {}),
            ...(options.port ? { ports: options.port } : {}),
          },
        ]
      : undefined;
  const { istioManifests } = await import("@proxy-wasm-ts/ship");
  let result: Awaited<ReturnType<typeof istioManifests>>;
  try {
    result = await istioManifests(plugin, {
      ...access,
      image: options.image,
      ...(options.name ? { name: options.name } : {}),
      ...(options.namespace ? { namespace: options.namespace } : {}),
      ...(options.phase ? { phase: options.phase } : {}),
      ...(options.priority ? { priority: options.priority.at(-1) } : {}),
      ...(options.failStrategy ? { failStrategy: options.failStrategy } : {}),
      ...(options.imagePullPolicy ? { imagePullPolicy: options.imagePullPolicy } : {}),
      ...(options.imagePullSecret ? { imagePullSecret: options.imagePullSecret } : {}),
      ...(options.selector ? { selector: options.selector } : {}),
      ...(options.targetRef ? { targetRefs: options.targetRef } : {}),
      ...(match ? { match } : {}),
      ...(options.rootId ? { rootId: options.rootId } : {}),
      ...(options.type ? { type: options.type } : {}),
      ...(options.callout ? { calloutClusters: options.callout } : {}),
      ...(pluginConfig ? { pluginConfig } : {}),
    });
  } catch (err) {
    throw asUserError(err);
  }
  for (const warning of result.warnings) io.err(`warning: ${warning}\n`);
  if (result.problems.length) {
    for (const p of result.problems) io.err(`${p.resource}: ${p.path}: ${p.message}\n`);
    throw new UserError(
      `the generated resources do not pass Istio's CRD validation (${result.problems.length} problems)`,
    );
  }
  if (options.output) {
    await writeFile(options.output, result.yaml);
    io.err(`wrote ${result.resources.length} resource(s) to ${options.output}\n`);
  } else io.out(result.yaml);
}
