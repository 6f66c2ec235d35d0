/**
 * A small client for the OCI distribution API (distribution-spec v1.1), spoken directly over HTTP.
 * There is no maintained Node push/pull library (deploy.md §4c), and a Wasm image needs only a handful of
 * endpoints: blob HEAD/POST/PATCH/PUT/GET and manifest PUT/GET.
 */
import { Agent, type Dispatcher, fetch, type Response } from "undici";
import { CredentialScope, isLoopbackHost } from "./credential-scope.ts";
import { sha256Digest } from "./digest.ts";
import { fetchFollowingRedirects, type HopRequest } from "./follow-redirects.ts";
import { manifestAccept } from "./media-types.ts";
import {
  type AuthChallenge,
  basicAuthorization,
  parseAuthChallenge,
  type RegistryCredentials,
} from "./registry-auth.ts";
import { RegistryError } from "./registry-error.ts";

export { RegistryError };

/** Progress of one blob upload, reported while pushing. */
export interface UploadProgress {
  digest: string;
  /** Bytes sent so far and the blob's size. */
  sent: number;
  size: number;
  state: "exists" | "uploading" | "done";
  /** How the bytes went up: one PUT, or PATCH chunks. */
  method?: "monolithic" | "chunked";
}

export interface RegistryClientOptions {
  /** Registry host with optional port. */
  registry: string;
  credentials?: RegistryCredentials;
  /**
   * Use http:// instead of https://. Defaults to true for loopback hosts only. Set to true, it also lets
   * credentials go over plain HTTP to this registry and its token service (never to other hosts).
   */
  plainHttp?: boolean;
  /** Skip the single-request upload and send blobs in PATCH chunks of this many bytes. */
  chunkSize?: number;
  onProgress?: (progress: UploadProgress) => void;
  /**
   * An undici dispatcher of the caller's (a proxy agent, a custom CA, own name resolution); `close()`
   * leaves it open. By default the client makes and closes its own pool.
   */
  dispatcher?: Dispatcher;
}

const defaultChunkSize = 4 * 1024 * 1024;

/** Speaks the distribution API to one registry; call `close()` when done to release sockets. */
export class RegistryClient {
  readonly baseUrl: string;
  private readonly dispatcher: Dispatcher;
  private readonly ownAgent: Agent | undefined;
  /** Basic credentials or a bearer token, sent only where `registryScope` allows. */
  private authorization: string | undefined;
  /** The registry host: the only one the registry's credentials and tokens go to. */
  private readonly registryScope: CredentialScope;
  private readonly registry: string;

  constructor(private readonly options: RegistryClientOptions) {
    this.registry = options.registry;
    // Loopback hosts speak plain HTTP by default, as `oras`/`skopeo` users expect for a local registry.
    const plain = options.plainHttp ?? isLoopbackHost(options.registry.replace(/:\d+$/, ""));
    // Docker Hub's references say docker.io, but its API lives on registry-1.docker.io.
    const host = options.registry === "docker.io" ? "registry-1.docker.io" : options.registry;
    this.baseUrl = `${plain ? "http" : "https"}://${host}`;
    this.registryScope = new CredentialScope(new URL(this.baseUrl), options.plainHttp === true);
    if (options.dispatcher) {
      this.dispatcher = options.dispatcher;
    } else {
      this.ownAgent = new Agent({ connections: 4 });
      this.dispatcher = this.ownAgent;
    }
  }

  async close(): Promise<void> {
    await this.ownAgent?.close();
  }

  /** `GET /v2/`: checks the registry is reachable and the credentials work. */
  async ping(): Promise<void> {
    const res = await this.send("GET", "/v2/", { scope: "" });
    await this.expect(res, [200], "GET /v2/");
  }

  /** True when the repository already holds the blob. */
  async hasBlob(repository: string, digest: string): Promise<boolean> {
    const res = await this.send("HEAD", `/v2/${repository}/blobs/${digest}`, {
      scope: pushScope(repository),
    });
    await res.body?.cancel();
    if (res.status === 200) return true;
    if (res.status === 404) return false;
    await this.expect(res, [200, 404], `HEAD blob ${digest}`);
    return false;
  }

