// Replacements for AssemblyScript's `env.abort`, `env.trace` and `env.seed` imports, which Envoy does
// not provide. `pwts build` (and the SDK's asconfig.json) alias them with `--use abort=proxyAbort ...`.

import { proxy_log, wasi_random_get } from "./abi/imports";
import { LogLevel } from "./abi/types";

// Static scratch space: abort must not allocate (it may be reporting an out-of-memory).
const MESSAGE_CAPACITY: usize = 512;
const message: usize = memory.data(<i32>MESSAGE_CAPACITY);
let length: usize = 0;
let aborting = false;

function append(text: string | null): void {
  if (text === null) return;
  const size = <usize>text.length;
  for (let i: usize = 0; i < size && length < MESSAGE_CAPACITY; i++) {
    const c = load<u16>(changetype<usize>(text) + (i << 1));
    store<u8>(message + length++, c < 0x80 ? <u8>c : 0x3f); // non-ASCII as '?': no encoder needed
  }
}

function appendNumber(value: u32): void {
  let digits: usize = 1;
  for (let v = value; v >= 10; v /= 10) digits++;
  if (length + digits > MESSAGE_CAPACITY) return;
  let v = value;
  for (let i = digits; i > 0; i--) {
    store<u8>(message + length + i - 1, <u8>(48 + (v % 10)));
    v /= 10;
  }
  length += digits;
}

/** Logs "abort: <message> at <file>:<line>:<column>" at critical level, then traps. */
@global
export function proxyAbort(text: string | null, fileName: string | null, line: u32, column: u32): void {
  if (!aborting) {
    aborting = true;
    length = 0;
    append("abort: ");
    append(text === null ? "?" : text);
    append(" at ");
    append(fileName === null ? "?" : fileName);
    append(":");
    appendNumber(line);
    append(":");
    appendNumber(column);
    proxy_log(LogLevel.Critical, message, length);
  }
  unreachable();
}

/** `trace()` goes to the host log at trace level (arguments are not formatted). */
@global
export function proxyTrace(
  text: string,
  n: i32 = 0,
  a0: f64 = 0,
  a1: f64 = 0,
  a2: f64 = 0,
  a3: f64 = 0,
  a4: f64 = 0,
): void {
  length = 0;
  append("trace: ");
  append(text);
  proxy_log(LogLevel.Trace, message, length);
}

/** Seeds `Math.random` from WASI `random_get` (Envoy provides it; it does not provide `env.seed`). */
@global
export function proxySeed(): f64 {
  const scratch = memory.data(8);
  store<u64>(scratch, 0);
  wasi_random_get(scratch, 8);
  // Use the random bits as the mantissa of a double in [1, 2).
  return reinterpret<f64>((load<u64>(scratch) & 0x000fffffffffffff) | 0x3ff0000000000000);
}
