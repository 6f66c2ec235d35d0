import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { type DiscoveryServer, parseHost, RegionMap, startDiscovery } from "../src/index.ts";

interface Answer {
  host: string;
  region: string;
  rule: string;
  matched: string;
  args: { host: string; region: string };
  error: string;
  status: string;
  entries: number;
}

async function get(url: string): Promise<{ status: number; body: Answer }> {
  const res = await fetch(url);
  return { status: res.status, body: (await res.json()) as Answer };
}

describe("discovery service", { timeout: 30_000 }, () => {
  let server: DiscoveryServer;
  before(async () => {
    server = await startDiscovery({
      host: "127.0.0.7",
      mapping: {
        hosts: {
          "api.example.com": "us_central1",
          "*.eu.example.com": "europe_west1",
          "*.example.com": "us_west1",
        },
        default: "us_east1",
      },
    });
  });
  after(() => server.close());

  test("exact host, with a port and in upper case", async () => {
    const { status, body } = await get(`${server.url}/v1/region?host=API.Example.com:8443`);
    assert.equal(status, 200);
    assert.equal(body.host, "api.example.com");
    assert.equal(body.region, "us_central1");
    assert.equal(body.rule, "exact");
    assert.deepEqual(body.args, { host: "api.example.com", region: "us_central1" });
  });

  test("the most specific wildcard wins", async () => {
    const eu = await get(`${server.url}/v1/region?host=shop.eu.example.com`);
    assert.equal(eu.body.region, "europe_west1");
    assert.equal(eu.body.matched, "*.eu.example.com");
    const other = await get(`${server.url}/v1/region?host=www.example.com`);
    assert.equal(other.body.region, "us_west1");
  });

  test("unknown hosts take the default rule", async () => {
    const { status, body } = await get(`${server.url}/v1/region?host=unknown.test`);
    assert.equal(status, 200);
    assert.equal(body.region, "us_east1");
    assert.equal(body.rule, "default");
  });

  test("malformed or missing hosts get 400 with the reason", async () => {
    const cases: [string, RegExp][] = [
      ["", /host is empty/],
      ["bad host", /not a valid host/],
      ["a..b", /invalid label/],
      ["-x.example.com", /invalid label "-x"/],
      [`${"a".repeat(64)}.com`, /invalid label/],
      ["api.example.com/path", /more than host/],
      ["user@api.example.com", /more than host/],
      ["api.example.com:99999", /not a valid host/],
    ];
    for (const [host, reason] of cases) {
      const { status, body } = await get(`${server.url}/v1/region?host=${encodeURIComponent(host)}`);
      assert.equal(status, 400, `host ${JSON.stringify(host)}`);
      assert.match(body.error, reason, `host ${JSON.stringify(host)}`);
    }
    const missing = await get(`${server.url}/v1/region`);
    assert.equal(missing.status, 400);
    assert.match(missing.body.error, /host is required/);
  });

  test("health, mappings, 405 and 404", async () => {
    const health = await get(`${server.url}/healthz`);
    assert.deepEqual(
      { status: health.status, ok: health.body.status, entries: health.body.entries },
      { status: 200, ok: "ok", entries: 3 },
    );
    const mappings = await (await fetch(`${server.url}/v1/mappings`)).json();
    assert.equal((mappings as { default: string }).default, "us_east1");
    const post = await fetch(`${server.url}/v1/region?host=a.b`, { method: "POST" });
    assert.equal(post.status, 405);
    assert.equal(post.headers.get("allow"), "GET, HEAD");
    await post.arrayBuffer();
    assert.equal((await get(`${server.url}/nope`)).status, 404);
  });
});

test("without a default rule unknown hosts get 404 naming the host", { timeout: 10_000 }, async () => {
  const server = await startDiscovery({ mapping: { hosts: { "a.test": "r1" } } });
  try {
    const { status, body } = await get(`${server.url}/v1/region?host=b.test`);
    assert.equal(status, 404);
    assert.match(body.error, /no region for host b\.test/);
  } finally {
    await server.close();
  }
});

