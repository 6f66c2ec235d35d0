import assert from "node:assert/strict";
import { before, describe, test } from "node:test";
import { startPlugin } from "@proxy-wasm-ts/host/testing";
import { buildFixture } from "./support/fixture-build.ts";

let wasm: Uint8Array;
before(async () => {
  wasm = await buildFixture("misc");
});

const POST: Array<[string, string]> = [
  [":method", "POST"],
  [":path", "/events"],
  [":authority", "api.local"],
];

test("root ids pick the registered factory; an unknown root id rejects the configuration", {
  timeout: 60_000,
}, async () => {
  const second = await startPlugin(wasm, { rootId: "second" });
  const http = second.http();
  http.requestHeaders(POST, true);
  assert.equal(http.requestHeader("x-root"), "second");
  http.complete();
  await assert.rejects(startPlugin(wasm, { rootId: "third" }));
});

test("JSON: configuration and request body parsed, response written with a reset JsonWriter", {
  timeout: 60_000,
}, async () => {
  const plugin = await startPlugin(wasm, { rootId: "json", configuration: '{"greeting": "hi \\"there\\""}' });
  const http = plugin.http();
  http.requestHeaders(POST, false);
  http.requestBody('{"name": "caf\\u00e9\\n", "count": 21, "tags": ["a", "b"], "flag": true', false);
  http.requestBody("}", true);
  assert.equal(http.localReply?.statusCode, 200);
  const body = JSON.parse(http.localReplyBodyText ?? "");
  assert.deepEqual(body, {
    greeting: 'hi "there"',
    name: "café\n",
    count: 42,
    tagCount: 2,
    nested: [true, null, {}],
  });
  http.complete();
});

test("JSON: a 64 Ki-character string full of escapes and an 8,000-member object build in bounded memory", {
  timeout: 60_000,
}, async () => {
  const plugin = await startPlugin(wasm, { rootId: "json" });
  const pagesBefore = plugin.plugin.vm.memory.buffer.byteLength / 65536;
  const http = plugin.http();
  http.requestHeaders([...POST, ["x-json-large", "1"]], true);
  const pages = plugin.plugin.vm.memory.buffer.byteLength / 65536;
  assert.equal(plugin.plugin.failed, false);
  // 32 pages here; building by string joins (quadratic at shrinkLevel 2) reached 16,384 and trapped.
  assert.ok(pages < 64, `guest memory grew from ${pagesBefore} to ${pages} pages`);
  assert.equal(http.localReply?.statusCode, 200);
  const text = '"\\\n\x01é\u{1F600}/'.repeat(8192);
  const members: Record<string, number> = {};
  for (let i = 0; i < 8000; i++) members[`${i}`] = i;
  assert.deepEqual(JSON.parse(http.localReplyBodyText ?? ""), {
    text,
    quoted: text,
    // Two units later, surrogate pairs straddle the writer's 1,024-unit encoding blocks.
    shifted: `xx${text.slice(0, 4096)}`,
    lone: "\uD800x",
    members,
  });
  http.complete();
});

test("JSON: a body with a 64 Ki-character string full of escapes and 8,000 items parses in bounded memory", {
  timeout: 60_000,
}, async () => {
  const plugin = await startPlugin(wasm, { rootId: "json" });
  const name = '"\\\n\x01é\u{1F600}/'.repeat(8192);
  const tags = Array.from({ length: 8000 }, (_, i) => `t${i}`);
  const http = plugin.http();
  http.requestHeaders(POST, false);
  http.requestBody(JSON.stringify({ name, count: 1, tags }), true);
  const pages = plugin.plugin.vm.memory.buffer.byteLength / 65536;
  assert.equal(plugin.plugin.failed, false);
  assert.ok(pages < 64, `guest memory grew to ${pages} pages`);
  const body = JSON.parse(http.localReplyBodyText ?? "");
  assert.equal(body.name, name);
  assert.equal(body.tagCount, 8000);
  http.complete();
});

