import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { request } from "node:http";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { ECHO_NAME_HEADER, type EchoServer, startEcho } from "../src/index.ts";

/** The fields of httpbin's JSON answers the tests read. */
interface Echoed {
  args: Record<string, string | string[]>;
  headers: Record<string, string>;
  origin: string;
  url: string;
  method: string;
  data: string;
  json: unknown;
  form: Record<string, string | string[]>;
  name: string;
  error: string;
}

async function echoed(res: Response): Promise<Echoed> {
  return (await res.json()) as Echoed;
}

describe("echo", { timeout: 30_000 }, () => {
  let echo: EchoServer;
  before(async () => {
    echo = await startEcho({ host: "127.0.0.3", port: 0, name: "upstream-a" });
  });
  after(() => echo.close());

  test("listens on the 127.x address it was given and names itself", async () => {
    assert.match(echo.url, /^http:\/\/127\.0\.0\.3:\d+$/);
    const res = await fetch(`${echo.url}/ip`);
    assert.equal(res.headers.get(ECHO_NAME_HEADER), "upstream-a");
    const body = await echoed(res);
    assert.equal(body.origin, "127.0.0.1");
    assert.equal(body.name, "upstream-a");
  });

  test("/get echoes args, Title-Case headers and the url", async () => {
    const res = await fetch(`${echo.url}/get?a=1&b=2&b=3`, { headers: { "x-request-id": "r1" } });
    assert.equal(res.status, 200);
    const body = await echoed(res);
    assert.deepEqual(body.args, { a: "1", b: ["2", "3"] });
    assert.equal(body.headers["X-Request-Id"], "r1");
    assert.equal(body.url, `${echo.url}/get?a=1&b=2&b=3`);
    assert.equal(body.origin, "127.0.0.1");
  });

  test("/get refuses other methods with 405", async () => {
    const res = await fetch(`${echo.url}/get`, { method: "POST", body: "x" });
    assert.equal(res.status, 405);
    assert.match(res.headers.get("allow") ?? "", /GET/);
  });

  test("/headers and X-Forwarded-For as origin", async () => {
    const res = await fetch(`${echo.url}/headers`, { headers: { "x-forwarded-for": "10.1.2.3" } });
    const body = await echoed(res);
    assert.equal(body.headers["X-Forwarded-For"], "10.1.2.3");
    const ip = await echoed(await fetch(`${echo.url}/ip`, { headers: { "x-forwarded-for": "10.1.2.3" } }));
    assert.equal(ip.origin, "10.1.2.3");
  });

  test("/anything/... echoes method, JSON body and path", async () => {
    const res = await fetch(`${echo.url}/anything/users/42?region=us_east1`, {
      method: "PUT",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ hello: "world" }),
    });
    const body = await echoed(res);
    assert.equal(body.method, "PUT");
    assert.deepEqual(body.json, { hello: "world" });
    assert.equal(body.data, '{"hello":"world"}');
    assert.deepEqual(body.args, { region: "us_east1" });
    assert.equal(body.url, `${echo.url}/anything/users/42?region=us_east1`);
    assert.deepEqual(body.form, {});
  });

  test("/anything: form bodies go to form, binary bodies to a base64 data URL", async () => {
    const form = await echoed(
      await fetch(`${echo.url}/anything`, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: "a=1&a=2&b=x",
      }),
    );
    assert.deepEqual(form.form, { a: ["1", "2"], b: "x" });
    assert.equal(form.json, null);
    const bytes = Buffer.from([0xff, 0xfe, 0x00, 0x01]);
    const bin = await echoed(
      await fetch(`${echo.url}/anything`, {
        method: "POST",
        headers: { "content-type": "application/octet-stream" },
        body: bytes,
      }),
    );
    assert.equal(bin.data, `data:application/octet-stream;base64,${bytes.toString("base64")}`);
  });

  test("/status/:code answers with that code; bad codes get 400", async () => {
    for (const code of [200, 204, 418, 503]) {
      const res = await fetch(`${echo.url}/status/${code}`);
      assert.equal(res.status, code);
      assert.equal(res.headers.get(ECHO_NAME_HEADER), "upstream-a");
      await res.arrayBuffer();
    }
    const listed = await fetch(`${echo.url}/status/401,402`);
    assert.ok([401, 402].includes(listed.status));
    const bad = await fetch(`${echo.url}/status/abc`);
    assert.equal(bad.status, 400);
    assert.match((await echoed(bad)).error, /abc/);
  });

  test("/response-headers sets the query pairs as headers and echoes them", async () => {
    const res = await fetch(`${echo.url}/response-headers?x-test=one&x-test=two&cache-control=no-store`);
    assert.equal(res.headers.get("x-test"), "one, two");
    assert.equal(res.headers.get("cache-control"), "no-store");
    const text = await res.text();
    const body = JSON.parse(text);
    assert.deepEqual(body["x-test"], ["one", "two"]);
    assert.equal(body["content-length"], String(Buffer.byteLength(text)));
    assert.equal(res.headers.get("content-length"), String(Buffer.byteLength(text)));
  });

  test("/delay/:s answers after the delay with the request echo", async () => {
    const res = await fetch(`${echo.url}/delay/0.05?x=1`);
    assert.equal(res.status, 200);
    assert.deepEqual((await echoed(res)).args, { x: "1" });
    assert.equal((await fetch(`${echo.url}/delay/soon`)).status, 400);
  });

  test("/bytes/:n sends n bytes", async () => {
    const res = await fetch(`${echo.url}/bytes/1000`);
    assert.equal(res.headers.get("content-type"), "application/octet-stream");
    assert.equal((await res.arrayBuffer()).byteLength, 1000);
    assert.equal((await fetch(`${echo.url}/bytes/-1`)).status, 400);
  });

  test("/post, /put, /patch, /delete echo the body and accept only their method", async () => {
    for (const method of ["POST", "PUT", "PATCH", "DELETE"]) {
      const path = `/${method.toLowerCase()}`;
      const res = await fetch(`${echo.url}${path}?k=v`, {
        method,
        headers: { "content-type": "application/json" },
        body: '{"n":1}',
      });
      assert.equal(res.status, 200, path);
      const body = await echoed(res);
      assert.deepEqual(body.json, { n: 1 });
      assert.deepEqual(body.args, { k: "v" });
      const wrong = await fetch(`${echo.url}${path}`);
      assert.equal(wrong.status, 405, `GET ${path}`);
      assert.equal(wrong.headers.get("allow"), `${method}, OPTIONS`);
      await wrong.arrayBuffer();
    }
  });

  test("/user-agent and /uuid", async () => {
    const ua = (await (
      await fetch(`${echo.url}/user-agent`, { headers: { "user-agent": "probe/1" } })
    ).json()) as Record<string, string>;
    assert.equal(ua["user-agent"], "probe/1");
    const a = (await (await fetch(`${echo.url}/uuid`)).json()) as { uuid: string };
    const b = (await (await fetch(`${echo.url}/uuid`)).json()) as { uuid: string };
    assert.match(a.uuid, /^[0-9a-f-]{36}$/);
    assert.notEqual(a.uuid, b.uuid);
  });

  test("unknown paths get 404 with the path named", async () => {
    const res = await fetch(`${echo.url}/nope`);
    assert.equal(res.status, 404);
    assert.match((await echoed(res)).error, /\/nope/);
  });

  test("the Host header the client sent appears in url", async () => {
    const body = await new Promise<string>((resolve, reject) => {
      const req = request(`${echo.url}/get`, { headers: { host: "httpbin.org" } }, (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (c) => {
          text += c;
        });
        res.on("end", () => resolve(text));
      });
      req.on("error", reject);
      req.end();
    });
    assert.equal(JSON.parse(body).url, "http://httpbin.org/get");
  });
});

