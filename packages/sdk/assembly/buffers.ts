// Buffers: HTTP bodies, TCP data, callout responses, configurations, foreign-function arguments.

import { proxy_get_buffer_bytes, proxy_get_buffer_status, proxy_set_buffer_bytes } from "./abi/imports";
import { BufferType, Status } from "./abi/types";
import { toBytes, toText } from "./bytes";
import {
  RETURN_DATA,
  RETURN_EXTRA,
  RETURN_SIZE,
  clearReturnSlots,
  lastStatus,
  setLastStatus,
  takeReturnedBytes,
} from "./memory";

/**
 * One of the host's buffers, read and written as bytes. Reads return null when the buffer is not
 * available in the current callback (`lastStatus()` tells why); writes return a `Status`.
 */
export class Buffer {
  constructor(public readonly bufferType: BufferType) {}

  /** Bytes `[start, start + maxSize)` (clipped to the buffer), or null. */
  read(start: u32 = 0, maxSize: u32 = <u32>i32.MAX_VALUE): ArrayBuffer | null {
    clearReturnSlots();
    const s = setLastStatus(proxy_get_buffer_bytes(this.bufferType, start, maxSize, RETURN_DATA, RETURN_SIZE));
    const bytes = takeReturnedBytes();
    return s == Status.Ok ? bytes : null;
  }

  /** The whole buffer as UTF-8 text, or null. */
  readText(): string | null {
    const bytes = this.read();
    return bytes === null ? null : toText(bytes);
  }

  /** Current size in bytes, or -1 when unavailable. */
  size(): i64 {
    clearReturnSlots();
    const s = setLastStatus(proxy_get_buffer_status(this.bufferType, RETURN_SIZE, RETURN_EXTRA));
    return s == Status.Ok ? <i64>load<u32>(RETURN_SIZE) : -1;
  }

  /**
   * Raw `proxy_set_buffer_bytes`: replaces `size` bytes at `start` with `value`. Envoy accepts
   * start 0 (replace the first `size` bytes, or prepend when size is 0) and start >= length (append).
   */
  write(start: u32, size: u32, value: ArrayBuffer): Status {
    return setLastStatus(
      proxy_set_buffer_bytes(this.bufferType, start, size, changetype<usize>(value), value.byteLength),
    );
  }

  /** Replaces the whole content with `value`. */
  replace(value: ArrayBuffer): Status {
    const current = this.size();
    if (current < 0) return lastStatus();
    return this.write(0, <u32>current, value);
  }

  /** Replaces the whole content with UTF-8 `text`. */
  replaceText(text: string): Status {
    return this.replace(toBytes(text));
  }

  /** Adds `value` after the current content. */
  append(value: ArrayBuffer): Status {
    const current = this.size();
    if (current < 0) return lastStatus();
    return this.write(<u32>current, 0, value);
  }

  /** Adds `value` before the current content. */
  prepend(value: ArrayBuffer): Status {
    return this.write(0, 0, value);
  }
}

/** Request body of the current HTTP stream (the chunk, or everything buffered so far after `Pause`). */
@lazy export const requestBody = new Buffer(BufferType.HttpRequestBody);
/** Response body of the current HTTP stream. */
@lazy export const responseBody = new Buffer(BufferType.HttpResponseBody);
/** Data received from the downstream peer of the current TCP connection. */
@lazy export const downstreamData = new Buffer(BufferType.DownstreamData);
/** Data received from the upstream peer of the current TCP connection. */
@lazy export const upstreamData = new Buffer(BufferType.UpstreamData);
/** Plugin configuration (readable in `onConfigure`). */
@lazy export const pluginConfiguration = new Buffer(BufferType.PluginConfiguration);
/** VM configuration (readable in `onVmStart`). */
@lazy export const vmConfiguration = new Buffer(BufferType.VmConfiguration);