  /**
   * Uploads a blob unless the repository has it: one request with the whole body (POST with `?digest=`,
   * or POST then PUT when the registry answers 202 as distribution 2.8 does), falling back to PATCH chunks
   * when the single PUT is refused. Returns how it went up.
   */
  async pushBlob(
    repository: string,
    blob: Uint8Array,
    digest: string,
  ): Promise<"exists" | "monolithic" | "chunked"> {
    const report = (sent: number, state: UploadProgress["state"], method?: UploadProgress["method"]) =>
      this.options.onProgress?.({
        digest,
        sent,
        size: blob.byteLength,
        state,
        ...(method ? { method } : {}),
      });
    if (await this.hasBlob(repository, digest)) {
      report(blob.byteLength, "exists");
      return "exists";
    }
    const scope = pushScope(repository);
    const uploads = `/v2/${repository}/blobs/uploads/`;
    if (this.options.chunkSize === undefined) {
      report(0, "uploading", "monolithic");
      const single = await this.send("POST", `${uploads}?digest=${encodeURIComponent(digest)}`, {
        scope,
        body: blob,
        headers: { "content-type": "application/octet-stream" },
      });
      if (single.status === 201) {
        await this.checkDigestHeader(single, digest, "blob upload");
        await single.body?.cancel();
        report(blob.byteLength, "done", "monolithic");
        return "monolithic";
      }
      // 202: the registry opened an upload session instead of taking the body (distribution 2.8 does this).
      if (single.status === 202) {
        await single.body?.cancel();
        const location = this.location(single, "POST blob upload");
        const put = await this.send("PUT", withDigest(location, digest), {
          scope,
          body: blob,
          headers: { "content-type": "application/octet-stream" },
        });
        if (put.status === 201) {
          await this.checkDigestHeader(put, digest, "blob upload");
          await put.body?.cancel();
          report(blob.byteLength, "done", "monolithic");
          return "monolithic";
        }
        if (put.status === 401 || put.status === 403) await this.expect(put, [201], `PUT blob ${digest}`);
        await put.body?.cancel();
      } else {
        if (single.status === 401 || single.status === 403)
          await this.expect(single, [201, 202], "POST blob upload");
        await single.body?.cancel();
      }
    }
    await this.pushBlobChunked(repository, blob, digest, this.options.chunkSize ?? defaultChunkSize, report);
    return "chunked";
  }

  private async pushBlobChunked(
    repository: string,
    blob: Uint8Array,
    digest: string,
    chunkSize: number,
    report: (sent: number, state: UploadProgress["state"], method?: UploadProgress["method"]) => void,
  ): Promise<void> {
    const scope = pushScope(repository);
    const start = await this.send("POST", `/v2/${repository}/blobs/uploads/`, { scope });
    await this.expect(start, [202], "POST blob upload (chunked)");
    let location = this.location(start, "POST blob upload");
    let sent = 0;
    report(0, "uploading", "chunked");
    while (sent < blob.byteLength) {
      const chunk = blob.subarray(sent, Math.min(sent + chunkSize, blob.byteLength));
      const patch = await this.send("PATCH", location, {
        scope,
        body: chunk,
        headers: {
          "content-type": "application/octet-stream",
          "content-range": `${sent}-${sent + chunk.byteLength - 1}`,
        },
      });
      await this.expect(patch, [202], `PATCH blob ${digest} bytes ${sent}-${sent + chunk.byteLength - 1}`);
      location = this.location(patch, "PATCH blob upload");
      sent += chunk.byteLength;
      report(sent, "uploading", "chunked");
    }
    const done = await this.send("PUT", withDigest(location, digest), { scope });
    await this.expect(done, [201], `PUT blob ${digest} (closing chunked upload)`);
    await this.checkDigestHeader(done, digest, "blob upload");
    report(blob.byteLength, "done", "chunked");
  }

  /** Stores a manifest under a tag (or digest); returns the digest of the exact bytes sent. */
  async putManifest(
    repository: string,
    reference: string,
    manifest: Uint8Array,
    mediaType: string,
  ): Promise<string> {
    const digest = sha256Digest(manifest);
    const res = await this.send("PUT", `/v2/${repository}/manifests/${reference}`, {
      scope: pushScope(repository),
      body: manifest,
      headers: { "content-type": mediaType },
    });
    await this.expect(res, [201], `PUT manifest ${repository}:${reference}`);
    await this.checkDigestHeader(res, digest, "manifest");
    await res.body?.cancel();
    return digest;
  }

  /** Fetches a manifest; the digest is computed from the bytes and checked against the registry's header. */
  async getManifest(
    repository: string,
    reference: string,
  ): Promise<{ bytes: Uint8Array; mediaType: string; digest: string }> {
    const res = await this.send("GET", `/v2/${repository}/manifests/${reference}`, {
      scope: pullScope(repository),
      headers: { accept: manifestAccept },
    });
    if (res.status === 404) {
      await res.body?.cancel();
      throw new RegistryError(
        `manifest ${repository}:${reference} not found on ${this.registry}`,
        "not-found",
      );
    }
    await this.expect(res, [200], `GET manifest ${repository}:${reference}`);
    const bytes = new Uint8Array(await res.arrayBuffer());
    const digest = sha256Digest(bytes);
    await this.checkDigestHeader(res, digest, "manifest");
    if (reference.startsWith("sha256:") && reference !== digest) {
      throw new RegistryError(
        `manifest ${repository}@${reference}: content hashes to ${digest}`,
        "integrity",
      );
    }
    return { bytes, mediaType: (res.headers.get("content-type") ?? "").split(";")[0]?.trim() ?? "", digest };
  }

