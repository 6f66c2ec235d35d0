/** A throwaway CA and a server certificate it signs (via the openssl CLI), for TLS upstream tests. */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface TestCertificates {
  dir: string;
  caFile: string;
  ca: string;
  cert: string;
  key: string;
}

export function makeCertificates(serverName: string): TestCertificates {
  const dir = mkdtempSync(join(tmpdir(), "pwts-tls-"));
  const f = (n: string) => join(dir, n);
  const openssl = (...args: string[]) => execFileSync("openssl", args, { stdio: "pipe" });
  openssl(
    "req",
    "-x509",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-days",
    "1",
    "-subj",
    "/CN=pwts test CA",
    "-keyout",
    f("ca.key"),
    "-out",
    f("ca.pem"),
  );
  openssl(
    "req",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-subj",
    `/CN=${serverName}`,
    "-keyout",
    f("server.key"),
    "-out",
    f("server.csr"),
  );
  writeFileSync(f("ext.cnf"), `subjectAltName=DNS:${serverName}\n`);
  openssl(
    "x509",
    "-req",
    "-in",
    f("server.csr"),
    "-CA",
    f("ca.pem"),
    "-CAkey",
    f("ca.key"),
    "-CAcreateserial",
    "-days",
    "1",
    "-extfile",
    f("ext.cnf"),
    "-out",
    f("server.pem"),
  );
  return {
    dir,
    caFile: f("ca.pem"),
    ca: readFileSync(f("ca.pem"), "utf8"),
    cert: readFileSync(f("server.pem"), "utf8"),
    key: readFileSync(f("server.key"), "utf8"),
  };
}
