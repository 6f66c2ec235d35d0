import assert from "node:assert/strict";
import { mkdir } from "node:fs/promises";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { type Browser, chromium, type Page } from "playwright-core";
import { type IngestionServer, startIngestion } from "../src/ingestion-server.ts";
import { sampleEvents } from "./support/sample-events.ts";

/** Text of every cell of every row under `selector`, row by row (locators only: the test has no DOM types). */
async function tableText(page: Page, selector: string): Promise<string[][]> {
  const rows = page.locator(`${selector} tbody tr`);
  const out: string[][] = [];
  for (let i = 0; i < (await rows.count()); i++) out.push(await rows.nth(i).locator("td").allTextContents());
  return out;
}

/** Screenshots land here (git-ignored) so a person can look at what the test saw. */
const SCREENSHOTS = fileURLToPath(new URL("../.screenshots/", import.meta.url));
const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

const SCRIPT = "<script>window.__pwned = 1</script>";
const IMG = '<img src=x onerror="window.__pwned = 2">';

describe("dashboard in headless Chromium", { timeout: 120_000 }, () => {
  let server: IngestionServer;
  let browser: Browser;
  let page: Page;
  const now = Date.now();

  before(async () => {
    await mkdir(SCREENSHOTS, { recursive: true });
    server = await startIngestion({ host: "127.0.0.12", store: { engine: "duckdb", path: ":memory:" } });
    const events = sampleEvents(400, { start: now - 600_000, spanMs: 500_000 });
    const hostile = {
      timestamp_ms: now - 1_000,
      method: "GET",
      path: `/search?q=${encodeURIComponent(SCRIPT)}`,
      status: 500,
      latency_ms: 12.5,
      source: { name: IMG },
      destination: { name: "orders" },
      request: {
        headers: { "x-evil": SCRIPT, authorization: "Bearer leaked", ":path": "/search" },
        body: IMG,
      },
      response: { headers: { ":status": "500" }, body: SCRIPT },
    };
    const longBody = {
      timestamp_ms: now - 2_000,
      method: "POST",
      path: "/long",
      status: 201,
      request: { body: `${"y".repeat(20_000)}END` },
    };
    // As the api-observer records a failed gRPC call: HTTP 200, grpc-status in the response, frames as base64.
    const grpcCall = {
      timestamp_ms: now - 3_000,
      method: "POST",
      path: "/demo.Greeter/Missing",
      status: 200,
      protocol: "HTTP/2",
      request: {
        headers: { "content-type": "application/grpc" },
        body_base64: Buffer.from("\0\0\0\0\x03bob", "latin1").toString("base64"),
      },
      response: {
        headers: { ":status": "200", "grpc-status": "5", "grpc-message": "no%20such%20greeting" },
      },
    };
    const res = await fetch(`${server.url}/api/v1/events`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify([...events, hostile, longBody, grpcCall]),
    });
    assert.equal(res.status, 202);
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    });
    page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    await page.goto(server.url);
    await page.waitForSelector("body[data-loaded=true]");
  });
  after(async () => {
    await browser?.close();
    await server?.close();
  });

  test("the inventory view lists templated routes with counts and percentiles", async () => {
    const rows = await tableText(page, "#inventory-table");
    const apis = (
      (await (await fetch(`${server.url}/api/v1/apis`)).json()) as {
        apis: { route: string; calls: number }[];
      }
    ).apis;
    assert.equal(rows.length, apis.length);
    assert.ok(
      rows.some((r) => r[2] === "/users/{id}"),
      "a templated route is shown",
    );
    assert.deepEqual(
      rows.map((r) => Number(r[3])),
      apis.map((a) => a.calls),
    );
    await page.locator("#inventory").screenshot({ path: `${SCREENSHOTS}inventory.png` });
  });

  test("the events view shows headers and bodies of the selected event", async () => {
    const count = await page.locator("#events-table tbody tr").count();
    assert.equal(count, 100);
    await page.locator("#events-table tbody tr").first().click();
    assert.equal(await page.locator("#request-body").textContent(), IMG);
    assert.equal(await page.locator("#response-body").textContent(), SCRIPT);
    await page.locator("#events").screenshot({ path: `${SCREENSHOTS}events.png` });
  });

  test("a <script> captured in a header is shown as text and never runs", async () => {
    const headerCells = await tableText(page, "#request-headers");
    assert.deepEqual(
      headerCells.find((r) => r[0] === "x-evil"),
      ["x-evil", SCRIPT],
    );
    assert.deepEqual(
      headerCells.find((r) => r[0] === "authorization"),
      ["authorization", "[masked]"],
    );
    assert.equal(await page.evaluate("window.__pwned"), undefined);
    assert.equal(
      await page.locator("#events script, #events img").count(),
      0,
      "no captured markup became elements",
    );
    assert.ok((await page.content()).includes("&lt;script&gt;window.__pwned = 1&lt;/script&gt;"));
  });

  test("a body cut short in the listing is loaded whole when its event is shown", async () => {
    await page.locator("#events-table tbody tr", { hasText: "/long" }).first().click();
    await page.waitForSelector("#request-body:has-text('END')");
    const text = await page.locator("#request-body").textContent();
    assert.equal(text, `${"y".repeat(20_000)}END`);
  });

  test("a gRPC call shows its grpc-status, is marked failed when not OK, and its frames as base64", async () => {
    // The service counts a gRPC call that did not end OK as an error, though its HTTP status is 200.
    const inventory = await tableText(page, "#inventory-table");
    const api = inventory.find((r) => r[2] === "/demo.Greeter/Missing");
    assert.deepEqual([api?.[3], api?.[4]], ["1", "100.0%"]);
    const row = page.locator("#events-table tbody tr", { hasText: "/demo.Greeter/Missing" }).first();
    assert.equal(await row.locator("td").nth(5).textContent(), "200 grpc 5");
    assert.equal(await row.getAttribute("class"), "error");
    await row.click();
    assert.equal(await page.locator("#request-body").textContent(), "(binary, base64) AAAAAANib2I=");
    const headerCells = await tableText(page, "#response-headers");
    assert.deepEqual(
      headerCells.find((r) => r[0] === "grpc-message"),
      ["grpc-message", "no%20such%20greeting"],
    );
  });

  test("the graph view draws consumer -> service edges", async () => {
    const edges = ((await (await fetch(`${server.url}/api/v1/graph`)).json()) as { edges: unknown[] }).edges;
    assert.equal(await page.locator("#graph-svg line").count(), edges.length);
    const labels = await page.locator("#graph-svg text.source").allTextContents();
    assert.ok(labels.includes("frontend"));
    assert.ok(labels.includes(IMG), "a hostile workload name is a text label");
    await page.locator("#graph").screenshot({ path: `${SCREENSHOTS}graph.png` });
  });

  test("filters narrow every view", async () => {
    await page.selectOption("#filters select[name=service]", "payments");
    await page.selectOption("#filters select[name=status]", "5xx");
    const refreshes = Number(await page.locator("body").getAttribute("data-refreshes"));
    await page.click("#filters button[type=submit]");
    await page.waitForSelector(`body[data-refreshes="${refreshes + 1}"]`);
    const services = await page.locator("#inventory-table tbody tr td:first-child").allTextContents();
    assert.ok(services.length > 0);
    assert.ok(services.every((s) => s === "payments"));
    const statuses = (await page.locator("#events-table tbody tr td:nth-child(6)").allTextContents()).map(
      Number,
    );
    assert.ok(statuses.length > 0);
    assert.ok(statuses.every((s) => s >= 500 && s < 600));
    const destinations = await page.locator("#graph-svg text.destination").allTextContents();
    assert.deepEqual(destinations, ["payments"]);
    await page.screenshot({ path: `${SCREENSHOTS}filtered.png`, fullPage: true });
  });
});
