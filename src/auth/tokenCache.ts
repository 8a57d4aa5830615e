import { scopesCover } from "./scope.js";
import type { Token } from "./tokenService.js";

/** Refresh this long before expiry so a token never dies mid-request. */
export const REFRESH_MARGIN_MS = 30_000;

interface Entry {
  scopes: string[];
  token: Token;
}

/**
 * Registry tokens keyed by registry origin + service + normalized scope set,
 * with single-flight: concurrent requests for the same key share one token
 * request. A cached token whose scopes cover a request is reused for it.
 */
export class TokenCache {
  readonly #entries = new Map<string, Entry[]>();
  readonly #inFlight = new Map<string, Promise<Token>>();
  readonly #now: () => number;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  /** The cache key of a token: registry origin, service and scopes. */
  static key(origin: string, service: string | undefined, scopes: string[]): string {
    return `${origin} ${service ?? ""} ${scopes.join(" ")}`;
  }

  /** A fresh cached token covering `scopes`, if any. */
  find(origin: string, service: string | undefined, scopes: string[]): Token | undefined {
    const entries = this.#entries.get(`${origin} ${service ?? ""}`) ?? [];
    const now = this.#now();
    return entries.find((e) => e.token.expiresAt - REFRESH_MARGIN_MS > now && scopesCover(e.scopes, scopes))
      ?.token;
  }

  /** The cached token for exactly these scopes, or one fetched once for all concurrent callers. */
  async get(
    origin: string,
    service: string | undefined,
    scopes: string[],
    fetch: () => Promise<Token>,
  ): Promise<Token> {
    const cached = this.find(origin, service, scopes);
    if (cached) return cached;
    const key = TokenCache.key(origin, service, scopes);
    let pending = this.#inFlight.get(key);
    if (!pending) {
      pending = fetch()
        .then((token) => {
          this.#store(origin, service, scopes, token);
          return token;
        })
        .finally(() => this.#inFlight.delete(key));
      this.#inFlight.set(key, pending);
    }
    return pending;
  }

  /** Drops a token the registry refused. */
  invalidate(origin: string, service: string | undefined, token: Token): void {
    const bucket = `${origin} ${service ?? ""}`;
    const entries = (this.#entries.get(bucket) ?? []).filter((e) => e.token !== token);
    this.#entries.set(bucket, entries);
  }

  #store(origin: string, service: string | undefined, scopes: string[], token: Token): void {
    const bucket = `${origin} ${service ?? ""}`;
    const now = this.#now();
    const entries = (this.#entries.get(bucket) ?? []).filter(
      (e) => e.token.expiresAt > now && e.scopes.join(" ") !== scopes.join(" "),
    );
    entries.push({ scopes, token });
    this.#entries.set(bucket, entries);
  }
}