  /** Fetches a blob (following redirects to storage) and checks its sha256. */
  async getBlob(repository: string, digest: string): Promise<Uint8Array> {
    const res = await this.send("GET", `/v2/${repository}/blobs/${digest}`, { scope: pullScope(repository) });
    if (res.status === 404) {
      await res.body?.cancel();
      throw new RegistryError(`blob ${digest} not found in ${repository} on ${this.registry}`, "not-found");
    }
    await this.expect(res, [200], `GET blob ${digest}`);
    const bytes = new Uint8Array(await res.arrayBuffer());
    const actual = sha256Digest(bytes);
    if (actual !== digest)
      throw new RegistryError(`blob ${digest} from ${this.registry} hashes to ${actual}`, "integrity");
    return bytes;
  }

  /**
   * Sends a request, answering one auth challenge (basic or bearer) and retrying once. Redirects and
   * `Location`s on other hosts get no `Authorization`, and their challenges are not answered.
   */
  private async send(
    method: string,
    pathOrUrl: string,
    init: { scope: string; body?: Uint8Array; headers?: Record<string, string> },
  ): Promise<Response> {
    const url = new URL(pathOrUrl, this.baseUrl);
    const request: HopRequest = {
      method,
      headers: { ...init.headers },
      ...(init.body ? { body: init.body } : {}),
    };
    const attempt = () =>
      fetchFollowingRedirects(
        url,
        request,
        (hopUrl, hop) => this.fetchOnce(hopUrl, hop),
        (hopUrl) => (this.registryScope.allows(hopUrl) ? this.authorization : undefined),
      );
    const first = await attempt();
    if (first.response.status !== 401) return first.response;
    const header = first.response.headers.get("www-authenticate") ?? "";
    await first.response.body?.cancel();
    const withheld = this.registryScope.refusal(first.url);
    if (withheld) {
      throw new RegistryError(
        `${method} ${url.pathname} on ${this.registry}: ${first.url.host} asks for credentials, and the ` +
          `credentials for ${this.registry} are not sent there: ${withheld}`,
        "auth",
      );
    }
    const challenge = parseAuthChallenge(header);
    if (!challenge) {
      throw new RegistryError(
        `${this.registry} asks for authentication this client does not speak: "${header}"`,
        "auth",
      );
    }
    const before = this.authorization;
    await this.answerChallenge(challenge, init.scope);
    const who = this.options.credentials ? ` of ${this.options.credentials.username}` : "";
    const rejected = () =>
      new RegistryError(
        `${this.registry} rejected the credentials${who} (HTTP 401 on ${method} ${url.pathname})`,
        "auth",
      );
    if (this.authorization === before) throw rejected();
    const second = await attempt();
    if (second.response.status === 401) {
      await second.response.body?.cancel();
      throw rejected();
    }
    return second.response;
  }

  private async answerChallenge(challenge: AuthChallenge, scope: string): Promise<void> {
    const credentials = this.options.credentials;
    if (challenge.scheme === "basic") {
      if (!credentials) {
        throw new RegistryError(`${this.registry} requires a username and password (basic auth)`, "auth");
      }
      this.authorization = basicAuthorization(credentials);
      return;
    }
    const realm = challenge.params.realm;
    if (!realm) throw new RegistryError(`${this.registry} sent a bearer challenge without a realm`, "auth");
    let tokenUrl: URL;
    try {
      tokenUrl = new URL(realm);
    } catch {
      throw new RegistryError(`${this.registry} sent a bearer realm that is not a URL: "${realm}"`, "auth");
    }
    if (tokenUrl.protocol !== "https:" && tokenUrl.protocol !== "http:") {
      throw new RegistryError(`${this.registry} sent a bearer realm that is not http(s): "${realm}"`, "auth");
    }
    if (challenge.params.service) tokenUrl.searchParams.set("service", challenge.params.service);
    const wanted = challenge.params.scope ?? scope;
    if (wanted) for (const s of wanted.split(" ")) tokenUrl.searchParams.append("scope", s);
    // Docker's token flow: the basic credentials go to the realm (wherever the registry puts it), but only
    // over https, to loopback, or over http the user asked for; otherwise the token is asked for anonymously.
    const realmScope = new CredentialScope(tokenUrl, this.options.plainHttp === true);
    const withheld = credentials ? realmScope.refusal(tokenUrl) : undefined;
    const basic = credentials && !withheld ? basicAuthorization(credentials) : undefined;
    const { response: res } = await fetchFollowingRedirects(
      tokenUrl,
      { method: "GET", headers: {} },
      (hopUrl, hop) => this.fetchOnce(hopUrl, hop),
      (hopUrl) => (realmScope.allows(hopUrl) ? basic : undefined),
    );
    if (res.status === 401 || res.status === 403) {
      await res.body?.cancel();
      throw new RegistryError(
        credentials && withheld
          ? `${this.registry}: token service ${tokenUrl.host} answered HTTP ${res.status}; the credentials for ` +
              `${credentials.username} were not sent to it: ${withheld}`
          : credentials
            ? `${this.registry}: token service ${tokenUrl.host} rejected the credentials for ${credentials.username} (HTTP ${res.status})`
            : `${this.registry} requires credentials (token service answered HTTP ${res.status})`,
        "auth",
      );
    }
    if (res.status !== 200) {
      await res.body?.cancel();
      throw new RegistryError(
        `${this.registry}: token service ${tokenUrl.host} answered HTTP ${res.status}`,
        "auth",
      );
    }
    const body = (await res.json()) as { token?: string; access_token?: string };
    const token = body.token ?? body.access_token;
    if (!token) throw new RegistryError(`${this.registry}: token service response has no token`, "auth");
    // The token was issued for this registry's challenge: `send` attaches it only to the registry host.
    this.authorization = `Bearer ${token}`;
  }

