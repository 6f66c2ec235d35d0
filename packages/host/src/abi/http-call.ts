/** `proxy_http_call`: an HTTP callout from the root context of the caller (as Envoy / cpp-host do). */

import { EMPTY_BYTES, utf8String } from "../bytes.ts";
import { BytesKeyedCache } from "../bytes-keyed-cache.ts";
import { countPairs, parsePairs } from "../pairs.ts";
import { Status } from "../types.ts";
import type { Vm } from "../vm.ts";

/** Cluster names as their bytes arrive from the guest: a plugin calls the same few on every request. */
const CLUSTERS_CACHED = 64;
const CLUSTER_BYTES_CACHED = 256;

export function httpCallImports(vm: Vm) {
  const clusters = new BytesKeyedCache<string>(CLUSTERS_CACHED, CLUSTER_BYTES_CACHED);
  return {
    proxy_http_call(
      upstreamPtr: number,
      upstreamSize: number,
      headersPtr: number,
      headersSize: number,
      bodyPtr: number,
      bodySize: number,
      trailersPtr: number,
      trailersSize: number,
      timeoutMs: number,
      tokenPtr: number,
    ): number {
      const mem = vm.bytes();
      const up = upstreamPtr >>> 0;
      const upLen = upstreamSize >>> 0;
      const hp = headersPtr >>> 0;
      const hl = headersSize >>> 0;
      const bp = bodyPtr >>> 0;
      const bl = bodySize >>> 0;
      const tp = trailersPtr >>> 0;
      const tl = trailersSize >>> 0;
      if (up + upLen > mem.length || hp + hl > mem.length || bp + bl > mem.length || tp + tl > mem.length)
        return Status.InvalidMemoryAccess;
      // Check the token pointer before starting anything (cpp-host writes it first for the same reason).
      if (!vm.inBounds(tokenPtr, 4)) return Status.InvalidMemoryAccess;
      // The headers stay in their serialized form (one copy) until someone reads them as pairs: an
      // embedder answering from the bytes, or a test, never pays for a byte array per name and value.
      const headers = mem.slice(hp, hp + hl);
      const trailers = tl === 0 ? [] : parsePairs(mem.subarray(tp, tp + tl));
      if (countPairs(headers) < 0 || trailers === null) return Status.BadArgument;
      // The timeout is a signed int in Envoy (context.cc Context::httpCall, `int timeout_milliseconds`;
      // cpp-host exports.cc http_call passes the i32 through): a negative one is BAD_ARGUMENT.
      if ((timeoutMs | 0) < 0) return Status.BadArgument;
      const root = vm.effective().rootContext;
      if (!root) return Status.BadArgument;
      const { status, token } = root.startHttpCall(
        clusters.getAt(mem, up, upLen, utf8String),
        headers,
        bl === 0 ? EMPTY_BYTES : mem.slice(bp, bp + bl),
        trailers,
        timeoutMs | 0,
      );
      if (status === Status.Ok) vm.writeU32(tokenPtr, token);
      return status;
    },
  };
}
