/** Success and error paths of the header-map and buffer hostcalls, driven through real Wasm. */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { ByteBuffer } from "../src/byte-buffer.ts";
import { HeaderMap } from "../src/header-map.ts";
import { parsePairs, serializePairs } from "../src/pairs.ts";
import { BufferType, MapType, Status } from "../src/types.ts";
import { type AbiHarness, startAbiHarness } from "./support/abi-module.ts";

const opts = { timeout: 30_000 };
const dec = (b: Uint8Array) => new TextDecoder().decode(b);

async function withRequest(headers: Array<[string, string]>) {
  const t = await startAbiHarness();
  const http = t.harness.http();
  http.requestHeaders(headers);
  return { t, http, run: <T>(fn: () => T) => t.inContext(http.stream, fn) };
}

/** A stream whose plugin holds the request body `body` (visible to buffer hostcalls). */
async function withBody(body: string) {
  const t = await startAbiHarness();
  const http = t.harness.http();
  t.hold(0);
  http.requestHeaders([[":path", "/"]]);
  t.hold(1);
  http.requestBody(body, false);
  return { t, http, run: <T>(fn: () => T) => t.inContext(http.stream, fn) };
}

function getValue(t: AbiHarness, type: number, key: string): { status: number; value?: string } {
  const [k, kl] = t.put(key);
  const pp = t.out();
  const sp = t.out();
  const status = t.call("proxy_get_header_map_value", type, k, kl, pp, sp);
  return status === Status.Ok ? { status, value: t.text(pp, sp) } : { status };
}

test(
  "proxy_get_header_map_value: first value, case-insensitive; NOT_FOUND; BAD_ARGUMENT; INVALID_MEMORY_ACCESS",
  opts,
  async () => {
    const { t, run } = await withRequest([
      [":path", "/a"],
      ["Set-Cookie", "a=1"],
      ["set-cookie", "b=2"],
    ]);
    run(() => {
      assert.deepEqual(getValue(t, MapType.HttpRequestHeaders, "SET-COOKIE"), {
        status: Status.Ok,
        value: "a=1",
      });
      assert.deepEqual(getValue(t, MapType.HttpRequestHeaders, "missing"), { status: Status.NotFound });
      assert.equal(getValue(t, 8, ":path").status, Status.BadArgument, "unknown map type");
      assert.equal(
        getValue(t, MapType.HttpResponseHeaders, ":status").status,
        Status.BadArgument,
        "map not available yet",
      );
      const [k, kl] = t.put(":path");
      assert.equal(
        t.call("proxy_get_header_map_value", 0, t.badPointer, 4, t.out(), t.out()),
        Status.InvalidMemoryAccess,
      );
      assert.equal(
        t.call("proxy_get_header_map_value", 0, k, kl, t.badPointer, t.out()),
        Status.InvalidMemoryAccess,
      );
      assert.equal(
        t.call("proxy_get_header_map_value", 0, k, -1, t.out(), t.out()),
        Status.InvalidMemoryAccess,
        "u32 length",
      );
    });
  },
);

test(
  "proxy_get_header_map_value on an ABI v0.1.0 module: a missing header is OK and empty",
  opts,
  async () => {
    const t = await startAbiHarness({ abi: "0.1.0" });
    const http = t.harness.http();
    http.requestHeaders([[":path", "/"]]);
    t.inContext(http.stream, () =>
      assert.deepEqual(getValue(t, 0, "nope"), { status: Status.Ok, value: "" }),
    );
  },
);

