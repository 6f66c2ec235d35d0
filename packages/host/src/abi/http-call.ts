/** `proxy_http_call`: an HTTP callout from the root context of the caller (as Envoy / cpp-host do). */

import { utf8String } from "../bytes.ts";
import { parsePairs } from "../pairs.ts";
import { Status } from "../types.ts";
import type { Vm } from "../vm.ts";

export function httpCallImports(vm: Vm) {
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
      const upstream = vm.read(upstreamPtr, upstreamSize);
      const headerBytes = vm.read(headersPtr, headersSize);
      const body = vm.read(bodyPtr, bodySize);
      const trailerBytes = vm.read(trailersPtr, trailersSize);
      if (upstream === null || headerBytes === null || body === null || trailerBytes === null) {
        return Status.InvalidMemoryAccess;
      }
      // Check the token pointer before starting anything (cpp-host writes it first for the same reason).
      if (!vm.inBounds(tokenPtr, 4)) return Status.InvalidMemoryAccess;
      const headers = parsePairs(headerBytes);
      const trailers = parsePairs(trailerBytes);
      if (headers === null || trailers === null) return Status.BadArgument;
      // The timeout is a signed int in Envoy (context.cc Context::httpCall, `int timeout_milliseconds`;
      // cpp-host exports.cc http_call passes the i32 through): a negative one is BAD_ARGUMENT.
      if ((timeoutMs | 0) < 0) return Status.BadArgument;
      const root = vm.effective().rootContext;
      if (!root) return Status.BadArgument;
      const { status, token } = root.startHttpCall(
        utf8String(upstream),
        headers,
        body.slice(),
        trailers,
        timeoutMs | 0,
      );
      if (status === Status.Ok) vm.writeU32(tokenPtr, token);
      return status;
    },
  };
}
