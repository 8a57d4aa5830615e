import { isIP } from "node:net";
import { InvalidInputError } from "../core/errors.js";

/** Splits `host[:port]` (IPv6 in brackets) into hostname and port. */
export function splitHost(host: string): { hostname: string; port: string | undefined } {
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(host);
  if (bracketed) return { hostname: bracketed[1]!.toLowerCase(), port: bracketed[2] };
  const colon = host.lastIndexOf(":");
  if (colon > 0 && host.indexOf(":") === colon && /^\d+$/.test(host.slice(colon + 1))) {
    return { hostname: host.slice(0, colon).toLowerCase(), port: host.slice(colon + 1) };
  }
  return { hostname: host.toLowerCase(), port: undefined };
}

/** Loopback as Docker sees it: `localhost`, 127.0.0.0/8 and ::1, with any port. */
export function isLoopbackHost(host: string): boolean {
  const { hostname } = splitHost(host);
  if (hostname === "localhost" || hostname.endsWith(".localhost")) return true;
  if (isIP(hostname) === 4) return hostname.startsWith("127.");
  return hostname === "::1" || hostname === "0:0:0:0:0:0:0:1";
}

/**
 * Decides the scheme for a registry host: HTTPS unless the host is loopback
 * or named insecure by the user. Everything that builds registry URLs asks
 * this one object, so the rule cannot drift between callers.
 */
export class EndpointPolicy {
  readonly #insecure: Set<string>;
  readonly #probed = new Map<string, Promise<URL>>();

  constructor(options: { insecureHosts?: string[] } = {}) {
    this.#insecure = new Set(
      (options.insecureHosts ?? []).map((h) => h.trim().toLowerCase()).filter(Boolean),
    );
  }

  allowsPlainHttp(host: string): boolean {
    if (isLoopbackHost(host)) return true;
    const lower = host.toLowerCase();
    if (this.#insecure.has(lower)) return true;
    const { hostname } = splitHost(lower);
    return this.#insecure.has(hostname) || this.#insecure.has(`[${hostname}]`);
  }

  /**
   * The base URL to use. Loopback hosts the user did not name insecure are
   * probed once: HTTPS when something answers TLS there, else plain HTTP
   * (Docker's rule for local registries), so a local registry with TLS works
   * without configuration.
   */
  resolveBaseUrl(host: string, probe: (url: URL) => Promise<boolean>): Promise<URL> {
    const plain = this.baseUrl(host);
    if (plain.protocol === "https:" || !isLoopbackHost(host) || this.#named(host))
      return Promise.resolve(plain);
    let resolved = this.#probed.get(host.toLowerCase());
    if (!resolved) {
      const secure = new URL(`https://${host}/`);
      resolved = probe(secure).then(
        (speaksTls) => (speaksTls ? secure : plain),
        () => plain,
      );
      this.#probed.set(host.toLowerCase(), resolved);
    }
    return resolved;
  }

  #named(host: string): boolean {
    const lower = host.toLowerCase();
    return this.#insecure.has(lower) || this.#insecure.has(splitHost(lower).hostname);
  }

  baseUrl(host: string): URL {
    if (!/^[A-Za-z0-9.\-:[\]]+$/.test(host))
      throw new InvalidInputError(`invalid registry host ${JSON.stringify(host)}`);
    try {
      return new URL(`${this.allowsPlainHttp(host) ? "http" : "https"}://${host}/`);
    } catch {
      throw new InvalidInputError(`invalid registry host ${JSON.stringify(host)}`);
    }
  }
}
