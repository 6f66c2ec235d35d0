/** A minimal HTTP upstream for tests: echoes the request as JSON, with a few knobs by path. */
import { createServer, type IncomingMessage, type Server } from "node:http";

export interface SeenRequest {
  method: string;
  url: string;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  remoteAddress: string;
}

export interface TestUpstream {
  server: Server;
  port: number;
  host: string;
  seen: SeenRequest[];
  close(): Promise<void>;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
  });
}

/**
 * Paths: `/status/N` answers N; `/reset` destroys the socket before answering; `/slow/MS` waits MS ms;
 * `/big/N` sends N bytes; anything else echoes `{ name, method, url, headers, body }`.
 */
export async function startUpstream(name: string, host = "127.0.0.1"): Promise<TestUpstream> {
  const seen: SeenRequest[] = [];
  const server = createServer({ maxHeaderSize: 128 * 1024 }, async (req, res) => {
    const body = await readBody(req);
    const record = {
      method: req.method ?? "",
      url: req.url ?? "",
      headers: req.headers,
      body,
      remoteAddress: req.socket.remoteAddress ?? "",
    };
    seen.push(record);
    const url = req.url ?? "/";
    if (url.includes("/reset-mid-body")) {
      res.writeHead(200, { "content-type": "text/plain", "content-length": "100000" });
      res.write(Buffer.alloc(1000, 98));
      setTimeout(() => req.socket.destroy(), 20);
      return;
    }
    if (url.includes("/reset")) {
      req.socket.destroy();
      return;
    }
    if (url.startsWith("/status/")) {
      res.writeHead(Number(url.slice(8)), { "content-type": "text/plain" });
      res.end(`status ${url.slice(8)}`);
      return;
    }
    if (url.startsWith("/slow/")) {
      await new Promise((r) => setTimeout(r, Number(url.slice(6))));
    }
    if (url.startsWith("/big/")) {
      res.writeHead(200, { "content-type": "application/octet-stream" });
      res.end(Buffer.alloc(Number(url.slice(5)), 97));
      return;
    }
    res.writeHead(200, { "content-type": "application/json", server: "test-upstream" });
    res.end(JSON.stringify({ name, ...record }));
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const port = (server.address() as { port: number }).port;
  return {
    server,
    port,
    host,
    seen,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
