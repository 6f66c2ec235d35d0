/** Headers that carry credentials or session state; their values are never stored or shown. */
export const SENSITIVE_HEADERS: ReadonlySet<string> = new Set([
  "authorization",
  "proxy-authorization",
  "cookie",
  "set-cookie",
  "x-api-key",
  "api-key",
  "x-auth-token",
  "x-access-token",
  "x-amz-security-token",
  "x-csrf-token",
  "x-xsrf-token",
]);

/** What a masked value is replaced with. */
export const MASKED_VALUE = "[masked]";

/**
 * Copies headers with the values of sensitive ones replaced by {@link MASKED_VALUE}. Names compare
 * case-insensitively; `extra` adds names (lower case) to the built-in list.
 */
export function maskSensitiveHeaders(
  headers: Readonly<Record<string, string>>,
  extra?: ReadonlySet<string>,
): Record<string, string> {
  const masked: Record<string, string> = Object.create(null);
  for (const [name, value] of Object.entries(headers)) {
    const lower = name.toLowerCase();
    masked[name] = SENSITIVE_HEADERS.has(lower) || extra?.has(lower) ? MASKED_VALUE : value;
  }
  return masked;
}
