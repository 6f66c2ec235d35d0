/**
 * The HTTP baseline the data-plane suites (proxy, chain) measure against: what a developer would write by
 * hand, node:http in front of an undici pool. Plain JavaScript, run as its own process with
 * `node --input-type=module -e` and the upstream port as its argument; it prints `port N` when listening.
 */
export const BASELINE_REVERSE_PROXY_JS = `
import { createServer } from "node:http";
import { Pool } from "undici";
const pool = new Pool("http://127.0.0.1:" + process.argv[1], { connections: 64 });
const hop = new Set(["connection", "keep-alive", "transfer-encoding", "upgrade", "proxy-connection", "te", "host"]);
const server = createServer(async (req, res) => {
  try {
    const headers = {};
    for (const [k, v] of Object.entries(req.headers)) if (!hop.has(k)) headers[k] = v;
    const up = await pool.request({ method: req.method, path: req.url, headers, body: req.method === "GET" || req.method === "HEAD" ? null : req });
    const out = {};
    for (const [k, v] of Object.entries(up.headers)) if (!hop.has(k)) out[k] = v;
    res.writeHead(up.statusCode, out);
    for await (const chunk of up.body) res.write(chunk);
    res.end();
  } catch (err) {
    res.writeHead(502);
    res.end(String(err));
  }
});
server.keepAliveTimeout = 60000;
server.listen(0, "127.0.0.1", () => console.log("port " + server.address().port));
`;
