/**
 * A plugin folder's deployment description, `deploy.yaml`: the one place that says how the plugin is
 * deployed on every target (image, namespace, failure strategy, phase/priority, targeting per platform,
 * configuration overrides). What envoy.yaml already says (root id, configuration, callout clusters, env) is
 * read from there; `pwts deploy` flags override both.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { PwtsError } from "@proxy-wasm-ts/errors";
import { Ajv } from "ajv";
import { parseDocument } from "yaml";

/** A Gateway API style reference (`kind`, `name`, optional `group`). */
export interface TargetRef {
  kind: string;
  name: string;
  group?: string;
}

/** Traffic match of the Istio kinds. */
export interface TrafficMatch {
  mode?: "CLIENT" | "SERVER" | "CLIENT_AND_SERVER";
  ports?: number[];
}

/** The contents of `deploy.yaml`. Every field is optional; flags fill or override them. */
export interface DeploymentDescription {
  /** The pushed image, `REGISTRY/REPO:TAG` or `…@sha256:DIGEST`. */
  image?: string;
  /** metadata.name (default: the plugin folder's name). */
  name?: string;
  namespace?: string;
  failStrategy?: "FAIL_CLOSE" | "FAIL_OPEN" | "FAIL_RELOAD";
  phase?: "UNSPECIFIED_PHASE" | "AUTHN" | "AUTHZ" | "STATS";
  priority?: number;
  imagePullPolicy?: "IfNotPresent" | "Always";
  /** Name of a Secret with registry credentials, in the plugin's namespace. */
  imagePullSecret?: string;
  /** Replaces the configuration read from envoy.yaml on every target. */
  pluginConfig?: Record<string, unknown>;
  /** Clusters the plugin calls besides those named in its configuration. */
  callouts?: string[];
  /** Istio (WasmPlugin, TrafficExtension): a workload selector or targetRefs, and a traffic match. */
  istio?: {
    selector?: Record<string, string>;
    targetRefs?: TargetRef[];
    match?: TrafficMatch[];
    pluginConfig?: Record<string, unknown>;
  };
  /** Envoy Gateway (EnvoyExtensionPolicy): Gateway / HTTPRoute targets. */
  envoyGateway?: {
    targetRefs?: TargetRef[];
    pluginConfig?: Record<string, unknown>;
  };
}

const targetRefSchema = {
  type: "object",
  required: ["kind", "name"],
  additionalProperties: false,
  properties: {
    kind: { type: "string", minLength: 1 },
    name: { type: "string", minLength: 1 },
    group: { type: "string" },
  },
};
const configSchema = { type: "object" };

/** JSON schema of deploy.yaml (our own format). */
const descriptionSchema = {
  type: "object",
  additionalProperties: false,
  properties: {
    image: { type: "string", minLength: 1 },
    name: { type: "string", minLength: 1 },
    namespace: { type: "string", minLength: 1 },
    failStrategy: { enum: ["FAIL_CLOSE", "FAIL_OPEN", "FAIL_RELOAD"] },
    phase: { enum: ["UNSPECIFIED_PHASE", "AUTHN", "AUTHZ", "STATS"] },
    priority: { type: "integer", minimum: -2147483648, maximum: 2147483647 },
    imagePullPolicy: { enum: ["IfNotPresent", "Always"] },
    imagePullSecret: { type: "string", minLength: 1 },
    pluginConfig: configSchema,
    callouts: { type: "array", items: { type: "string", minLength: 1 } },
    istio: {
      type: "object",
      additionalProperties: false,
      properties: {
        selector: { type: "object", additionalProperties: { type: "string" } },
        targetRefs: { type: "array", items: targetRefSchema },
        match: {
          type: "array",
          items: {
            type: "object",
            additionalProperties: false,
            properties: {
              mode: { enum: ["CLIENT", "SERVER", "CLIENT_AND_SERVER"] },
              ports: { type: "array", items: { type: "integer", minimum: 1, maximum: 65535 } },
            },
          },
        },
        pluginConfig: configSchema,
      },
    },
    envoyGateway: {
      type: "object",
      additionalProperties: false,
      properties: { targetRefs: { type: "array", items: targetRefSchema }, pluginConfig: configSchema },
    },
  },
} as const;

const validate = new Ajv({ allErrors: true }).compile<DeploymentDescription>(descriptionSchema);

/** The file name of a plugin folder's deployment description. */
export const DEPLOY_DESCRIPTION = "deploy.yaml";

/** Reads `deploy.yaml` in `dir` (an empty description when there is none); bad content is a PwtsError. */
export function readDeploymentDescription(dir: string): DeploymentDescription {
  const file = join(dir, DEPLOY_DESCRIPTION);
  if (!existsSync(file)) return {};
  const doc = parseDocument(readFileSync(file, "utf8"));
  if (doc.errors.length) {
    throw new PwtsError("PWTS_ERR_PLUGIN_DEPLOYMENT", `${file}: not valid YAML: ${doc.errors[0]?.message}`);
  }
  const value = (doc.toJS() as unknown) ?? {};
  if (!validate(value)) {
    const e = validate.errors?.[0];
    const where = e?.instancePath ? e.instancePath.slice(1).replaceAll("/", ".") : "(root)";
    const extra = (e?.params as { additionalProperty?: string } | undefined)?.additionalProperty;
    throw new PwtsError(
      "PWTS_ERR_PLUGIN_DEPLOYMENT",
      `${file}: ${where}: ${e?.message ?? "invalid"}${extra ? ` (${extra})` : ""}`,
    );
  }
  return value;
}
