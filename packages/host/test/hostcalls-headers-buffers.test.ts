/** Success and error paths of the header-map and buffer hostcalls, driven through real Wasm. */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { ByteBuffer } from "../src/byte-buffer.ts";
import { HeaderMap } from "../src/header-map.ts";
import { parsePairs, serializePairs } from "../src/pairs.ts";
import { BufferType, MapType, Status } from "../src/types.ts";
import { type AbiHarness, startAbiHarness } from "./support/abi-module.ts";
import { shared } from "./support/shared-setup.ts";

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

describe("proxy_get_header_map_value", opts, () => {
  const s = shared(() =>
    withRequest([
      [":path", "/a"],
      ["Set-Cookie", "a=1"],
      ["set-cookie", "b=2"],
    ]),
  );

  test("the first value, the name in any case", () =>
    s.run(() =>
      assert.deepEqual(getValue(s.t, MapType.HttpRequestHeaders, "SET-COOKIE"), {
        status: Status.Ok,
        value: "a=1",
      }),
    ));

  test("NOT_FOUND for a missing name", () =>
    s.run(() =>
      assert.deepEqual(getValue(s.t, MapType.HttpRequestHeaders, "missing"), { status: Status.NotFound }),
    ));

  test("BAD_ARGUMENT for an unknown map type", () =>
    s.run(() => assert.equal(getValue(s.t, 8, ":path").status, Status.BadArgument)));

  test("BAD_ARGUMENT for a map not available yet", () =>
    s.run(() =>
      assert.equal(getValue(s.t, MapType.HttpResponseHeaders, ":status").status, Status.BadArgument),
    ));

  test("INVALID_MEMORY_ACCESS for a key out of bounds", () =>
    s.run(() =>
      assert.equal(
        s.t.call("proxy_get_header_map_value", 0, s.t.badPointer, 4, s.t.out(), s.t.out()),
        Status.InvalidMemoryAccess,
      ),
    ));

  test("INVALID_MEMORY_ACCESS for an out-pointer out of bounds", () =>
    s.run(() => {
      const [k, kl] = s.t.put(":path");
      assert.equal(
        s.t.call("proxy_get_header_map_value", 0, k, kl, s.t.badPointer, s.t.out()),
        Status.InvalidMemoryAccess,
      );
    }));

  test("INVALID_MEMORY_ACCESS for a key length of -1 (read as u32)", () =>
    s.run(() => {
      const [k] = s.t.put(":path");
      assert.equal(
        s.t.call("proxy_get_header_map_value", 0, k, -1, s.t.out(), s.t.out()),
        Status.InvalidMemoryAccess,
      );
    }));

  test("on an ABI v0.1.0 module: a missing header is OK and empty", async () => {
    const t = await startAbiHarness({ abi: "0.1.0" });
    const http = t.harness.http();
    http.requestHeaders([[":path", "/"]]);
    t.inContext(http.stream, () =>
      assert.deepEqual(getValue(t, 0, "nope"), { status: Status.Ok, value: "" }),
    );
  });
});

