/**
 * TextEncoder and TextDecoder (UTF-8 only), which QuickJS-NG's core lacks. The work is done by the glue
 * with QuickJS's own UTF-8 conversion (one hostcall each way), so no JS codec is bundled.
 */

import { hostcall } from "./abi.ts";
import { HostOp } from "./abi-codes.ts";

function toArrayBuffer(input: ArrayBuffer | ArrayBufferView): ArrayBuffer {
  if (input instanceof ArrayBuffer) return input;
  const { buffer, byteOffset, byteLength } = input;
  if (byteOffset === 0 && byteLength === buffer.byteLength) return buffer as ArrayBuffer;
  return (buffer as ArrayBuffer).slice(byteOffset, byteOffset + byteLength);
}

/** UTF-8 bytes of a string. */
export function encodeUtf8(text: string): Uint8Array {
  return new Uint8Array(hostcall(HostOp.Utf8Encode, String(text)) as ArrayBuffer);
}

/** A string from UTF-8 bytes (invalid sequences become U+FFFD). */
export function decodeUtf8(bytes: ArrayBuffer | ArrayBufferView): string {
  return hostcall(HostOp.Utf8Decode, toArrayBuffer(bytes)) as string;
}

/** WHATWG TextEncoder (UTF-8). */
export class Utf8TextEncoder {
  readonly encoding = "utf-8";
  encode(input = ""): Uint8Array {
    return encodeUtf8(input);
  }
  encodeInto(input: string, destination: Uint8Array): { read: number; written: number } {
    const bytes = encodeUtf8(input);
    if (bytes.length <= destination.length) {
      destination.set(bytes);
      return { read: input.length, written: bytes.length };
    }
    // Whole code points only: back off to the last complete one that fits.
    let read = 0;
    let written = 0;
    for (const ch of input) {
      const size = encodeUtf8(ch).length;
      if (written + size > destination.length) break;
      destination.set(encodeUtf8(ch), written);
      written += size;
      read += ch.length;
    }
    return { read, written };
  }
}

/** WHATWG TextDecoder (UTF-8 only; `stream` is not supported). */
export class Utf8TextDecoder {
  readonly encoding = "utf-8";
  readonly fatal = false;
  readonly ignoreBOM: boolean;
  constructor(label = "utf-8", options: { ignoreBOM?: boolean } = {}) {
    if (!/^(utf-?8|unicode-1-1-utf-8)$/i.test(label))
      throw new RangeError(`TextDecoder: unsupported encoding ${label}`);
    this.ignoreBOM = options.ignoreBOM ?? false;
  }
  decode(input?: ArrayBuffer | ArrayBufferView): string {
    if (input === undefined) return "";
    const text = decodeUtf8(input);
    return !this.ignoreBOM && text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  }
}

/** Installs TextEncoder/TextDecoder on globalThis when the engine has none. */
export function installTextEncoding(): void {
  const scope = globalThis as Record<string, unknown>;
  scope.TextEncoder ??= Utf8TextEncoder;
  scope.TextDecoder ??= Utf8TextDecoder;
}
