/**
 * A minimal protobuf wire-format reader for the three small messages Envoy's foreign functions take
 * (`SetEnvoyFilterStateArguments`, `DeclarePropertyArguments`). Hand-written because a protobuf library would
 * need generated code or descriptors for three scalar fields; this reads varint and length-delimited fields
 * and rejects anything malformed.
 */

/** Field number -> last value seen (varints as bigint, length-delimited as bytes). */
export type ProtoFields = Map<number, bigint | Uint8Array>;

/** Parses a message into its fields; returns null when the bytes are not valid wire format. */
export function readProtoFields(bytes: Uint8Array): ProtoFields | null {
  const fields: ProtoFields = new Map();
  let pos = 0;
  const varint = (): bigint | null => {
    let result = 0n;
    let shift = 0n;
    for (let i = 0; i < 10; i++) {
      if (pos >= bytes.length) return null;
      const b = bytes[pos++]!;
      result |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return result;
      shift += 7n;
    }
    return null;
  };
  while (pos < bytes.length) {
    const key = varint();
    if (key === null) return null;
    const field = Number(key >> 3n);
    const wire = Number(key & 7n);
    if (field === 0) return null;
    if (wire === 0) {
      const v = varint();
      if (v === null) return null;
      fields.set(field, v);
    } else if (wire === 2) {
      const len = varint();
      if (len === null || pos + Number(len) > bytes.length) return null;
      fields.set(field, bytes.slice(pos, pos + Number(len)));
      pos += Number(len);
    } else if (wire === 1) {
      if (pos + 8 > bytes.length) return null;
      pos += 8;
    } else if (wire === 5) {
      if (pos + 4 > bytes.length) return null;
      pos += 4;
    } else {
      return null;
    }
  }
  return fields;
}

/** Encodes a message of string/bytes and varint fields (for tests and SDK helpers). */
export function writeProtoFields(
  fields: ReadonlyArray<[number, string | Uint8Array | number | boolean]>,
): Uint8Array {
  const out: number[] = [];
  const varint = (value: number) => {
    let v = value;
    while (v > 0x7f) {
      out.push((v & 0x7f) | 0x80);
      v = Math.floor(v / 128);
    }
    out.push(v);
  };
  for (const [field, value] of fields) {
    if (typeof value === "number" || typeof value === "boolean") {
      varint(field * 8);
      varint(Number(value));
    } else {
      const bytes = typeof value === "string" ? new TextEncoder().encode(value) : value;
      varint(field * 8 + 2);
      varint(bytes.length);
      out.push(...bytes);
    }
  }
  return new Uint8Array(out);
}