describe("proxy_add/replace/remove_header_map_value", opts, () => {
  const s = shared(() =>
    withRequest([
      [":path", "/"],
      ["a", "1"],
      ["b", "2"],
      ["a", "3"],
    ]),
  );
  const put = (data: Uint8Array | string) => s.t.put(data);

  test("add, replace and remove: OK", () =>
    s.run(() => {
      const [ka, kal] = put("A");
      const [v, vl] = put(new Uint8Array([0xff, 0x00, 0x41]));
      assert.equal(s.t.call("proxy_add_header_map_value", 0, ka, kal, v, vl), Status.Ok);
      const [r, rl] = put("r");
      assert.equal(s.t.call("proxy_replace_header_map_value", 0, ka, kal, r, rl), Status.Ok);
      const [kb, kbl] = put("b");
      assert.equal(s.t.call("proxy_remove_header_map_value", 0, kb, kbl), Status.Ok);
    }));

  test("removing a missing key is OK", () =>
    s.run(() => {
      const [kz, kzl] = put("zz");
      assert.equal(s.t.call("proxy_remove_header_map_value", 0, kz, kzl), Status.Ok);
    }));

  test("replace adds when absent", () =>
    s.run(() => {
      const [kz, kzl] = put("zz");
      const [r, rl] = put("r");
      assert.equal(s.t.call("proxy_replace_header_map_value", 0, kz, kzl, r, rl), Status.Ok);
    }));

  for (const fn of ["proxy_add_header_map_value", "proxy_replace_header_map_value"]) {
    describe(fn, () => {
      test("BAD_ARGUMENT for an unknown map type", () =>
        s.run(() => {
          const [ka, kal] = put("A");
          const [r, rl] = put("r");
          assert.equal(s.t.call(fn, 9, ka, kal, r, rl), Status.BadArgument);
        }));

      test("BAD_ARGUMENT for a map not available (response trailers)", () =>
        s.run(() => {
          const [ka, kal] = put("A");
          const [r, rl] = put("r");
          assert.equal(s.t.call(fn, MapType.HttpResponseTrailers, ka, kal, r, rl), Status.BadArgument);
        }));

      test("INVALID_MEMORY_ACCESS for a key out of bounds", () =>
        s.run(() => {
          const [r, rl] = put("r");
          assert.equal(s.t.call(fn, 0, s.t.badPointer, 1, r, rl), Status.InvalidMemoryAccess);
        }));

      test("INVALID_MEMORY_ACCESS for a value past the end of memory", () =>
        s.run(() => {
          const [ka, kal] = put("A");
          const [r] = put("r");
          assert.equal(s.t.call(fn, 0, ka, kal, r, 0x7fffffff), Status.InvalidMemoryAccess);
        }));
    });
  }

  describe("proxy_remove_header_map_value", () => {
    test("BAD_ARGUMENT for an unknown map type", () =>
      s.run(() => {
        const [ka, kal] = put("A");
        assert.equal(s.t.call("proxy_remove_header_map_value", 9, ka, kal), Status.BadArgument);
      }));

    test("INVALID_MEMORY_ACCESS for a key out of bounds", () =>
      s.run(() =>
        assert.equal(
          s.t.call("proxy_remove_header_map_value", 0, s.t.badPointer, 2),
          Status.InvalidMemoryAccess,
        ),
      ));
  });

  test("the map: ordered byte pairs; replace kept the first position and dropped duplicates; remove dropped b", () => {
    const headers = s.http.stream.request.headers!;
    assert.deepEqual(headers.names.map(dec), [":path", "a", "zz"]);
    assert.equal(dec(headers.values[1]!), "r");
  });
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

describe("proxy_get_header_map_pairs / _size", opts, () => {
  const s = shared(() =>
    withRequest([
      ["a", "1"],
      ["b", "22"],
      ["a", "x"],
    ]),
  );
  const expected = serializePairs([
    ["a", "1"],
    ["b", "22"],
    ["a", "x"],
  ]);

  test("the spec serialization, byte-exact", () => {
    // 4 + 3*8 + (1+1+1+1) + (1+1+2+1) + (1+1+1+1)
    assert.equal(expected.length, 41);
    s.run(() => {
      const pp = s.t.out();
      const sp = s.t.out();
      assert.equal(s.t.call("proxy_get_header_map_pairs", 0, pp, sp), Status.Ok);
      assert.deepEqual([...s.t.returned(pp, sp)], [...expected]);
    });
  });

  test("_size: the serialization's length", () =>
    s.run(() => {
      const size = s.t.out();
      assert.equal(s.t.call("proxy_get_header_map_size", 0, size), Status.Ok);
      assert.equal(s.t.u32(size), expected.length);
    }));

  test("BAD_ARGUMENT for an unknown map type", () =>
    s.run(() => {
      assert.equal(s.t.call("proxy_get_header_map_pairs", 8, s.t.out(), s.t.out()), Status.BadArgument);
      assert.equal(s.t.call("proxy_get_header_map_size", 8, s.t.out()), Status.BadArgument);
    }));

  test("BAD_ARGUMENT for a map not available (callout response headers, response trailers)", () =>
    s.run(() => {
      assert.equal(
        s.t.call("proxy_get_header_map_pairs", MapType.HttpCallResponseHeaders, s.t.out(), s.t.out()),
        Status.BadArgument,
      );
      assert.equal(s.t.call("proxy_get_header_map_size", 3, s.t.out()), Status.BadArgument);
    }));

  test("INVALID_MEMORY_ACCESS for an out-pointer out of bounds", () =>
    s.run(() => {
      assert.equal(
        s.t.call("proxy_get_header_map_pairs", 0, s.t.badPointer, s.t.out()),
        Status.InvalidMemoryAccess,
      );
      assert.equal(s.t.call("proxy_get_header_map_size", 0, s.t.badPointer), Status.InvalidMemoryAccess);
    }));
});

describe("proxy_set_header_map_pairs", opts, () => {
  const s = shared(() => withRequest([["old", "1"]]));

  test("replaces the map", () =>
    s.run(() => {
      const [p, n] = s.t.put(
        serializePairs([
          ["X-New", "v"],
          [":path", "/p"],
        ]),
      );
      assert.equal(s.t.call("proxy_set_header_map_pairs", 0, p, n), Status.Ok);
      assert.deepEqual(s.http.requestHeadersList, [
        ["x-new", "v"],
        [":path", "/p"],
      ]);
    }));

  test("BAD_ARGUMENT for truncated pairs", () =>
    s.run(() => {
      const truncated = s.t.put(serializePairs([["k", "v"]]).subarray(0, 10));
      assert.equal(s.t.call("proxy_set_header_map_pairs", 0, ...truncated), Status.BadArgument);
    }));

  test("BAD_ARGUMENT for a count beyond the data", () =>
    s.run(() => {
      const hugeCount = s.t.put(new Uint8Array([0xff, 0xff, 0xff, 0x7f]));
      assert.equal(s.t.call("proxy_set_header_map_pairs", 0, ...hugeCount), Status.BadArgument);
    }));

  test("BAD_ARGUMENT for an unknown map type", () =>
    s.run(() => {
      const [p, n] = s.t.put(serializePairs([["k", "v"]]));
      assert.equal(s.t.call("proxy_set_header_map_pairs", 8, p, n), Status.BadArgument);
    }));

  test("INVALID_MEMORY_ACCESS for pairs out of bounds", () =>
    s.run(() =>
      assert.equal(s.t.call("proxy_set_header_map_pairs", 0, s.t.badPointer, 8), Status.InvalidMemoryAccess),
    ));

  test("a single 0 byte is the empty map", () =>
    s.run(() => {
      const zero = s.t.put(new Uint8Array([0]));
      assert.equal(s.t.call("proxy_set_header_map_pairs", 0, ...zero), Status.Ok);
      assert.deepEqual(s.http.requestHeadersList, []);
    }));

  test("no bytes at all parse as the empty map", () => assert.deepEqual(parsePairs(new Uint8Array(0)), []));
});

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

describe("proxy_get_buffer_bytes", opts, () => {
  const s = shared(async () => {
    const t = await startAbiHarness();
    const http = t.harness.http();
    t.hold(0);
    http.requestHeaders([[":path", "/"]]);
    return { t, http, run: <T>(fn: () => T) => t.inContext(http.stream, fn) };
  });
  const get = (type: number, start: number, size: number, pp = s.t.out(), sp = s.t.out()) =>
    s.t.call("proxy_get_buffer_bytes", type, start, size, pp, sp);

  test("NOT_FOUND before the body arrives", () =>
    s.run(() => assert.equal(get(BufferType.HttpRequestBody, 0, 10), Status.NotFound)));

  test("held chunks accumulate", () => {
    s.t.hold(1);
    s.http.requestBody("0123456789", false);
    s.http.requestBody("abc", false);
    assert.equal(dec(s.http.stream.request.body.bytes), "0123456789abc");
  });

  test("a slice", () =>
    s.run(() => {
      const pp = s.t.out();
      const sp = s.t.out();
      assert.equal(get(0, 11, 2, pp, sp), Status.Ok);
      assert.equal(s.t.text(pp, sp), "bc");
    }));

  test("BAD_ARGUMENT when start + max_size overflows", () =>
    s.run(() => assert.equal(get(0, 1, -1), Status.BadArgument)));

  test("clamped to the buffer", () =>
    s.run(() => {
      const pp = s.t.out();
      const sp = s.t.out();
      assert.equal(get(0, 12, 100, pp, sp), Status.Ok);
      assert.equal(s.t.text(pp, sp), "c");
    }));

  test("empty at the end", () =>
    s.run(() => {
      const pp = s.t.out();
      const sp = s.t.out();
      assert.equal(get(0, 13, 5, pp, sp), Status.Ok);
      assert.equal(s.t.u32(sp), 0);
    }));

  test("BAD_ARGUMENT for a start past the end", () =>
    s.run(() => assert.equal(get(0, 14, 1), Status.BadArgument)));

  test("BAD_ARGUMENT for an unknown buffer type", () =>
    s.run(() => assert.equal(get(9, 0, 1), Status.BadArgument)));

  test("NOT_FOUND for a buffer this context does not have (upstream data, VM configuration)", () =>
    s.run(() => {
      assert.equal(get(BufferType.UpstreamData, 0, 1), Status.NotFound);
      assert.equal(get(BufferType.VmConfiguration, 0, 1), Status.NotFound);
    }));

  test("INVALID_MEMORY_ACCESS for an out-pointer out of bounds, without leaking a guest allocation", () =>
    s.run(() => {
      const before = s.t.mallocCount();
      assert.equal(get(0, 0, 3, s.t.badPointer), Status.InvalidMemoryAccess);
      assert.equal(s.t.mallocCount(), before);
    }));
});

describe("proxy_set_buffer_bytes", opts, () => {
  const s = shared(() => withBody("hello"));
  const body = () => dec(s.http.stream.request.body.bytes);
  const set = (type: number, start: number, size: number, data: string) => {
    const [p, n] = s.t.put(data);
    return s.t.call("proxy_set_buffer_bytes", type, start, size, p, n);
  };

  test("prepend", () =>
    s.run(() => {
      assert.equal(set(0, 0, 0, ">"), Status.Ok);
      assert.equal(body(), ">hello");
    }));

  test("append, with size_t max as start", () =>
    s.run(() => {
      assert.equal(set(0, -1, -1, "<"), Status.Ok);
      assert.equal(body(), ">hello<");
    }));

  test("inject in place of a range", () =>
    s.run(() => {
      assert.equal(set(0, 1, 5, "J"), Status.Ok);
      assert.equal(body(), ">J<");
    }));

  test("replace the whole buffer", () =>
    s.run(() => {
      assert.equal(set(0, 0, 100, "all"), Status.Ok);
      assert.equal(body(), "all");
    }));

  test("BAD_ARGUMENT for an unknown buffer type", () =>
    s.run(() => assert.equal(set(9, 0, 0, "all"), Status.BadArgument)));

  test("NOT_FOUND for a buffer not available (response body)", () =>
    s.run(() => assert.equal(set(BufferType.HttpResponseBody, 0, 0, "all"), Status.NotFound)));

  test("INVALID_MEMORY_ACCESS for data out of bounds", () =>
    s.run(() =>
      assert.equal(
        s.t.call("proxy_set_buffer_bytes", 0, 0, 0, s.t.badPointer, 1),
        Status.InvalidMemoryAccess,
      ),
    ));

  test("BAD_ARGUMENT for a read-only buffer (callout response body)", () => {
    s.t.vm.callbackBuffers[BufferType.HttpCallResponseBody] = new ByteBuffer(new Uint8Array([1]), false);
    try {
      s.run(() => assert.equal(set(BufferType.HttpCallResponseBody, 0, 0, "no"), Status.BadArgument));
    } finally {
      s.t.vm.callbackBuffers[BufferType.HttpCallResponseBody] = null;
    }
  });
});

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

describe("proxy_get_buffer_status", opts, () => {
  const s = shared(() => withBody("four"));
  const status = (type: number, size = s.t.out(), flags = s.t.out()) =>
    s.t.call("proxy_get_buffer_status", type, size, flags);

  test("the buffer's size", () =>
    s.run(() => {
      const size = s.t.out();
      assert.equal(status(0, size), Status.Ok);
      assert.equal(s.t.u32(size), 4);
    }));

  test("NOT_FOUND for a buffer not available (response body)", () =>
    s.run(() => assert.equal(status(1), Status.NotFound)));

  test("BAD_ARGUMENT for an unknown buffer type", () =>
    s.run(() => assert.equal(status(10), Status.BadArgument)));

  test("INVALID_MEMORY_ACCESS for a size pointer out of bounds", () =>
    s.run(() => assert.equal(status(0, s.t.badPointer), Status.InvalidMemoryAccess)));

  test("INVALID_MEMORY_ACCESS for a flags pointer out of bounds", () =>
    s.run(() => assert.equal(status(0, s.t.out(), s.t.badPointer), Status.InvalidMemoryAccess)));
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

test("HeaderMap from strings: a lookup before the entries are encoded matches any case and encodes the value as UTF-8", () => {
  const utf8 = (text: string) => new TextEncoder().encode(text);
  const map = HeaderMap.from([
    ["Content-Type", "text/plain; charset=é"],
    [":status", "200"],
  ]);
  assert.deepEqual(map.get(utf8("CONTENT-type")), utf8("text/plain; charset=é"));
  const memory = utf8("..:status..");
  assert.deepEqual(map.getAt(memory, 2, 7), utf8("200"));
  assert.equal(map.get(utf8("missing")), undefined);
  // The map is still whole afterwards: names lower-cased, every entry there.
  assert.deepEqual(
    map.names.map((n) => new TextDecoder().decode(n)),
    ["content-type", ":status"],
  );
  // A non-ASCII name (UTF-8 longer than its string) is still found through the encoded entries.
  assert.deepEqual(HeaderMap.from([["x-é", "v"]]).get(utf8("x-é")), utf8("v"));
});

test("HeaderMap from strings: edits before the entries are encoded act as on bytes, and leave copies and the input alone", () => {
  const utf8 = (text: string) => new TextEncoder().encode(text);
  const input: Array<[string, string]> = [
    ["Content-Type", "text/plain"],
    ["X-A", "1"],
    ["x-b", "2"],
    ["x-a", "3"],
  ];
  const map = HeaderMap.from(input);
  const copy = HeaderMap.from(map);
  map.remove(utf8("x-A"));
  map.replace(utf8("X-B"), utf8("two"));
  map.add(utf8("X-C"), new Uint8Array([0xe9]));
  assert.deepEqual(
    map.pairs().map(([n, v]) => [new TextDecoder().decode(n), [...v]]),
    [
      ["content-type", [...utf8("text/plain")]],
      ["x-b", [...utf8("two")]],
      ["x-c", [0xe9]],
    ],
    "names lower-cased, the byte value kept as given",
  );
  assert.equal(map.modified, true);
  assert.deepEqual(copy.toStrings(), [
    ["content-type", "text/plain"],
    ["x-a", "1"],
    ["x-b", "2"],
    ["x-a", "3"],
  ]);
  assert.deepEqual(input[1], ["X-A", "1"]);
  assert.equal(input.length, 4);
  // A value that is not ASCII is encoded as UTF-8 before the edit, so its bytes stay UTF-8.
  const wide = HeaderMap.from([["x-name", "é"]]);
  wide.add(utf8("x-more"), utf8("v"));
  assert.deepEqual(wide.toStrings(), [
    ["x-name", "é"],
    ["x-more", "v"],
  ]);
});