test("the byFirstCharacter default rule spreads hosts like the seed's mock", () => {
  const map = RegionMap.from({ default: { byFirstCharacter: ["us_east1", "us_central1"] } });
  // 'a' is 97 (odd) and 'b' is 98 (even): the seed picks us_central1 for odd codes.
  assert.equal(map.lookup(parseHost("a.test"))?.region, "us_central1");
  assert.equal(map.lookup(parseHost("b.test"))?.region, "us_east1");
});

test("bad mapping files are refused with the file and key named", async () => {
  const dir = await mkdtemp(join(tmpdir(), "discovery-"));
  try {
    const file = join(dir, "map.json");
    await writeFile(file, '{"hosts": {"ok.test": "r1", "bad host": "r2"}}');
    await assert.rejects(
      RegionMap.load(file),
      (e: Error) => e.message.includes(file) && e.message.includes('"bad host"'),
    );
    await writeFile(file, '{"hosts": {"ok.test": "no spaces allowed"}}');
    await assert.rejects(RegionMap.load(file), /region must be/);
    await writeFile(file, '{"regions": {}}');
    await assert.rejects(RegionMap.load(file), /unknown key "regions"/);
    await writeFile(file, "{not json");
    await assert.rejects(RegionMap.load(file), /not valid JSON/);
    await assert.rejects(RegionMap.load(join(dir, "missing.json")), /ENOENT/);
  } finally {
    await rm(dir, { recursive: true });
  }
});

test("reload() swaps in an edited mapping file and refuses a broken one", { timeout: 10_000 }, async () => {
  const dir = await mkdtemp(join(tmpdir(), "discovery-"));
  const file = join(dir, "map.json");
  await writeFile(file, '{"hosts": {"a.test": "r1"}}');
  const server = await startDiscovery({ mappingFile: file });
  try {
    assert.equal((await get(`${server.url}/v1/region?host=a.test`)).body.region, "r1");
    await writeFile(file, '{"hosts": {"a.test": "r2"}}');
    await server.reload();
    assert.equal((await get(`${server.url}/v1/region?host=a.test`)).body.region, "r2");
    await writeFile(file, '{"hosts": {"a.test": "bad region!"}}');
    await assert.rejects(server.reload(), /region must be/);
    assert.equal(
      (await get(`${server.url}/v1/region?host=a.test`)).body.region,
      "r2",
      "the old mapping stays",
    );
  } finally {
    await server.close();
    await rm(dir, { recursive: true });
  }
});

test("the CLI serves the example mapping file", { timeout: 20_000 }, async () => {
  const main = fileURLToPath(new URL("../src/main.ts", import.meta.url));
  const mapping = fileURLToPath(new URL("../regions.example.json", import.meta.url));
  const child = spawn(
    process.execPath,
    ["--import", "tsx", main, "--mapping", mapping, "--host", "127.0.0.8", "--port", "0"],
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
      child.once("exit", (code) => reject(new Error(`discovery CLI exited early (${code}): ${out}`)));
    });
    const { body } = await get(`${url}/v1/region?host=httpbin.org`);
    assert.equal(body.region, "us_east1");
    child.kill("SIGTERM");
    const [code] = await once(child, "exit");
    assert.equal(code, 0);
  } finally {
    if (child.exitCode === null) child.kill("SIGKILL");
  }
});

test("the CLI names a missing mapping file without a stack trace", { timeout: 20_000 }, async () => {
  const main = fileURLToPath(new URL("../src/main.ts", import.meta.url));
  const child = spawn(
    process.execPath,
    ["--import", "tsx", main, "--mapping", "/nonexistent/map.json", "--port", "0"],
    {
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  let err = "";
  child.stderr.setEncoding("utf8");
  child.stderr.on("data", (c: string) => {
    err += c;
  });
  const [code] = await once(child, "exit");
  assert.equal(code, 2);
  assert.match(err, /cannot read mapping file \/nonexistent\/map\.json: ENOENT/);
  assert.doesNotMatch(err, /\n\s+at /);
});