test("proxy_add/replace/remove_header_map_value: ordered byte pairs; errors", opts, async () => {
  const { t, http, run } = await withRequest([
    [":path", "/"],
    ["a", "1"],
    ["b", "2"],
    ["a", "3"],
  ]);
  run(() => {
    const [ka, kal] = t.put("A");
    const [v, vl] = t.put(new Uint8Array([0xff, 0x00, 0x41]));
    assert.equal(t.call("proxy_add_header_map_value", 0, ka, kal, v, vl), Status.Ok);
    const [r, rl] = t.put("r");
    assert.equal(t.call("proxy_replace_header_map_value", 0, ka, kal, r, rl), Status.Ok);
    const [kb, kbl] = t.put("b");
    assert.equal(t.call("proxy_remove_header_map_value", 0, kb, kbl), Status.Ok);
    const [kz, kzl] = t.put("zz");
    assert.equal(
      t.call("proxy_remove_header_map_value", 0, kz, kzl),
      Status.Ok,
      "removing a missing key is OK",
    );
    assert.equal(
      t.call("proxy_replace_header_map_value", 0, kz, kzl, r, rl),
      Status.Ok,
      "replace adds when absent",
    );
    for (const fn of ["proxy_add_header_map_value", "proxy_replace_header_map_value"]) {
      assert.equal(t.call(fn, 9, ka, kal, r, rl), Status.BadArgument);
      assert.equal(t.call(fn, MapType.HttpResponseTrailers, ka, kal, r, rl), Status.BadArgument);
      assert.equal(t.call(fn, 0, t.badPointer, 1, r, rl), Status.InvalidMemoryAccess);
      assert.equal(t.call(fn, 0, ka, kal, r, 0x7fffffff), Status.InvalidMemoryAccess);
    }
    assert.equal(t.call("proxy_remove_header_map_value", 9, ka, kal), Status.BadArgument);
    assert.equal(t.call("proxy_remove_header_map_value", 0, t.badPointer, 2), Status.InvalidMemoryAccess);
  });
  const headers = http.stream.request.headers!;
  assert.deepEqual(
    headers.names.map(dec),
    [":path", "a", "zz"],
    "replace kept the first position and dropped duplicates; remove dropped b",
  );
  assert.equal(dec(headers.values[1]!), "r");
});

test(
  "a latin1 map (Node's header text) reads and edits byte for byte; only edits mark it",
  opts,
  async () => {
    const t = await startAbiHarness();
    const stream = t.harness.http().stream;
    // "caf\xe9" as Node's parser gives it: one char per wire byte (not valid UTF-8 on the wire).
    const given: Array<[string, string]> = [
      [":path", "/"],
      ["X-Bin", "caf\xe9"],
      ["a", "1"],
      ["a", "2"],
    ];
    stream.requestHeaders(HeaderMap.fromLatin1(given));
    const map = stream.request.headers!;
    t.inContext(stream, () => {
      const [k, kl] = t.put("X-BIN");
      const pp = t.out();
      const sp = t.out();
      assert.equal(t.call("proxy_get_header_map_value", 0, k, kl, pp, sp), Status.Ok);
      assert.deepEqual([...t.returned(pp, sp)], [0x63, 0x61, 0x66, 0xe9]);
      assert.equal(t.call("proxy_get_header_map_pairs", 0, pp, sp), Status.Ok);
      const expected = HeaderMap.from([
        [":path", "/"],
        ["x-bin", new Uint8Array([0x63, 0x61, 0x66, 0xe9])],
        ["a", "1"],
        ["a", "2"],
      ]).serialize();
      assert.deepEqual(t.returned(pp, sp), expected, "the pairs serialization, byte-exact");
      const sizePtr = t.out();
      assert.equal(t.call("proxy_get_header_map_size", 0, sizePtr), Status.Ok);
      assert.equal(t.u32(sizePtr), expected.length);
    });
    assert.equal(map.modified, false, "reads do not mark the map");
    given[0] = [":path", "/changed"];
    t.inContext(stream, () => {
      const [a, al] = t.put("A");
      const [v, vl] = t.put(new Uint8Array([0xff, 0x41]));
      assert.equal(t.call("proxy_replace_header_map_value", 0, a, al, v, vl), Status.Ok);
      const [n, nl] = t.put("X-New");
      assert.equal(t.call("proxy_add_header_map_value", 0, n, nl, v, vl), Status.Ok);
      const [b, bl] = t.put("x-bin");
      assert.equal(t.call("proxy_remove_header_map_value", 0, b, bl), Status.Ok);
    });
    assert.equal(map.modified, true);
    assert.deepEqual(
      map.latin1Entries(),
      [
        [":path", "/"],
        ["a", "\xffA"],
        ["x-new", "\xffA"],
      ],
      "edits in place, names lower-cased, the caller's later changes not seen",
    );
    const copy = HeaderMap.from(HeaderMap.fromLatin1([["a", "\xff"]]));
    assert.deepEqual([...copy.values[0]!], [0xff], "a copy keeps the latin1 encoding");
    assert.equal(copy.modified, false);
    assert.deepEqual(
      HeaderMap.from([["b", "\xe9"]]).latin1Entries(),
      [["b", "\xc3\xa9"]],
      "UTF-8 text as bytes",
    );
  },
);

