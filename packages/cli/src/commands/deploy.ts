/**
 * `pwts deploy [PLUGIN] --target T`: the manifests that deploy a plugin on Istio (WasmPlugin or
 * TrafficExtension, plus ServiceEntry/EnvoyFilter for callouts) or Envoy Gateway (EnvoyExtensionPolicy, plus
 * an EnvoyPatchPolicy for callouts), pinned by image manifest digest, from the plugin folder's envoy.yaml and
 * deploy.yaml with flags overriding them; each resource is validated for the chosen Istio / Envoy Gateway
 * version, and printed as YAML (or written with --output; `--target all` writes one file per target).
 */
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { DeployOptions, DeployTarget } from "@proxy-wasm-ts/ship";
import { type Command, Option } from "commander";
import {
  addRegistryOptions,
  asUserError,
  type CommandIo,
  processIo,
  type RegistryCliOptions,
  readPluginModule,
  registryAccess,
} from "../ship-commands.ts";
import { UserError } from "../user-error.ts";

const targets = ["istio-wasmplugin", "istio-trafficextension", "envoy-gateway"] as const;

/** The plugin cannot run on the target (a one-line user error; `--target all` skips the target). */
class UnsupportedTarget extends UserError {}

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

function version(flag: string) {
  return (value: string) => {
    if (!/^v?\d+\.\d+(\.\d+)?$/.test(value))
      throw new UserError(`${flag}: expected a version such as 1.29, got "${value}"`);
    return value;
  };
}

/** Options of `pwts deploy` (and of `pwts istio`, which fixes the target). */
export interface DeployCliOptions extends RegistryCliOptions {
  target?: DeployTarget | "all";
  image?: string;
  digest?: string;
  localDigest?: boolean;
  name?: string;
  namespace?: string;
  phase?: DeployOptions["phase"];
  priority?: number[];
  failStrategy?: DeployOptions["failStrategy"];
  imagePullPolicy?: DeployOptions["imagePullPolicy"];
  imagePullSecret?: string;
  selector?: Record<string, string>;
  targetRef?: Array<{ kind: string; name: string }>;
  matchMode?: "CLIENT" | "SERVER" | "CLIENT_AND_SERVER";
  port?: number[];
  rootId?: string;
  type?: "HTTP" | "NETWORK";
  callout?: string[];
  config?: string;
  istioVersion?: string;
  envoyGatewayVersion?: string;
  output?: string;
}

/** Adds the options every deploy target shares (all but --target). */
export function addDeployOptions(command: Command): Command {
  return addRegistryOptions(
    command
      .argument("[plugin]", "plugin folder (settings from its envoy.yaml and deploy.yaml)", ".")
      .option(
        "--image <image>",
        "pushed image, REGISTRY/REPO:TAG or …@sha256:DIGEST (default: deploy.yaml's image)",
      )
      .option(
        "--digest <sha256:hex>",
        "pin to this manifest digest instead of asking the registry for the tag's",
      )
      .option("--local-digest", "pin to the digest pwts push gives the built module (compat layout), offline")
      .option("--name <name>", "metadata.name (default: the plugin name)")
      .option("-n, --namespace <namespace>", "metadata.namespace")
      .addOption(
        new Option("--phase <phase>", "filter chain phase (Istio)").choices([
          "UNSPECIFIED_PHASE",
          "AUTHN",
          "AUTHZ",
          "STATS",
        ]),
      )
      .option(
        "--priority <n>",
        "order within the phase, higher first (Istio)",
        integer("--priority", -(2 ** 31), 2 ** 31 - 1),
      )
      .addOption(
        new Option(
          "--fail-strategy <strategy>",
          "what a plugin failure does (default: deploy.yaml, then envoy.yaml, else FAIL_CLOSE)",
        ).choices(["FAIL_CLOSE", "FAIL_OPEN", "FAIL_RELOAD"]),
      )
      .addOption(new Option("--image-pull-policy <policy>").choices(["IfNotPresent", "Always"]))
      .option("--image-pull-secret <secret>", "Secret with registry credentials, same namespace")
      .option("--selector <label=value>", "workload selector label, Istio (repeatable)", keyValue)
      .option("--target-ref <kind/name>", "Gateway API target, e.g. Gateway/ingress (repeatable)", targetRef)
      .addOption(
        new Option("--match-mode <mode>", "traffic direction (Istio)").choices([
          "CLIENT",
          "SERVER",
          "CLIENT_AND_SERVER",
        ]),
      )
      .option("--port <port>", "match destination port, Istio (repeatable)", integer("--port", 1, 65535))
      .option("--root-id <id>", "root id (pluginName); picks the Wasm filter when envoy.yaml has several")
      .addOption(
        new Option("--type <type>", "filter type (default: from envoy.yaml, else HTTP)").choices([
          "HTTP",
          "NETWORK",
        ]),
      )
      .option("--callout <cluster...>", "clusters the plugin calls besides those named in its configuration")
      .option(
        "--config <file>",
        "JSON file for the plugin configuration instead of envoy.yaml's / deploy.yaml's",
      )
      .option(
        "--istio-version <version>",
        "Istio release to check against (default 1.30)",
        version("--istio-version"),
      )
      .option(
        "--envoy-gateway-version <version>",
        "Envoy Gateway release to check against (default 1.9)",
        version("--envoy-gateway-version"),
      )
      .option("-o, --output <path>", "write the YAML here instead of stdout (a folder with --target all)"),
  );
}

