/**
 * Randomness. The VM is snapshotted at build time, so QuickJS's own Math.random state would be the same in
 * every VM Envoy starts. Math.random is replaced by xoshiro128** (a small, well-studied generator; not for
 * secrets) seeded from the host's random_get on first use after the VM starts, and crypto.getRandomValues
 * reads random_get directly.
 */

import { expectOk, hostcall } from "./abi.ts";
import { HostOp } from "./abi-codes.ts";

/** `length` bytes from the host's random source (WASI random_get). */
export function randomBytes(length: number): Uint8Array {
  const out = new Uint8Array(length);
  for (let at = 0; at < length; at += 65536) {
    const size = Math.min(65536, length - at);
    out.set(new Uint8Array(expectOk<ArrayBuffer>("random bytes", hostcall(HostOp.RandomBytes, size))), at);
  }
  return out;
}

let state: Uint32Array | null = null;

function seed(): Uint32Array {
  const words = new Uint32Array(randomBytes(16).buffer);
  if ((words[0] | words[1] | words[2] | words[3]) === 0) words[0] = 1; // all-zero state never leaves zero
  return words;
}

const rotl = (x: number, k: number) => (x << k) | (x >>> (32 - k));

/** xoshiro128** (Blackman & Vigna), 53 random bits per call like V8's Math.random. */
function next32(s: Uint32Array): number {
  const result = Math.imul(rotl(Math.imul(s[1], 5), 7), 9) >>> 0;
  const t = s[1] << 9;
  s[2] ^= s[0];
  s[3] ^= s[1];
  s[1] ^= s[2];
  s[0] ^= s[3];
  s[2] ^= t;
  s[3] = rotl(s[3], 11);
  return result;
}

function random(): number {
  state ??= seed();
  const high = next32(state) >>> 5; // 27 bits
  const low = next32(state) >>> 6; // 26 bits
  return (high * 67108864 + low) / 9007199254740992;
}

/** The VM started: the snapshot's generator state (if any) must not be shared with other VMs. */
export function reseedRandom(): void {
  state = null;
}

/** Web Crypto's getRandomValues for integer typed arrays. */
function getRandomValues<T extends ArrayBufferView | null>(array: T): T {
  if (
    array === null ||
    !ArrayBuffer.isView(array) ||
    array instanceof Float32Array ||
    array instanceof Float64Array
  ) {
    throw new TypeError("getRandomValues: expected an integer typed array");
  }
  if (array.byteLength > 65536) throw new RangeError("getRandomValues: at most 65536 bytes");
  new Uint8Array(array.buffer, array.byteOffset, array.byteLength).set(randomBytes(array.byteLength));
  return array;
}

/** Installs Math.random and crypto.getRandomValues. */
export function installRandom(): void {
  Math.random = random;
  const scope = globalThis as Record<string, unknown>;
  scope.crypto ??= { getRandomValues };
}