test(
  "a latin1 view edits the embedder's own list, sees its later edits, and copies back after a detach",
  opts,
  async () => {
    const t = await startAbiHarness();
    const stream = t.harness.http().stream;
    const list: Array<[string, string]> = [
      [":path", "/"],
      ["keep", "k"],
      ["old", "o"],
    ];
    const keep = list[1];
    stream.requestHeaders(HeaderMap.latin1View(list));
    const map = stream.request.headers!;
    assert.equal(map, stream.request.headers, "the stream keeps the given map");
    t.inContext(stream, () => {
      const [o, ol] = t.put("OLD");
      assert.equal(t.call("proxy_remove_header_map_value", 0, o, ol), Status.Ok);
      const [n, nl] = t.put("New");
      const [v, vl] = t.put(new Uint8Array([0xe9]));
      assert.equal(t.call("proxy_add_header_map_value", 0, n, nl, v, vl), Status.Ok);
    });
    assert.deepEqual(list, [
      [":path", "/"],
      ["keep", "k"],
      ["new", "\xe9"],
    ]);
    assert.equal(list[1], keep, "untouched pairs stay the same objects");
    // The data plane edits its list after the callback (as Envoy's router does); the plugin reads that.
    list.push(["x-later", "1"]);
    t.inContext(stream, () => {
      const [k, kl] = t.put("x-later");
      const pp = t.out();
      const sp = t.out();
      assert.equal(t.call("proxy_get_header_map_value", 0, k, kl, pp, sp), Status.Ok);
      assert.deepEqual([...t.returned(pp, sp)], [0x31]);
      // Replacing the whole map detaches it from the list...
      const pairs = HeaderMap.from([["only", "one"]]).serialize();
      const [p, pl] = t.put(pairs);
      assert.equal(t.call("proxy_set_header_map_pairs", 0, p, pl), Status.Ok);
    });
    assert.equal(list.length, 4, "a detached map leaves the list alone");
    // ...and copyLatin1Into writes the result back.
    map.copyLatin1Into(list);
    assert.deepEqual(list, [["only", "one"]]);
  },
);

test("proxy_get_header_map_pairs / _size: the spec serialization, byte-exact", opts, async () => {
  const { t, run } = await withRequest([
    ["a", "1"],
    ["b", "22"],
    ["a", "x"],
  ]);
  const expected = serializePairs([
    ["a", "1"],
    ["b", "22"],
    ["a", "x"],
  ]);
  run(() => {
    const pp = t.out();
    const sp = t.out();
    assert.equal(t.call("proxy_get_header_map_pairs", 0, pp, sp), Status.Ok);
    assert.deepEqual([...t.returned(pp, sp)], [...expected]);
    const size = t.out();
    assert.equal(t.call("proxy_get_header_map_size", 0, size), Status.Ok);
    assert.equal(t.u32(size), expected.length);
    assert.equal(t.call("proxy_get_header_map_pairs", 8, pp, sp), Status.BadArgument);
    assert.equal(
      t.call("proxy_get_header_map_pairs", MapType.HttpCallResponseHeaders, pp, sp),
      Status.BadArgument,
    );
    assert.equal(t.call("proxy_get_header_map_pairs", 0, t.badPointer, sp), Status.InvalidMemoryAccess);
    assert.equal(t.call("proxy_get_header_map_size", 8, size), Status.BadArgument);
    assert.equal(t.call("proxy_get_header_map_size", 3, size), Status.BadArgument);
    assert.equal(t.call("proxy_get_header_map_size", 0, t.badPointer), Status.InvalidMemoryAccess);
  });
  // 4 + 3*8 + (1+1+1+1) + (1+1+2+1) + (1+1+1+1)
  assert.equal(expected.length, 41);
});

