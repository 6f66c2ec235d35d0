/**
 * A live view of one of the host's header maps (request/response headers and trailers, callout and gRPC
 * metadata), shaped like the Fetch API's `Headers`: every read and write goes straight to the host.
 */

import { expectOk, hostcall, type MapType, Status, statusOf } from "./abi.ts";
import { HostOp } from "./abi-codes.ts";
import { fromFlat, type HeaderList, serializePairs } from "./header-pairs.ts";

export class HeaderMap implements Iterable<[string, string]> {
  /** @param mapType which host map (`proxy_map_type_t`) this view reads and writes. */
  constructor(
    readonly mapType: MapType,
    private readonly beforeCall: () => void = () => {},
  ) {}

  /** The value of `name` (the first, when it repeats), or null when absent. */
  get(name: string): string | null {
    this.beforeCall();
    const result = hostcall(HostOp.GetHeaderMapValue, this.mapType, name);
    return statusOf(result) === Status.Ok ? (result as string) : null;
  }

  /** Whether `name` is present. */
  has(name: string): boolean {
    return this.get(name) !== null;
  }

  /** Sets `name` to `value`, replacing every value it had. */
  set(name: string, value: string): void {
    this.beforeCall();
    expectOk("set header", hostcall(HostOp.ReplaceHeaderMapValue, this.mapType, name, String(value)));
  }

  /** Adds a value for `name`, keeping those it had. */
  append(name: string, value: string): void {
    this.beforeCall();
    expectOk("add header", hostcall(HostOp.AddHeaderMapValue, this.mapType, name, String(value)));
  }

  /** Removes every value of `name`. */
  delete(name: string): void {
    this.beforeCall();
    expectOk("remove header", hostcall(HostOp.RemoveHeaderMapValue, this.mapType, name));
  }

  /** All pairs in order (pseudo-headers included). */
  entries(): HeaderList {
    this.beforeCall();
    const result = hostcall(HostOp.GetHeaderMapPairs, this.mapType);
    return statusOf(result) === Status.Ok ? fromFlat(result as string[]) : [];
  }

  /** Replaces the whole map with `pairs`. */
  replaceAll(pairs: HeaderList): void {
    this.beforeCall();
    expectOk("set headers", hostcall(HostOp.SetHeaderMapPairs, this.mapType, serializePairs(pairs)));
  }

  /** Every value of `name`, in order. */
  getAll(name: string): string[] {
    const lower = name.toLowerCase();
    return this.entries()
      .filter(([key]) => key === lower)
      .map(([, value]) => value);
  }

  keys(): string[] {
    return this.entries().map(([key]) => key);
  }

  values(): string[] {
    return this.entries().map(([, value]) => value);
  }

  forEach(callback: (value: string, name: string) => void): void {
    for (const [name, value] of this.entries()) callback(value, name);
  }

  /** The headers as an object; repeated names are joined with ", ". */
  toObject(): Record<string, string> {
    const object: Record<string, string> = {};
    for (const [name, value] of this.entries())
      object[name] = name in object ? `${object[name]}, ${value}` : value;
    return object;
  }

  [Symbol.iterator](): Iterator<[string, string]> {
    return this.entries()[Symbol.iterator]();
  }
}
