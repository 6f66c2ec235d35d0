const NUMBER = /^\d+$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const HEX_ID = /^[0-9a-f]{16,}$/i;
/** Long opaque tokens (base64url ids, hashes): 16+ characters that mix letters and digits. */
const OPAQUE = /^(?=.*\d)(?=.*[A-Za-z])[A-Za-z0-9_-]{16,}$/;
const EMAIL = /^[^@/\s]+@[^@/\s]+\.[^@/\s]+$/;

/**
 * Turns a captured path into the API operation it belongs to, so `/users/42` and `/users/7` count as one API:
 * numbers, UUIDs, hex ids and long opaque tokens become `{id}`, e-mail addresses `{email}` (a PII value is
 * never part of the inventory). The query string is dropped.
 */
export function routeTemplate(path: string): string {
  const q = path.search(/[?#]/);
  const bare = q === -1 ? path : path.slice(0, q);
  if (bare === "" || bare === "*") return bare || "/";
  return bare
    .split("/")
    .map((segment) => {
      if (segment === "") return segment;
      let decoded = segment;
      try {
        decoded = decodeURIComponent(segment);
      } catch {
        // a malformed escape is kept as captured
      }
      if (NUMBER.test(decoded) || UUID.test(decoded) || HEX_ID.test(decoded) || OPAQUE.test(decoded))
        return "{id}";
      if (EMAIL.test(decoded)) return "{email}";
      return segment;
    })
    .join("/");
}
