/**
 * Registry authentication: parsing `WWW-Authenticate` challenges and fetching bearer tokens, as the
 * distribution token spec describes (docker's `auth/token` flow; ghcr.io, Docker Hub, Harbor all use it).
 */

/** Credentials for a registry. */
export interface RegistryCredentials {
  username: string;
  password: string;
}

/** One challenge from a `WWW-Authenticate` header. */
export interface AuthChallenge {
  scheme: "basic" | "bearer";
  params: Record<string, string>;
}

/**
 * Parses `WWW-Authenticate: Bearer realm="…",service="…",scope="…"` or `Basic realm="…"`.
 * Returns undefined for schemes we do not speak (the caller reports them).
 */
export function parseAuthChallenge(header: string): AuthChallenge | undefined {
  const match = /^\s*(\w+)\s*(.*)$/s.exec(header);
  if (!match) return undefined;
  const scheme = match[1]?.toLowerCase();
  if (scheme !== "basic" && scheme !== "bearer") return undefined;
  const params: Record<string, string> = {};
  // key=value or key="quoted, with commas"; a scope value may itself contain commas inside quotes.
  const paramPattern = /(\w+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))/g;
  for (const p of (match[2] ?? "").matchAll(paramPattern)) {
    const key = p[1];
    if (key) params[key.toLowerCase()] = (p[2] ?? p[3] ?? "").replace(/\\(.)/g, "$1");
  }
  return { scheme, params };
}

/** The `Authorization` value for basic auth. */
export function basicAuthorization(credentials: RegistryCredentials): string {
  return `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString("base64")}`;
}