test("two instances on different 127.x addresses answer with their own names", {
  timeout: 15_000,
}, async () => {
  const a = await startEcho({ host: "127.0.0.4", name: "router-1" });
  const b = await startEcho({ host: "127.0.0.5", name: "router-2" });
  try {
    const [ra, rb] = await Promise.all([fetch(`${a.url}/get`), fetch(`${b.url}/get`)]);
    assert.equal((await echoed(ra)).name, "router-1");
    assert.equal((await echoed(rb)).name, "router-2");
  } finally {
    await a.close();
    await b.close();
  }
});

test("the CLI starts, serves and stops on SIGTERM", { timeout: 20_000 }, async () => {
  const main = fileURLToPath(new URL("../src/main.ts", import.meta.url));
  const child = spawn(
    process.execPath,
    ["--import", "tsx", main, "--host", "127.0.0.6", "--port", "0", "--name", "cli-echo"],
    {
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  try {
    let out = "";
    child.stdout.setEncoding("utf8");
    const url = await new Promise<string>((resolve, reject) => {
      child.stdout.on("data", (chunk: string) => {
        out += chunk;
        const m = /listening on (http:\/\/\S+)/.exec(out);
        if (m) resolve(m[1]!);
      });
      child.once("exit", (code) => reject(new Error(`echo CLI exited early (${code}): ${out}`)));
    });
    const res = await fetch(`${url}/headers`);
    assert.equal(res.headers.get(ECHO_NAME_HEADER), "cli-echo");
    await res.arrayBuffer();
    child.kill("SIGTERM");
    const [code] = await once(child, "exit");
    assert.equal(code, 0);
  } finally {
    if (child.exitCode === null) child.kill("SIGKILL");
  }
});

test("the CLI rejects a bad port with a clear message", { timeout: 20_000 }, async () => {
  const main = fileURLToPath(new URL("../src/main.ts", import.meta.url));
  const child = spawn(process.execPath, ["--import", "tsx", main, "--port", "eighty"], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let err = "";
  child.stderr.setEncoding("utf8");
  child.stderr.on("data", (c: string) => {
    err += c;
  });
  const [code] = await once(child, "exit");
  assert.equal(code, 2);
  assert.match(err, /--port must be a number/);
  assert.doesNotMatch(err, /at .*\.ts:\d+/);
});
