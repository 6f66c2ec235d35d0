// Turns the metadata service's answer into the header value, or explains why it cannot.

import { JsonKind, findJsonBytes } from "@proxy-wasm-ts/sdk/assembly";

/** Header values longer than this are refused rather than forwarded upstream. */
const MAX_VALUE_LENGTH = 256;

/** The header value, or the reason there is none (`error` non-empty). */
export class MetadataValue {
  constructor(
    readonly value: string,
    readonly error: string,
  ) {}
}

function failed(reason: string): MetadataValue {
  return new MetadataValue("", reason);
}

function isSafeHeaderValue(value: string): bool {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if ((c < 0x20 && c != 0x09) || c == 0x7f) return false;
  }
  return true;
}

/**
 * Extracts `field` (a dotted path; `segments` is it split at the dots, done once per configuration) from a
 * JSON answer body; an empty field means "1" for any body.
 */
export function metadataValue(body: ArrayBuffer, field: string, segments: Array<string>): MetadataValue {
  if (field.length == 0) return body.byteLength > 0 ? new MetadataValue("1", "") : failed("the answer has no body");
  // Only the field is built: parsing the whole answer allocated every member per request only to drop it.
  const found = findJsonBytes(body, segments);
  if (!found.valid) return failed("the answer is not JSON");
  const node = found.value;
  if (node === null) return failed("the answer has no field " + field);
  let value: string;
  if (node.kind == JsonKind.String) value = node.stringValue;
  else if (node.kind == JsonKind.Number && node.numberValue == Math.floor(node.numberValue) && Math.abs(node.numberValue) < 1e15) {
    value = (<i64>node.numberValue).toString();
  } else return failed("field " + field + " is not a string or an integer");
  if (value.length == 0) return failed("field " + field + " is empty");
  if (value.length > MAX_VALUE_LENGTH) return failed("field " + field + " is longer than " + MAX_VALUE_LENGTH.toString() + " characters");
  if (!isSafeHeaderValue(value)) return failed("field " + field + " contains control characters");
  return new MetadataValue(value, "");
}
