import type { Context, MiddlewareHandler } from "hono";
import { isImageManifestMediaType } from "../../core/mediaTypes.js";
import { verifyJwt } from "../auth/jwt.js";
import type { TokenServer } from "../auth/tokenServer.js";
import { ociError } from "../context.js";
import type { HubCatalog } from "./catalog.js";
import { dockerHubRateLimitHeaders } from "./hubShapes.js";

export interface PullLimits {
  anonymous: number;
  authenticated: number;
  windowSeconds: number;
  /** Accounts with a paid plan: no limit and no headers, as Docker Hub does. */
  unlimited: string[];
}

interface Budget {
  used: number;
  resetAt: number;
}

const MANIFEST = /^\/v2\/(.+)\/manifests\/([^/]+)$/;

/** The text Docker documents for an exhausted pull limit. */
export const PULL_LIMIT_MESSAGE =
  "You have reached your pull rate limit. You may increase the limit by authenticating and upgrading: https://www.docker.com/increase-rate-limits";

/**
 * Docker Hub's pull limit on the registry: every manifest answer carries
 * `RateLimit-Limit`/`RateLimit-Remaining` and `Docker-RateLimit-Source`; a
 * GET of an image manifest spends one pull (a HEAD, or a GET of an index,
 * does not: Docker counts one pull per architecture fetched); when nothing is
 * left, a GET gets 429 with Docker's message and a `Retry-After`.
 */
export class PullLimiter {
  readonly limits: PullLimits;
  readonly #budgets = new Map<string, Budget>();
  /** Pulls counted and refused, for tests. */
  counted = 0;
  refused = 0;

  constructor(
    limits: Partial<PullLimits>,
    private readonly tokens: TokenServer | undefined,
  ) {
    this.limits = {
      anonymous: limits.anonymous ?? 100,
      authenticated: limits.authenticated ?? 200,
      windowSeconds: limits.windowSeconds ?? 21_600,
      unlimited: limits.unlimited ?? [],
    };
  }

  /** Who is pulling: the token's subject, or the client address for anonymous pulls. */
  identify(c: Context): { key: string; source: string; user?: string } {
    const header = c.req.header("authorization");
    const tokens = this.tokens;
    const claims =
      header?.startsWith("Bearer ") && tokens
        ? verifyJwt(header.slice(7), tokens.publicKey, { issuer: tokens.issuer, audience: tokens.service })
        : undefined;
    if (claims?.sub) return { key: `user:${claims.sub}`, source: claims.sub, user: claims.sub };
    const env = c.env as { incoming?: { socket?: { remoteAddress?: string } } } | undefined;
    const ip = env?.incoming?.socket?.remoteAddress?.replace(/^::ffff:/, "") ?? "127.0.0.1";
    return { key: `ip:${ip}`, source: ip };
  }

  #budget(key: string, now: number): Budget {
    let budget = this.#budgets.get(key);
    if (!budget || budget.resetAt <= now) {
      budget = { used: 0, resetAt: now + this.limits.windowSeconds * 1000 };
      this.#budgets.set(key, budget);
    }
    return budget;
  }

  /** Spends the remaining budget of a caller (tests: start a scenario near exhaustion). */
  spend(key: string, pulls: number): void {
    this.#budget(key, Date.now()).used += pulls;
  }

  middleware(catalog: HubCatalog): MiddlewareHandler {
    return async (c, next) => {
      const match = MANIFEST.exec(new URL(c.req.url).pathname);
      if (!match || (c.req.method !== "GET" && c.req.method !== "HEAD")) return next();
      const caller = this.identify(c);
      if (caller.user && this.limits.unlimited.includes(caller.user)) return next();
      const limit = caller.user ? this.limits.authenticated : this.limits.anonymous;
      const now = Date.now();
      const budget = this.#budget(caller.key, now);
      const headers = () =>
        dockerHubRateLimitHeaders(
          limit,
          Math.max(0, limit - budget.used),
          caller.source,
          this.limits.windowSeconds,
        );
      if (c.req.method === "GET" && budget.used >= limit) {
        this.refused++;
        const response = ociError(c, 429, "TOOMANYREQUESTS", PULL_LIMIT_MESSAGE);
        for (const [name, value] of Object.entries(headers())) response.headers.set(name, value);
        response.headers.set("retry-after", String(Math.max(1, Math.ceil((budget.resetAt - now) / 1000))));
        return response;
      }
      await next();
      const counts =
        c.req.method === "GET" &&
        c.res.status === 200 &&
        isImageManifestMediaType(c.res.headers.get("content-type") ?? "");
      if (counts) {
        budget.used++;
        this.counted++;
        catalog.pulled(decodeURIComponent(match[1]!), decodeURIComponent(match[2]!));
      }
      for (const [name, value] of Object.entries(headers())) c.res.headers.set(name, value);
    };
  }
}
