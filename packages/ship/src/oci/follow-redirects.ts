/**
 * Redirects followed by hand, so each hop decides for itself whether it carries `Authorization`.
 * undici's fetch would follow them too (and drop `Authorization` across origins, as the Fetch spec says),
 * but it hides which host finally answered: the client needs that to tell a registry's 401 challenge
 * (answer it) from a storage host's (never answer it with the registry's credentials).
 */
import type { Response } from "undici";
import { RegistryError } from "./registry-error.ts";

export interface HopRequest {
  method: string;
  headers: Record<string, string>;
  body?: Uint8Array;
}

/** Sends one request without following redirects. */
export type SendOnce = (url: URL, request: HopRequest) => Promise<Response>;

export interface FollowedResponse {
  response: Response;
  /** The URL that gave `response`: where the last redirect led. */
  url: URL;
}

/** As many as Go's net/http (and so docker and containerd) follows. */
const maxRedirects = 10;

const redirectStatuses = new Set([301, 302, 303, 307, 308]);

/**
 * Sends `request` to `url` and follows redirects, asking `authorizationFor` for each hop's `Authorization`
 * (undefined: the hop goes without one).
 */
export async function fetchFollowingRedirects(
  url: URL,
  request: HopRequest,
  sendOnce: SendOnce,
  authorizationFor: (url: URL) => string | undefined,
): Promise<FollowedResponse> {
  let current = url;
  let hop = request;
  for (let redirects = 0; ; redirects++) {
    const authorization = authorizationFor(current);
    const headers = { ...hop.headers };
    if (authorization) headers.authorization = authorization;
    const response = await sendOnce(current, { ...hop, headers });
    const location = response.headers.get("location");
    if (!redirectStatuses.has(response.status) || !location) return { response, url: current };
    await response.body?.cancel();
    if (redirects === maxRedirects) {
      throw new RegistryError(
        `${request.method} ${url.href}: more than ${maxRedirects} redirects (last to ${location})`,
        "protocol",
      );
    }
    const next = new URL(location, current);
    if (next.protocol !== "http:" && next.protocol !== "https:") {
      throw new RegistryError(`${current.host} redirected to a ${next.protocol} URL`, "protocol");
    }
    current = next;
    hop = nextHop(hop, response.status);
  }
}

/** 303, and 301/302 after a POST, turn into a body-less GET (Fetch spec, browsers, Go); 307/308 keep all. */
function nextHop(hop: HopRequest, status: number): HopRequest {
  const toGet =
    (status === 303 && hop.method !== "HEAD") ||
    ((status === 301 || status === 302) && hop.method === "POST");
  if (!toGet) return hop;
  const { "content-type": _type, "content-range": _range, ...headers } = hop.headers;
  return { method: "GET", headers };
}
