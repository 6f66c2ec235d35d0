/**
 * A front for a real registry, for behaviours Debian's docker-registry does not show by itself:
 *
 * - `bearer`: answers `/v2/*` with `401 WWW-Authenticate: Bearer realm=…,service=…,scope=…` unless the request
 *   carries a token it issued, and issues tokens at `/token` for the right basic credentials (the
 *   distribution token flow ghcr.io and Docker Hub use);
 * - `refuseMonolithic`: answers a blob upload PUT that carries the whole body with 413, as registries behind
 *   body-size-limited proxies do, so clients must fall back to PATCH chunks.
 *
 * Everything else is forwarded. Listens on 127.0.0.1, on a free port.
 */
import { randomBytes } from "node:crypto";
import { createServer, request } from "node:http";
import type { AddressInfo } from "node:net";

export interface RegistryFront {
  host: string;
  /** Scopes requested at /token, in order (what the client asked for). */
  scopes: string[];
  stop(): Promise<void>;
}

export async function startRegistryFront(
  upstream: string,
  options: { bearer?: { username: string; password: string }; refuseMonolithic?: boolean },
): Promise<RegistryFront> {
  const tokens = new Set<string>();
  const scopes: string[] = [];
  const bearer = options.bearer;
  const expected = bearer
    ? `Basic ${Buffer.from(`${bearer.username}:${bearer.password}`).toString("base64")}`
    : "";
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://front");
    const uploadPut = req.method === "PUT" && url.pathname.includes("/blobs/uploads/");
    if (options.refuseMonolithic && uploadPut && Number(req.headers["content-length"] ?? 0) > 0) {
      res
        .writeHead(413, { "content-type": "application/json" })
        .end('{"errors":[{"code":"SIZE_INVALID","message":"body too large"}]}');
      return;
    }
    if (bearer && url.pathname === "/token") {
      scopes.push(url.searchParams.getAll("scope").join(" "));
      if (req.headers.authorization !== expected) {
        res.writeHead(401, { "content-type": "application/json" }).end('{"details":"bad credentials"}');
        return;
      }
      const token = randomBytes(16).toString("hex");
      tokens.add(token);
      res
        .writeHead(200, { "content-type": "application/json" })
        .end(JSON.stringify({ token, expires_in: 300 }));
      return;
    }
    const token = /^Bearer (\w+)$/.exec(req.headers.authorization ?? "")?.[1];
    if (bearer && (!token || !tokens.has(token))) {
      const repo = /^\/v2\/(.+?)\/(blobs|manifests)\//.exec(url.pathname)?.[1];
      const scope = repo ? `,scope="repository:${repo}:pull,push"` : "";
      const realm = `http://${req.headers.host}/token`;
      res.writeHead(401, { "www-authenticate": `Bearer realm="${realm}",service="pwts-test"${scope}` }).end();
      return;
    }
    const headers = { ...req.headers };
    if (bearer) delete headers.authorization;
    const [hostname, port] = upstream.split(":");
    const forward = request(
      { hostname, port: Number(port), method: req.method, path: req.url, headers },
      (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      },
    );
    forward.on("error", () => res.writeHead(502).end());
    req.pipe(forward);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    host: `127.0.0.1:${port}`,
    scopes,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
