/** One reason a resource is invalid (or, as a warning, risky for the chosen version), located by its field path. */
export interface ResourceProblem {
  path: string;
  message: string;
  /** Errors unless said otherwise; warnings do not fail `pwts validate`. */
  severity?: "warning";
}
