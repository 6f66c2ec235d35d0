/**
 * Envoy's check that no filter left a header an HTTP message cannot carry (header_utility.cc,
 * HeaderUtility::checkValidRequestHeaders with headerNameIsValid / headerValueIsValid), and the wording
 * of its error: "invalid header value for: x-foo" / "invalid header name: x foo".
 */
import type { HeaderList } from "./header-list.ts";

/** A header value may hold HTAB, visible ASCII, space and obs-text (0x80-0xFF): no CR, LF, NUL or other controls. */
const INVALID_VALUE_CHAR = /[^\t\x20-\x7e\x80-\xff]/;
/** RFC 9110 token characters (Envoy's kGenericHeaderNameCharTable). */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** Pseudo-header names follow HTTP/2's rule (nghttp2_check_header_name): lower-case token after the colon. */
const PSEUDO_NAME = /^:[!#$%&'*+\-.^_`|~0-9a-z]+$/;

export interface InvalidHeader {
  name: string;
  /** Which part is invalid. */
  part: "name" | "value";
}

/** The first header whose name or value Envoy refuses, or undefined. */
export function findInvalidHeader(headers: HeaderList): InvalidHeader | undefined {
  for (const [name, value] of headers) {
    // An empty name is not refused by Envoy's loop, but no HTTP/1 message can carry it either.
    if (!(name[0] === ":" ? PSEUDO_NAME : TOKEN).test(name)) return { name, part: "name" };
    if (INVALID_VALUE_CHAR.test(value)) return { name, part: "value" };
  }
  return undefined;
}

/** JsonEscaper::escapeString, which Envoy applies to the name so the message is printable. */
function jsonEscape(text: string): string {
  return JSON.stringify(text).slice(1, -1);
}

/** The status message: `invalid header value for: x-foo` or `invalid header name: x foo`. */
export function invalidHeaderMessage(bad: InvalidHeader): string {
  return `invalid header ${bad.part === "name" ? "name: " : "value for: "}${jsonEscape(bad.name)}`;
}

/** `<prefix>{message}` with whitespace replaced by `_` (StringUtil::replaceAllEmptySpace), as Envoy's details read. */
export function invalidHeaderDetails(prefix: string, bad: InvalidHeader): string {
  return `${prefix}{${invalidHeaderMessage(bad).replace(/[ \t\n\v\f\r]/g, "_")}}`;
}
