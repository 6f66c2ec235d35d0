/**
 * Stream control hostcalls: `proxy_continue_stream`, `proxy_close_stream`, `proxy_get_status`,
 * `proxy_send_local_response`, and ABI v0.1.0's `proxy_continue_request` / `proxy_continue_response` /
 * `proxy_clear_route_cache`.
 */

import { utf8String } from "../bytes.ts";
import { parsePairs } from "../pairs.ts";
import { MAX_STREAM_TYPE, Status, StreamType } from "../types.ts";
import type { Vm } from "../vm.ts";

export function streamImports(vm: Vm) {
  return {
    proxy_continue_stream(type: number): number {
      const t = type >>> 0;
      if (t > MAX_STREAM_TYPE) return Status.BadArgument;
      return vm.effective().continueStream(t);
    },
    proxy_close_stream(type: number): number {
      const t = type >>> 0;
      if (t > MAX_STREAM_TYPE) return Status.BadArgument;
      return vm.effective().closeStream(t);
    },
    proxy_continue_request(): number {
      return vm.effective().continueStream(StreamType.HttpRequest);
    },
    proxy_continue_response(): number {
      return vm.effective().continueStream(StreamType.HttpResponse);
    },
    proxy_clear_route_cache(): number {
      vm.effective().clearRouteCache();
      return Status.Ok;
    },
    proxy_get_status(codePtr: number, messagePtrPtr: number, messageSizePtr: number): number {
      const ctx = vm.effective();
      // Callout answers set the status on the root context that made the call.
      const holder = ctx.rootContext ?? ctx;
      if (!vm.inBounds(codePtr, 4)) return Status.InvalidMemoryAccess;
      const status = vm.copyOut(holder.statusMessage, messagePtrPtr, messageSizePtr);
      if (status !== Status.Ok) return status;
      vm.writeU32(codePtr, holder.statusCode);
      return Status.Ok;
    },
    proxy_send_local_response(
      statusCode: number,
      detailsPtr: number,
      detailsSize: number,
      bodyPtr: number,
      bodySize: number,
      headersPtr: number,
      headersSize: number,
      grpcStatus: number,
    ): number {
      const details = vm.read(detailsPtr, detailsSize);
      const body = vm.read(bodyPtr, bodySize);
      const headers = vm.read(headersPtr, headersSize);
      if (details === null || body === null || headers === null) return Status.InvalidMemoryAccess;
      const pairs = parsePairs(headers);
      if (pairs === null) return Status.BadArgument;
      return vm.effective().sendLocalResponse({
        statusCode: statusCode >>> 0,
        details: utf8String(details),
        body: body.slice(),
        headers: pairs,
        // SDKs pass -1 (0xffffffff) for "no gRPC status".
        grpcStatus: grpcStatus < 0 || grpcStatus > 16 ? null : grpcStatus,
      });
    },
  };
}