test(
  "proxy_set_header_map_pairs: replaces the map; malformed is BAD_ARGUMENT; empty forms",
  opts,
  async () => {
    const { t, http, run } = await withRequest([["old", "1"]]);
    run(() => {
      const [p, n] = t.put(
        serializePairs([
          ["X-New", "v"],
          [":path", "/p"],
        ]),
      );
      assert.equal(t.call("proxy_set_header_map_pairs", 0, p, n), Status.Ok);
      assert.deepEqual(http.requestHeadersList, [
        ["x-new", "v"],
        [":path", "/p"],
      ]);
      const truncated = t.put(serializePairs([["k", "v"]]).subarray(0, 10));
      assert.equal(t.call("proxy_set_header_map_pairs", 0, ...truncated), Status.BadArgument);
      const hugeCount = t.put(new Uint8Array([0xff, 0xff, 0xff, 0x7f]));
      assert.equal(t.call("proxy_set_header_map_pairs", 0, ...hugeCount), Status.BadArgument);
      assert.equal(t.call("proxy_set_header_map_pairs", 8, p, n), Status.BadArgument);
      assert.equal(t.call("proxy_set_header_map_pairs", 0, t.badPointer, 8), Status.InvalidMemoryAccess);
      const zero = t.put(new Uint8Array([0]));
      assert.equal(t.call("proxy_set_header_map_pairs", 0, ...zero), Status.Ok);
      assert.deepEqual(http.requestHeadersList, []);
    });
    assert.deepEqual(parsePairs(new Uint8Array(0)), []);
  },
);

test("trailers can be added from the last body callback only", opts, async () => {
  const { t, http } = await withRequest([[":path", "/"]]);
  const [k, kl] = t.put("grpc-status");
  const [v, vl] = t.put("0");
  t.inContext(http.stream, () => {
    assert.equal(
      t.call("proxy_add_header_map_value", MapType.HttpRequestTrailers, k, kl, v, vl),
      Status.BadArgument,
    );
  });
  http.stream.request.inEndingBodyCallback = true;
  t.inContext(http.stream, () => {
    assert.equal(t.call("proxy_add_header_map_value", MapType.HttpRequestTrailers, k, kl, v, vl), Status.Ok);
  });
  http.stream.request.inEndingBodyCallback = false;
  assert.deepEqual(http.requestTrailersList, [["grpc-status", "0"]]);
});

test(
  "proxy_get_buffer_bytes: slices, clamps, NOT_FOUND, BAD_ARGUMENT, INVALID_MEMORY_ACCESS",
  opts,
  async () => {
    const t = await startAbiHarness();
    const http = t.harness.http();
    const run = <T>(fn: () => T) => t.inContext(http.stream, fn);
    t.hold(0);
    http.requestHeaders([[":path", "/"]]);
    run(() => {
      assert.equal(
        t.call("proxy_get_buffer_bytes", BufferType.HttpRequestBody, 0, 10, t.out(), t.out()),
        Status.NotFound,
        "no body yet",
      );
    });
    t.hold(1);
    http.requestBody("0123456789", false);
    http.requestBody("abc", false);
    assert.equal(dec(http.stream.request.body.bytes), "0123456789abc", "held chunks accumulate");
    run(() => {
      const pp = t.out();
      const sp = t.out();
      assert.equal(t.call("proxy_get_buffer_bytes", 0, 11, 2, pp, sp), Status.Ok);
      assert.equal(t.text(pp, sp), "bc");
      assert.equal(
        t.call("proxy_get_buffer_bytes", 0, 1, -1, pp, sp),
        Status.BadArgument,
        "start + max_size overflows",
      );
      assert.equal(t.call("proxy_get_buffer_bytes", 0, 12, 100, pp, sp), Status.Ok);
      assert.equal(t.text(pp, sp), "c", "clamped to the buffer");
      assert.equal(t.call("proxy_get_buffer_bytes", 0, 13, 5, pp, sp), Status.Ok);
      assert.equal(t.u32(sp), 0);
      assert.equal(
        t.call("proxy_get_buffer_bytes", 0, 14, 1, pp, sp),
        Status.BadArgument,
        "start past the end",
      );
      assert.equal(t.call("proxy_get_buffer_bytes", 9, 0, 1, pp, sp), Status.BadArgument);
      assert.equal(t.call("proxy_get_buffer_bytes", BufferType.UpstreamData, 0, 1, pp, sp), Status.NotFound);
      assert.equal(
        t.call("proxy_get_buffer_bytes", BufferType.VmConfiguration, 0, 1, pp, sp),
        Status.NotFound,
      );
      const before = t.mallocCount();
      assert.equal(t.call("proxy_get_buffer_bytes", 0, 0, 3, t.badPointer, sp), Status.InvalidMemoryAccess);
      assert.equal(t.mallocCount(), before, "no guest allocation leaked for a bad out-pointer");
    });
  },
);

