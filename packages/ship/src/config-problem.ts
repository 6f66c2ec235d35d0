/** One finding of `pwts validate`: where (file and field path), what, and whether it fails the check. */
export interface ConfigProblem {
  file: string;
  /** Field path inside the document, e.g. `static_resources.clusters[0].connect_timeout`. */
  path: string;
  message: string;
  severity: "error" | "warning";
}

/** Formats a problem as one line: `file: path: message` (warnings say so). */
export function formatProblem(p: ConfigProblem): string {
  return `${p.file}: ${p.severity === "warning" ? "warning: " : ""}${p.path}: ${p.message}`;
}
