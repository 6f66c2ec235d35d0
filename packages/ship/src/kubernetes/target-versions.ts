/**
 * The platform versions manifests are checked for (`--istio-version`, `--envoy-gateway-version`). The
 * defaults are the current releases; fields a chosen version lacks or no longer has are reported.
 */

/** The platform releases a check targets. */
export interface TargetVersions {
  /** Istio minor version, e.g. "1.29" (a patch part is ignored). */
  istio?: string;
  /** Envoy Gateway minor version, e.g. "1.9". */
  envoyGateway?: string;
}

/** Current releases: Istio 1.30 (TrafficExtension), Envoy Gateway 1.9. */
export const defaultTargetVersions: Required<TargetVersions> = { istio: "1.30", envoyGateway: "1.9" };

/** `[major, minor]` of "1.29" / "1.29.2" / "v1.9.1"; undefined when the text is no version. */
export function parseMinorVersion(text: string): [number, number] | undefined {
  const m = /^v?(\d+)\.(\d+)(?:\.\d+)?$/.exec(text.trim());
  return m ? [Number(m[1]), Number(m[2])] : undefined;
}

/** Is `version` at least `major.minor`? An unparsable version counts as the newest. */
export function atLeast(version: string, major: number, minor: number): boolean {
  const v = parseMinorVersion(version);
  if (!v) return true;
  return v[0] > major || (v[0] === major && v[1] >= minor);
}