test(
  "proxy_set_buffer_bytes: prepend, append, inject, replace; read-only and missing buffers",
  opts,
  async () => {
    const { t, http, run } = await withBody("hello");
    const body = () => dec(http.stream.request.body.bytes);
    run(() => {
      const [x, xl] = t.put(">");
      assert.equal(t.call("proxy_set_buffer_bytes", 0, 0, 0, x, xl), Status.Ok);
      assert.equal(body(), ">hello");
      const [y, yl] = t.put("<");
      assert.equal(
        t.call("proxy_set_buffer_bytes", 0, -1, -1, y, yl),
        Status.Ok,
        "append with size_t max start",
      );
      assert.equal(body(), ">hello<");
      const [z, zl] = t.put("J");
      assert.equal(t.call("proxy_set_buffer_bytes", 0, 1, 5, z, zl), Status.Ok);
      assert.equal(body(), ">J<");
      const [w, wl] = t.put("all");
      assert.equal(t.call("proxy_set_buffer_bytes", 0, 0, 100, w, wl), Status.Ok);
      assert.equal(body(), "all");
      assert.equal(t.call("proxy_set_buffer_bytes", 9, 0, 0, w, wl), Status.BadArgument);
      assert.equal(
        t.call("proxy_set_buffer_bytes", BufferType.HttpResponseBody, 0, 0, w, wl),
        Status.NotFound,
      );
      assert.equal(t.call("proxy_set_buffer_bytes", 0, 0, 0, t.badPointer, 1), Status.InvalidMemoryAccess);
    });
    t.vm.callbackBuffers[BufferType.HttpCallResponseBody] = new ByteBuffer(new Uint8Array([1]), false);
    run(() => {
      const [w, wl] = t.put("no");
      assert.equal(
        t.call("proxy_set_buffer_bytes", BufferType.HttpCallResponseBody, 0, 0, w, wl),
        Status.BadArgument,
      );
    });
    t.vm.callbackBuffers[BufferType.HttpCallResponseBody] = null;
  },
);

test("a body chunk given as a Node Buffer is copied: the embedder may reuse its memory", opts, async () => {
  const t = await startAbiHarness();
  const http = t.harness.http();
  t.hold(0);
  http.requestHeaders([[":path", "/"]]);
  t.hold(1);
  const chunk = Buffer.from("0123456789");
  http.requestBody(chunk, false);
  chunk.fill(0x78);
  assert.equal(dec(http.stream.request.body.bytes), "0123456789");
});

test("proxy_get_buffer_status: size; NOT_FOUND; BAD_ARGUMENT; INVALID_MEMORY_ACCESS", opts, async () => {
  const { t, run } = await withBody("four");
  run(() => {
    const size = t.out();
    const flags = t.out();
    assert.equal(t.call("proxy_get_buffer_status", 0, size, flags), Status.Ok);
    assert.equal(t.u32(size), 4);
    assert.equal(t.call("proxy_get_buffer_status", 1, size, flags), Status.NotFound);
    assert.equal(t.call("proxy_get_buffer_status", 10, size, flags), Status.BadArgument);
    assert.equal(t.call("proxy_get_buffer_status", 0, t.badPointer, flags), Status.InvalidMemoryAccess);
    assert.equal(t.call("proxy_get_buffer_status", 0, size, t.badPointer), Status.InvalidMemoryAccess);
  });
});

describe("HeaderMap.getAll: every value of a name, in order, the name in any case", () => {
  const bytes = (map: HeaderMap, name: string) => map.getAll(new TextEncoder().encode(name)).map(dec);

  test("a map of byte arrays", () => {
    const map = HeaderMap.from([
      ["Accept", "a"],
      ["x", "1"],
      ["accept", new Uint8Array([0x62])],
    ]);
    assert.deepEqual(bytes(map, "ACCEPT"), ["a", "b"]);
  });

  test("an absent name has none", () => {
    assert.deepEqual(bytes(HeaderMap.from([["a", "1"]]), "b"), []);
  });

  test("a latin1 view is read in place and stays attached to the embedder's list", () => {
    const list: Array<[string, string]> = [
      ["accept", "a"],
      ["accept", "\xe9"],
    ];
    const map = HeaderMap.latin1View(list);
    assert.deepEqual(
      map.getAll(new TextEncoder().encode("Accept")).map((v) => [...v]),
      [[0x61], [0xe9]],
    );
    map.add(new TextEncoder().encode("x"), new Uint8Array([0x31]));
    assert.deepEqual(list.at(-1), ["x", "1"], "later edits still land in the list");
  });
});
