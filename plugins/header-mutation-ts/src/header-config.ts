// The plugin configuration: which header to set, its value, and on which side.

export interface HeaderConfig {
  header: string;
  value: string;
  onRequest: boolean;
  onResponse: boolean;
}

const DEFAULTS: HeaderConfig = {
  header: "x-training",
  value: "envoy-wasm",
  onRequest: true,
  onResponse: true,
};
const KNOWN_KEYS = ["header", "value", "request", "response"];

// RFC 9110 token characters: header names are tokens, and Envoy rejects anything else.
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
// CR, LF and NUL would split or truncate the header; other controls are invalid field content.
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point.
const CONTROL = /[\x00-\x08\x0a-\x1f\x7f]/;

/** Reads the JSON configuration; empty means all defaults. Throws with the reason it is rejected. */
export function parseHeaderConfig(text: string): HeaderConfig {
  if (text === "") return { ...DEFAULTS };
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new Error("configuration must be a JSON object");
  }
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    throw new Error("configuration must be a JSON object");
  }
  const raw = json as Record<string, unknown>;
  const unknown = Object.keys(raw).find((key) => !KNOWN_KEYS.includes(key));
  if (unknown !== undefined) {
    throw new Error(`unknown configuration key "${unknown}" (expected one of ${KNOWN_KEYS.join(", ")})`);
  }
  const { header = DEFAULTS.header, value = DEFAULTS.value, request = true, response = true } = raw;
  if (typeof header !== "string") throw new Error('"header" must be a string');
  if (header.length === 0) throw new Error('"header" must not be empty');
  if (!TOKEN.test(header)) {
    throw new Error(
      `"header" ${header} is not a valid header name (token characters only, no pseudo-headers)`,
    );
  }
  if (typeof value !== "string") throw new Error('"value" must be a string');
  if (CONTROL.test(value)) throw new Error('"value" must not contain control characters (CR, LF, NUL)');
  if (typeof request !== "boolean") throw new Error('"request" must be true or false');
  if (typeof response !== "boolean") throw new Error('"response" must be true or false');
  // Kept as written: Envoy (and the host) lower-case header names themselves.
  return { header, value, onRequest: request, onResponse: response };
}