  /** One HTTP exchange, redirects not followed (`fetchFollowingRedirects` decides what each hop carries). */
  private async fetchOnce(url: URL, request: HopRequest): Promise<Response> {
    try {
      return await fetch(url, { ...request, dispatcher: this.dispatcher, redirect: "manual" });
    } catch (err) {
      throw new RegistryError(
        `cannot reach registry ${this.registry} (${url.href}): ${describeNetworkError(err)}`,
        "network",
      );
    }
  }

  private location(res: Response, what: string): string {
    const location = res.headers.get("location");
    if (!location) throw new RegistryError(`${what}: ${this.registry} sent no Location header`, "protocol");
    return new URL(location, this.baseUrl).toString();
  }

  private async checkDigestHeader(res: Response, expected: string, what: string): Promise<void> {
    // Docker-Content-Digest is optional in the spec; when present it must agree with our own hash.
    const served = res.headers.get("docker-content-digest");
    if (served && served !== expected) {
      await res.body?.cancel();
      throw new RegistryError(
        `${what}: ${this.registry} reports digest ${served}, expected ${expected}`,
        "integrity",
      );
    }
  }

  /** Throws a RegistryError naming the operation and the registry's own error codes unless status is expected. */
  private async expect(res: Response, statuses: number[], what: string): Promise<void> {
    if (statuses.includes(res.status)) return;
    const detail = await registryErrorDetail(res);
    const kind =
      res.status === 401 || res.status === 403 ? "auth" : res.status === 404 ? "not-found" : "protocol";
    const hint = kind === "auth" ? " (check the username/password and that the account may push here)" : "";
    throw new RegistryError(`${what} on ${this.registry}: HTTP ${res.status}${detail}${hint}`, kind);
  }
}

function pushScope(repository: string): string {
  return `repository:${repository}:pull,push`;
}

function pullScope(repository: string): string {
  return `repository:${repository}:pull`;
}

function withDigest(location: string, digest: string): string {
  const url = new URL(location);
  url.searchParams.set("digest", digest);
  return url.toString();
}

async function registryErrorDetail(res: Response): Promise<string> {
  const text = await res.text().catch(() => "");
  try {
    const body = JSON.parse(text) as { errors?: Array<{ code?: string; message?: string }> };
    const errors = body.errors?.map((e) => [e.code, e.message].filter(Boolean).join(": ")).filter(Boolean);
    if (errors?.length) return ` (${errors.join("; ")})`;
  } catch {
    // not JSON: fall through to the raw text
  }
  const trimmed = text.trim().slice(0, 200);
  return trimmed ? ` (${trimmed})` : "";
}

function describeNetworkError(err: unknown): string {
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  const code = cause?.code;
  if (code === "ECONNREFUSED") return "connection refused; is the registry running and the port right?";
  if (code === "ENOTFOUND" || code === "EAI_AGAIN") return "host name does not resolve";
  if (code === "ETIMEDOUT" || code === "UND_ERR_CONNECT_TIMEOUT") return "connection timed out";
  if (code === "ECONNRESET") return "connection reset by the registry";
  if (code?.startsWith("ERR_SSL") || code === "EPROTO") {
    return `TLS handshake failed (${code}); for a plain-HTTP registry pass --plain-http`;
  }
  const message = cause?.message ?? (err instanceof Error ? err.message : String(err));
  return code ? `${message} (${code})` : message;
}
