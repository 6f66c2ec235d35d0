/**
 * `pwts push PLUGIN IMAGE`: packs a plugin's module as an OCI image Istio accepts and pushes it. PLUGIN is
 * a plugin folder (its built module, see `pwts build`) or a `.wasm` file. Progress goes to stderr; stdout
 * gets the manifest digest alone, the value `WasmPlugin.spec.sha256` needs.
 */
import type { UploadProgress } from "@proxy-wasm-ts/ship";
import { type Command, Option } from "commander";
import { PLUGIN_OUTPUT } from "../plugin-build/build-plugin.ts";
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

function progressLine(p: UploadProgress): string | undefined {
  const short = p.digest.slice(0, 19);
  if (p.state === "exists") return `  ${short}  ${p.size} B  already in the registry`;
  if (p.state === "done") return `  ${short}  ${p.size} B  uploaded (${p.method})`;
  if (p.method === "chunked" && p.sent > 0) {
    return `  ${short}  ${p.sent}/${p.size} B  ${Math.floor((100 * p.sent) / p.size)}%`;
  }
  return undefined;
}

export function register(command: Command): void {
  addRegistryOptions(
    command
      .argument("<plugin>", `plugin folder (pushes its ${PLUGIN_OUTPUT}) or .wasm file`)
      .argument("<image>", "REGISTRY/REPOSITORY[:TAG], e.g. ghcr.io/org/plugins/api-observer:0.1.0")
      .addOption(
        new Option(
          "--layout <layout>",
          "image layout: compat (one tar+gzip layer with plugin.wasm) or wasm-layers",
        )
          .choices(["compat", "wasm-layers"])
          .default("compat"),
      )
      .option("--root-id <id...>", "root ids to record in the wasm-layers runtime config")
      .option("--chunk-size <bytes>", "upload in PATCH chunks of this size instead of one request", (v) => {
        const n = Number(v);
        if (!Number.isInteger(n) || n <= 0)
          throw new UserError(`--chunk-size: expected a positive integer, got "${v}"`);
        return n;
      })
      .option("-q, --quiet", "no progress output"),
  ).action((plugin: string, image: string, options: PushOptions) => pushCommand(plugin, image, options));
}

/** Options of `pwts push`. */
export interface PushOptions extends RegistryCliOptions {
  layout: "compat" | "wasm-layers";
  rootId?: string[];
  chunkSize?: number;
  quiet?: boolean;
}

/** `pwts push`: progress on `io.err`, the manifest digest alone on `io.out`. */
export async function pushCommand(
  plugin: string,
  image: string,
  options: PushOptions,
  io: CommandIo = processIo,
): Promise<void> {
  const module = await readPluginModule(plugin);
  const access = await registryAccess(image, options, io);
  const say = (line: string) => {
    if (!options.quiet) io.err(`${line}\n`);
  };
  say(`pushing ${module.path} (${module.bytes.byteLength} B) to ${image} as ${options.layout}`);
  const { pushWasm, readPluginDeployment } = await import("@proxy-wasm-ts/ship");
  let rootIds = options.rootId;
  if (!rootIds && options.layout === "wasm-layers" && module.folder) {
    // The runtime config records root ids; a plugin folder's envoy.yaml names it.
    rootIds = await readPluginDeployment(module.folder).then(
      (plugin) => (plugin.rootId ? [plugin.rootId] : undefined),
      () => undefined,
    );
  }
  try {
    const result = await pushWasm(module.bytes, image, {
      ...access,
      layout: options.layout,
      ...(rootIds ? { rootIds } : {}),
      ...(options.chunkSize ? { chunkSize: options.chunkSize } : {}),
      onProgress: (p) => {
        const line = progressLine(p);
        if (line) say(line);
      },
    });
    say(`pushed; pin it in a WasmPlugin as url: ${result.pinnedUrl}`);
    io.out(`${result.digest}\n`);
  } catch (err) {
    throw asUserError(err);
  }
}
