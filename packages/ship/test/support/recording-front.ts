/**
 * A recording HTTP front on a chosen loopback address, for tests about which host sees which credentials.
 * Linux routes all of 127.0.0.0/8 to loopback, so 127.0.0.1, 127.0.0.2 and 127.0.0.3 are three hosts to a
 * client. The front records every request's method, path and `Authorization`, lets the test answer some
 * requests itself (auth gates, token services, redirects), and forwards the rest to a real registry,
 * optionally rewriting the `Location` the registry answers with (to send uploads to another host).
 */
import { createServer, type IncomingMessage, request, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export interface SeenRequest {
  method: string;
  path: string;
  authorization: string | undefined;
}

export interface RecordingFrontOptions {
  /** Loopback address to listen on, e.g. `127.0.0.2`. */
  address: string;
  /** `host:port` of the registry to forward to; without one, requests nobody answered get 404. */
  upstream?: string;
  /** Answers a request itself; returns true when it did. */
  answer?: (req: IncomingMessage, res: ServerResponse, url: URL) => boolean;
  /** A new `Location` for the upstream's answer, or undefined to keep it. */
  rewriteLocation?: (location: URL) => string | undefined;
}

export interface RecordingFront {
  /** `address:port` */
  host: string;
  port: number;
  seen: SeenRequest[];
  stop(): Promise<void>;
}

export async function startRecordingFront(options: RecordingFrontOptions): Promise<RecordingFront> {
  const seen: SeenRequest[] = [];
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", `http://${req.headers.host}`);
    seen.push({ method: req.method ?? "", path: url.pathname, authorization: req.headers.authorization });
    if (options.answer?.(req, res, url)) return;
    if (!options.upstream) {
      res.writeHead(404).end();
      return;
    }
    // The registry behind runs without auth; the Host header stays, so its Locations name this front.
    const { authorization: _dropped, ...headers } = req.headers;
    const [hostname, port] = options.upstream.split(":");
    const forward = request(
      { hostname, port: Number(port), method: req.method, path: req.url, headers },
      (up) => {
        const location = up.headers.location;
        if (location && options.rewriteLocation) {
          const rewritten = options.rewriteLocation(new URL(location, url));
          if (rewritten) up.headers.location = rewritten;
        }
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      },
    );
    forward.on("error", () => res.writeHead(502).end());
    req.pipe(forward);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, options.address, resolve);
  });
  const { port } = server.address() as AddressInfo;
  return {
    host: `${options.address}:${port}`,
    port,
    seen,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