test("JSON: malformed input is rejected with null, never a trap", { timeout: 60_000 }, async () => {
  const plugin = await startPlugin(wasm, { rootId: "json" });
  for (const bad of ['{"a": }', "[1, 2", '{"a": "unterminated', "1 2", "[".repeat(500), '{"a": 01}', "nul"]) {
    const http = plugin.http();
    http.requestHeaders(POST, false);
    http.requestBody(bad, true);
    assert.equal(http.localReply?.statusCode, 400, `input ${JSON.stringify(bad.slice(0, 20))}`);
    http.complete();
  }
  assert.equal(plugin.plugin.failed, false);
  await assert.rejects(startPlugin(wasm, { rootId: "json", configuration: "not json" }));
});

describe("JsonWriter.utf8String and isValidUtf8 (raw UTF-8 bytes, hostile input included)", () => {
  const lenient = new TextDecoder("utf-8");
  const strict = new TextDecoder("utf-8", { fatal: true });
  const bytes = (...parts: Array<string | number[]>): Uint8Array =>
    Buffer.concat(parts.map((p) => (typeof p === "string" ? Buffer.from(p, "utf8") : Buffer.from(p))));
  const isValid = (b: Uint8Array): boolean => {
    try {
      strict.decode(b);
      return true;
    } catch {
      return false;
    }
  };

  let plugin: Awaited<ReturnType<typeof startPlugin>>;
  before(async () => {
    plugin = await startPlugin(wasm, { rootId: "utf8" });
  });

  /** Sends `body` through the "utf8" root; returns the reply's raw bytes. */
  async function echo(body: Uint8Array): Promise<Uint8Array> {
    const http = plugin.http();
    http.requestHeaders(POST, false);
    http.requestBody(body, true);
    assert.equal(plugin.plugin.failed, false);
    assert.equal(http.localReply?.statusCode, 200);
    const reply = http.localReply!.body;
    http.complete();
    return reply;
  }

  /** Checks the reply for `body` against TextDecoder (U+FFFD per maximal subpart) and its strict mode. */
  async function check(body: Uint8Array, label: string): Promise<Uint8Array> {
    const reply = await echo(body);
    assert.ok(isValid(reply), `${label}: the JSON itself is valid UTF-8`);
    const parsed = JSON.parse(strict.decode(reply));
    const inner = body.length >= 2 ? body.subarray(1, body.length - 1) : body.subarray(0, 0);
    assert.deepEqual(
      parsed,
      {
        buffer: lenient.decode(body),
        view: lenient.decode(inner),
        valid: isValid(body),
        viewValid: isValid(inner),
        after: ["", "ok"],
        nullable: lenient.decode(body),
        nullableValid: isValid(body),
        none: null,
        noneValid: false,
      },
      label,
    );
    return reply;
  }

  test("quotes, backslashes and every control character are escaped as string() escapes them", async () => {
    const controls = Array.from({ length: 32 }, (_, i) => i);
    const body = bytes('<a"b\\c/', controls, [0x7f], "é>");
    const reply = strict.decode(await check(body, "controls"));
    const escapes = controls
      .map((c) =>
        c === 9 ? "\\t" : c === 10 ? "\\n" : c === 13 ? "\\r" : `\\u${c.toString(16).padStart(4, "0")}`,
      )
      .join("");
    assert.ok(reply.startsWith(`{"buffer":"<a\\"b\\\\c/${escapes}\x7fé>"`), reply);
  });

  test("well-formed text passes through byte for byte, up to U+10FFFF", async () => {
    const text = "plain ASCII, é € 🚀 \u{FFFF} \u{10000} \u{10FFFF} \u{D7FF}\u{E000}";
    const reply = await check(bytes(`<${text}>`), "text");
    assert.ok(Buffer.from(reply).includes(Buffer.from(text)), "copied unchanged, not escaped");
  });

  test("NUL bytes and an empty body are strings, not terminators", async () => {
    await check(bytes([0, 0, 0]), "NULs");
    await check(bytes([]), "empty");
    await check(bytes([0x22]), "one quote");
  });

  const invalid: Array<[string, number[], string]> = [
    ["stray continuation bytes", [0x80, 0xbf], "\uFFFD\uFFFD"],
    ["a lead byte no sequence starts with", [0xff, 0xfe, 0xf8, 0xc0], "\uFFFD\uFFFD\uFFFD\uFFFD"],
    ["an overlong '/' (C0 AF)", [0xc0, 0xaf], "\uFFFD\uFFFD"],
    ["an overlong NUL (E0 80 80)", [0xe0, 0x80, 0x80], "\uFFFD\uFFFD\uFFFD"],
    ["an encoded lone surrogate (ED A0 80)", [0xed, 0xa0, 0x80], "\uFFFD\uFFFD\uFFFD"],
    ["an encoded surrogate pair (CESU-8)", [0xed, 0xa0, 0xbd, 0xed, 0xb8, 0x80], "\uFFFD".repeat(6)],
    ["past U+10FFFF (F4 90 80 80)", [0xf4, 0x90, 0x80, 0x80], "\uFFFD".repeat(4)],
    ["a sequence cut by ASCII", [0xe2, 0x82, 0x41], "\uFFFDA"],
    ["a sequence cut by a quote", [0xf0, 0x9f, 0x98, 0x22], '\uFFFD"'],
    ["a sequence cut by the end", [0x41, 0xf0, 0x9f, 0x98], "A\uFFFD"],
  ];
  for (const [name, body, expected] of invalid) {
    test(`invalid UTF-8 becomes U+FFFD per maximal subpart: ${name}`, async () => {
      const reply = JSON.parse(strict.decode(await check(bytes(body), name)));
      assert.equal(reply.buffer, expected);
      assert.equal(reply.valid, false);
    });
  }

  test("random bytes: always valid JSON, the same text as TextDecoder, the same verdict as its fatal mode", async () => {
    let seed = 16;
    const random = () => {
      seed = (Math.imul(seed, 1103515245) + 12345) & 0x7fffffff;
      return seed >>> 8;
    };
    // Mostly bytes that start, continue or break sequences, some ASCII that needs escaping.
    const pool = [0x00, 0x0a, 0x22, 0x5c, 0x41, 0x7f, 0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf, 0xc0, 0xc2, 0xdf];
    pool.push(0xe0, 0xe1, 0xed, 0xee, 0xef, 0xf0, 0xf1, 0xf4, 0xf5, 0xff);
    for (let i = 0; i < 200; i++) {
      const body = Uint8Array.from({ length: 1 + (random() % 24) }, () =>
        random() % 4 === 0 ? random() % 256 : pool[random() % pool.length]!,
      );
      await check(body, `case ${i}: ${Buffer.from(body).toString("hex")}`);
    }
  });

  test("a 4 MiB hostile body is written in one pass, in memory linear in its size", async () => {
    const unit = bytes('\0"\\', [0xff, 0xed, 0xa0, 0x80, 0xe2, 0x82], "é🚀 plain text that needs nothing ");
    const body = Buffer.concat(Array.from({ length: Math.ceil((4 << 20) / unit.length) }, () => unit));
    const fresh = await startPlugin(wasm, { rootId: "utf8" });
    const http = fresh.http();
    http.requestHeaders(POST, false);
    const started = performance.now();
    http.requestBody(body, true);
    const elapsed = performance.now() - started;
    assert.equal(fresh.plugin.failed, false);
    const reply = http.localReply!.body;
    const parsed = JSON.parse(strict.decode(reply));
    assert.equal(parsed.buffer, lenient.decode(body));
    assert.equal(parsed.valid, false);
    const memory = fresh.plugin.vm.memory.buffer.byteLength;
    // The body twice (the host's copy and read()'s); the reply, which holds it three times (buffer,
    // view, nullable) at ~1.6x, in a buffer that doubles; toBytes()'s copy of the reply: ~17x.
    assert.ok(memory < 24 * body.length, `guest memory ${memory} bytes for a ${body.length}-byte body`);
    assert.ok(elapsed < 10_000, `${elapsed} ms`);
    http.complete();
  });
});

