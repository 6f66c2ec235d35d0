/**
 * Where a credential may travel. Docker, containerd and ORAS tie registry credentials to the registry host
 * they were given for (and a bearer token to the registry that challenged for it), and drop them when a
 * redirect or an upload `Location` points elsewhere: blob storage and CDNs need no credentials, and a
 * registry must not be able to hand ours to a third party by naming it in a header.
 */

/** Loopback hosts: plain HTTP to them never leaves the machine, so credentials may go there unencrypted. */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, "").toLowerCase();
  return host === "localhost" || host === "::1" || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/** `host:port` of a URL with the scheme's default port filled in, so `https://r` and `https://r:443` match. */
export function hostAndPort(url: URL): string {
  const port = url.port || (url.protocol === "https:" ? "443" : "80");
  return `${url.hostname.toLowerCase()}:${port}`;
}

/**
 * One host:port a credential belongs to. It may be sent there over https, and over plain http only when the
 * host is loopback or the user asked for plain HTTP (`--plain-http`) for the registry.
 */
export class CredentialScope {
  readonly host: string;

  constructor(
    url: URL,
    private readonly plainHttpRequested: boolean,
  ) {
    this.host = hostAndPort(url);
  }

  /** True when a request to `url` may carry the credential. */
  allows(url: URL): boolean {
    return this.refusal(url) === undefined;
  }

  /** Why a request to `url` must go without the credential, or undefined when it may carry it. */
  refusal(url: URL): string | undefined {
    const host = hostAndPort(url);
    if (host !== this.host) return `${host} is not ${this.host}, the host they were given for`;
    if (url.protocol === "https:") return undefined;
    if (url.protocol === "http:" && (this.plainHttpRequested || isLoopbackHost(url.hostname))) {
      return undefined;
    }
    return `${url.protocol}//${host} is not https (pass --plain-http to allow plain HTTP for this registry)`;
  }
}