export function register(command: Command): void {
  addDeployOptions(
    command.addOption(
      new Option("-t, --target <target>", "where the plugin runs")
        .choices([...targets, "all"])
        .makeOptionMandatory(),
    ),
  ).action((plugin: string, options: DeployCliOptions) => deployCommand(plugin, options, processIo));
}

/** `pwts deploy`: YAML on `io.out` (or into --output); warnings and validation problems on `io.err`. */
export async function deployCommand(
  plugin: string,
  options: DeployCliOptions,
  io: CommandIo = processIo,
): Promise<void> {
  const chosen = options.target ?? "istio-wasmplugin";
  if (chosen !== "all") {
    const { yaml, count } = await generate(plugin, chosen, options, io);
    if (options.output) {
      await writeFile(options.output, yaml);
      io.err(`wrote ${count} resource(s) to ${options.output}\n`);
    } else io.out(yaml);
    return;
  }
  if (!options.output)
    throw new UserError("--target all writes one file per target: give the folder with --output");
  await mkdir(options.output, { recursive: true });
  for (const target of targets) {
    const generated = await generate(plugin, target, options, io).catch((err: unknown) => {
      // A target the plugin cannot run on (a network filter on Envoy Gateway) is skipped, saying why.
      if (!(err instanceof UnsupportedTarget)) throw err;
      io.err(`skipped ${target}: ${err.message}\n`);
      return undefined;
    });
    if (generated === undefined) continue;
    const file = join(options.output, `${target}.yaml`);
    await writeFile(file, generated.yaml);
    io.err(`wrote ${generated.count} resource(s) to ${file}\n`);
  }
}

async function generate(
  plugin: string,
  target: DeployTarget,
  options: DeployCliOptions,
  io: CommandIo,
): Promise<{ yaml: string; count: number }> {
  const ship = await import("@proxy-wasm-ts/ship");
  const pluginConfig = options.config ? await readConfigFile(options.config) : undefined;
  let image: string | undefined;
  let digest = options.digest;
  let access = {};
  try {
    image = options.image ?? ship.readDeploymentDescription(plugin).image;
  } catch (err) {
    throw asUserError(err);
  }
  if (options.localDigest) {
    const module = await readPluginModule(plugin);
    digest = (await ship.buildWasmImage(module.bytes, "compat")).digest;
  } else if (image && !digest) access = await registryAccess(image, options, io);
  const match =
    options.matchMode || options.port
      ? [
          {
            ...(options.matchMode ? { mode: options.matchMode } : {}),
            ...(options.port ? { ports: options.port } : {}),
          },
        ]
      : undefined;
  let result: Awaited<ReturnType<typeof ship.deployManifests>>;
  try {
    result = await ship.deployManifests(plugin, {
      ...access,
      target,
      ...(image ? { image } : {}),
      ...(digest ? { digest } : {}),
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
      versions: {
        ...(options.istioVersion ? { istio: options.istioVersion } : {}),
        ...(options.envoyGatewayVersion ? { envoyGateway: options.envoyGatewayVersion } : {}),
      },
    });
  } catch (err) {
    if (err instanceof ship.UnsupportedTargetError) throw new UnsupportedTarget(err.message);
    throw asUserError(err);
  }
  for (const warning of result.warnings) io.err(`warning: ${target}: ${warning}\n`);
  if (result.problems.length) {
    for (const p of result.problems) io.err(`${p.resource}: ${p.path}: ${p.message}\n`);
    throw new UserError(
      `the generated ${target} resources do not pass their schema validation (${result.problems.length} problems)`,
    );
  }
  return { yaml: result.yaml, count: result.resources.length };
}

async function readConfigFile(file: string): Promise<Record<string, unknown>> {
  const text = await readFile(file, "utf8").catch(() => {
    throw new UserError(`--config ${file}: cannot read the file`);
  });
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new UserError(`--config ${file}: not JSON (${(err as Error).message})`);
  }
  if (!value || typeof value !== "object" || Array.isArray(value)) {
    throw new UserError(`--config ${file}: expected a JSON object`);
  }
  return value as Record<string, unknown>;
}
