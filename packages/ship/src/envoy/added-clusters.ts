/**
 * Clusters that Kubernetes resources add to Envoy's config (an Istio EnvoyFilter `CLUSTER` patch, an Envoy
 * Gateway EnvoyPolicy JSON patch) are Envoy `Cluster` messages: checked as such, with their field paths.
 */
import type { ResourceProblem } from "../kubernetes/resource-problem.ts";
import { envoyRegistry } from "./envoy-descriptor.ts";
import { checkProtoJson } from "./proto-json-check.ts";

/** Problems of each added cluster, given as its JSON value and the field path it sits at. */
export async function checkAddedClusters(
  clusters: Array<{ value: unknown; path: string }>,
): Promise<ResourceProblem[]> {
  if (clusters.length === 0) return [];
  const registry = await envoyRegistry();
  const cluster = registry.getMessage("envoy.config.cluster.v3.Cluster");
  if (!cluster) throw new Error("descriptor set lacks envoy.config.cluster.v3.Cluster");
  return clusters.flatMap(({ value, path }) =>
    checkProtoJson(cluster, value ?? {}, registry, path).map((p) => ({
      path: p.path,
      message: `${p.message} (Envoy Cluster)`,
    })),
  );
}
