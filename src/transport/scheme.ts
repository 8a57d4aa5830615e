import { isIP } from "node:net";
import { ConfigurationError, InvalidInputError, truncate } from "../core/errors.js";

export interface HostParts {
  /** Canonical as the WHATWG URL parser writes it: lower case, IPv4 dotted, IPv6 compressed in brackets. */
  hostname: string;
  port: string | undefined;
}

const HOST_CHARS = /^[A-Za-z0-9.\-:[\]]+$/;
const PORT = /^(?:\[[^\]]*\]|[^:[\]]*):(\d+)$/;

/**
 * Splits `host[:port]` and canonicalises the hostname the way the URL that
 * is finally dialled will (`127.1` is `127.0.0.1`, `[0:0::1]` is `[::1]`),
 * so the plain-HTTP decision is made on the address actually used. A bare
 * IPv6 address without brackets (`::1`) is accepted. Undefined when the text
 * is not a host.
 */
export function splitHost(host: string): HostParts | undefined {
  const text = host.trim();
  const bareIpv6 = !text.startsWith("[") && (text.match(/:/g)?.length ?? 0) > 1;
  const candidate = bareIpv6 ? `[${text}]` : text;
  if (!HOST_CHARS.test(candidate)) return undefined;
  let url: URL;
  try {
    url = new URL(`http://${candidate}/`);
  } catch {
    return undefined;
  }
  if (url.hostname === "") return undefined;
  const port = PORT.exec(candidate)?.[1];
  return { hostname: url.hostname, port: port === undefined ? undefined : String(Number(port)) };
}

const MAPPED_LOOPBACK = /^\[::ffff:7f[0-9a-f]{2}:[0-9a-f]{1,4}\]$/;

/**
 * Loopback as Docker sees it: `localhost`, 127.0.0.0/8 and ::1, with any
 * port. Not `*.localhost`: a resolver may send those elsewhere.
 */
export function isLoopbackHost(host: string): boolean {
  const parts = splitHost(host);
  if (!parts) return false;
  const { hostname } = parts;
  if (hostname === "localhost" || hostname === "[::1]" || MAPPED_LOOPBACK.test(hostname)) return true;
  return isIP(hostname) === 4 && hostname.startsWith("127.");
}

/**
 * Decides the scheme for a registry host: HTTPS unless the host is loopback
 * or named insecure by the user. Everything that builds registry URLs or
 * follows redirects asks this one object, so the rule cannot drift between
 * callers. An insecure entry without a port covers every port of the host.
 */
export class EndpointPolicy {
  readonly #insecure = new Set<string>();
  readonly #probed = new Map<string, Promise<URL>>();

  constructor(options: { insecureHosts?: string[] } = {}) {
    for (const entry of options.insecureHosts ?? []) {
      // Tolerate `http://host:5000/` as people copy it from a browser.
      const parts = splitHost(entry.replace(/^[a-z][a-z0-9+.-]*:\/\//i, "").replace(/\/+$/, ""));
      if (!parts) {
        throw new ConfigurationError(`invalid insecure registry host ${JSON.stringify(truncate(entry))}`);
      }
      this.#insecure.add(key(parts));
    }
  }

  allowsPlainHttp(host: string): boolean {
    return isLoopbackHost(host) || this.#namedInsecure(host);
  }

  /** `https://host/`, or `http://host/` where plain HTTP is allowed; InvalidInputError for a non-host. */
  baseUrl(host: string): URL {
    const parts = splitHost(host);
    if (!parts) throw new InvalidInputError(`invalid registry host ${JSON.stringify(truncate(host))}`);
    return new URL(`${this.allowsPlainHttp(host) ? "http" : "https"}://${key(parts)}/`);
  }

  /**
   * The base URL to use. Loopback hosts the user did not name insecure are
   * probed once: HTTPS when something answers TLS there, else plain HTTP
   * (Docker's rule for local registries), so a local registry with TLS works
   * without configuration.
   */
  resolveBaseUrl(host: string, probe: (url: URL) => Promise<boolean>): Promise<URL> {
    const plain = this.baseUrl(host);
    if (plain.protocol === "https:" || this.#namedInsecure(host)) return Promise.resolve(plain);
    // baseUrl accepted the host, so it splits.
    const hostKey = key(splitHost(host)!);
    let resolved = this.#probed.get(hostKey);
    if (!resolved) {
      // Built from the text, not from `plain`: the URL parser drops `:80` there, which means 443 for https.
      const secure = new URL(`https://${hostKey}/`);
      resolved = probe(secure).then(
        (speaksTls) => (speaksTls ? secure : plain),
        () => plain,
      );
      this.#probed.set(hostKey, resolved);
    }
    return resolved;
  }

  /** Whether the user named `host` insecure (`--insecure-registry`); loopback alone does not count. */
  namesInsecure(host: string): boolean {
    return this.#namedInsecure(host);
  }

  #namedInsecure(host: string): boolean {
    const parts = splitHost(host);
    if (!parts) return false;
    return this.#insecure.has(key(parts)) || this.#insecure.has(parts.hostname);
  }
}

function key(parts: HostParts): string {
  return parts.port === undefined ? parts.hostname : `${parts.hostname}:${parts.port}`;
}