test("abort: the message and source location are logged at critical level, then the VM traps", {
  timeout: 60_000,
}, async () => {
  const plugin = await startPlugin(wasm, { rootId: "json" });
  const http = plugin.http();
  http.requestHeaders([...POST, ["x-crash", "1"]], true);
  const critical = plugin.logs("critical");
  assert.ok(
    critical.some((m) => /^abort: crash requested at .*misc\.ts:\d+:\d+$/.test(m)),
    `critical logs: ${JSON.stringify(critical)}`,
  );
  assert.equal(plugin.plugin.failed, true);
  assert.equal(http.localReply?.statusCode, 503, "FAIL_CLOSED answers 503");
});

describe("findJson: only the value at a path is built, and it agrees with the whole-document parser", () => {
  // [document, path]: hits, misses, repeats, escapes, and documents that are not JSON.
  const CASES: Array<[string, string]> = [
    ['{"region":"us_east1","args":{"region":"us_central1"},"name":"bench"}', "name"],
    ['{"region":"us_east1","args":{"region":"us_central1"},"name":"bench"}', "args.region"],
    ['{"region":"us_east1","args":{"region":"us_central1"}}', "args"],
    ['{"a":{"b":1}}', "a.c"],
    ['{"a":{"b":1},"a":{"c":2}}', "a.b"],
    ['{"a":1,"a":{"b":[1,2,{"x":null}]}}', "a.b"],
    ['{"a":[{"b":1}]}', "a.b"],
    ['{"a":"x"}', "a.b"],
    ['{"n\\u0061me":"escaped key","name":"plain","na\\"me":3}', "name"],
    ['{"na\\"me":3}', 'na"me'],
    ['  {"k" : -0.5e+3 , "t":true,"f":false,"z":null}  ', "k"],
    ['{"k":"caf\\u00e9 \\ud83d\\ude00 \\n"}', "k"],
    ["[1,2,3]", "a"],
    ['"just a string"', ""],
    ['{"a":{"b":{"c":{"d":"deep"}}}}', ""],
    ['{"a":1,}', "a"],
    ['{"a":01}', "a"],
    ['{"a":"unterminated}', "a"],
    ['{"a":"control \u0001"}', "a"],
    ['{"a":"bad \\x escape"}', "a"],
    ['{"a":1} trailing', "a"],
    ['{"b":[1,2,}', "a"],
    ["", "a"],
    ["{", ""],
  ];

  test("every case: findJson's answer is the whole-document parser's, and JSON.parse's", {
    timeout: 60_000,
  }, async () => {
    const plugin = await startPlugin(wasm, { rootId: "find" });
    for (const [doc, path] of CASES) {
      const http = plugin.http();
      http.requestHeaders([...POST, ["x-path", path]], false);
      http.requestBody(doc, true);
      const reply = JSON.parse(http.localReplyBodyText ?? "null") as Record<string, unknown>;
      http.complete();
      const label = `${doc} @ ${path}`;
      assert.equal(reply.valid, reply.domValid, `${label}: valid`);
      assert.deepEqual(reply.value, reply.domValue, `${label}: value`);
      let expected: unknown;
      let valid = true;
      try {
        expected = JSON.parse(doc);
      } catch {
        valid = false;
      }
      for (const key of path === "" ? [] : path.split(".")) {
        const here = expected as Record<string, unknown> | null;
        expected =
          here !== null && typeof here === "object" && !Array.isArray(here) && Object.hasOwn(here, key)
            ? here[key]
            : "<absent>";
        if (expected === "<absent>") break;
      }
      assert.equal(reply.valid, valid, `${label}: valid as JSON.parse says`);
      if (valid) assert.deepEqual(reply.value, expected, `${label}: the value JSON.parse finds`);
    }
  });

  test("nesting past 64 levels is refused, as the whole-document parser refuses it", {
    timeout: 60_000,
  }, async () => {
    const plugin = await startPlugin(wasm, { rootId: "find" });
    for (const [depth, valid] of [
      [60, true],
      [70, false],
    ] as const) {
      const http = plugin.http();
      http.requestHeaders([...POST, ["x-path", "a"]], false);
      http.requestBody(`{"b":${"[".repeat(depth)}${"]".repeat(depth)},"a":1}`, true);
      const reply = JSON.parse(http.localReplyBodyText ?? "null") as Record<string, unknown>;
      http.complete();
      assert.equal(reply.valid, valid, `depth ${depth}`);
      assert.equal(reply.domValid, valid, `depth ${depth}, whole document`);
    }
  });
});
