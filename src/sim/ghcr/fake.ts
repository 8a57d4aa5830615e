import { type Context, Hono } from "hono";
import type { Digest } from "../../core/digest.js";
import type { Access } from "../auth/jwt.js";
import type { ProviderFake, RegistryAppOptions, SimContext } from "../context.js";
import { mountPackageRoutes } from "./apiRoutes.js";
import type { Caller, GhcrFakeContext } from "./ghcrContext.js";
import { githubError, githubRateLimitHeaders } from "./githubShapes.js";
import { GhcrPackages } from "./packages.js";

export const PACKAGE_SCOPES = ["read:packages", "write:packages", "delete:packages"] as const;

export interface GhcrFakeOptions {
  /** Organisations and their members (user names of the registry's accounts). */
  organizations?: Record<string, string[]>;
  /** Personal access tokens (classic): token → its user and scopes. */
  tokens?: Record<string, { user: string; scopes: string[] }>;
  /** Packages (`owner/name`) that start public; others are private, GHCR's default. */
  publicPackages?: string[];
  /** The repository a package is connected to: `owner/name` → `owner/repo`. */
  linkedRepositories?: Record<string, string>;
  /** REST API requests per hour per user (default 1000, the specification's limit). */
  apiLimit?: number;
  /** REST API requests per hour without a token (default 60, GitHub's). */
  anonymousApiLimit?: number;
  /** Lifetime of registry tokens (default 300 s, as ghcr.io issues them). */
  tokenTtlSeconds?: number;
  /** The fake's clock for creation times and rate-limit windows. */
  now?: () => number;
}

/**
 * The GitHub Container Registry fake: GitHub's Packages API (the paths of
 * the REST description, plus `GET /users/NAME`) under `/github`, backed by
 * the embedded registry so every pushed manifest is a version; and ghcr.io's
 * registry rules: token auth whose realm takes a PAT over Basic auth and
 * grants what its scopes allow, anonymous pulls of public packages only,
 * pushes by the owner or an organisation's members, 5-minute tokens.
 */
export class GhcrFake implements ProviderFake, GhcrFakeContext {
  readonly id = "ghcr";
  readonly endpoints = { "ghcr-api": "/github", "ghcr-registry": "" };
  readonly options: GhcrFakeOptions;
  readonly now: () => number;
  #packages: GhcrPackages | undefined;
  #sim: SimContext | undefined;
  readonly #windows = new Map<string, { count: number; resetAt: number }>();
  readonly #seenTokens = new Map<string, number>();
  #expiredBefore = 0;
  #sequence = 0;
  /** API requests served (rate-limited or not), for tests that count them. */
  apiRequests = 0;
  /** DELETE requests the API received, for tests that check a dry run sends none. */
  apiDeletes = 0;

  constructor(options: GhcrFakeOptions = {}) {
    this.options = options;
    this.now = options.now ?? Date.now;
  }

  configure(options: RegistryAppOptions): RegistryAppOptions {
    return {
      ...options,
      auth: "token",
      tokenServer: {
        ...options.tokenServer,
        service: "ghcr.io",
        anonymousPull: true,
        ttlSeconds: this.options.tokenTtlSeconds ?? 300,
      },
    };
  }

  get packages(): GhcrPackages {
    if (!this.#packages) throw new Error("the GHCR fake is not mounted yet");
    return this.#packages;
  }

  /** Counts `n` API requests against a user's hourly budget, as if made earlier in the hour (tests). */
  spendApiBudget(user: string, n: number): void {
    const now = this.now();
    let window = this.#windows.get(`user:${user}`);
    if (!window || window.resetAt <= now) {
      window = { count: 0, resetAt: now + 3_600_000 };
      this.#windows.set(`user:${user}`, window);
    }
    window.count += n;
  }

  /** Registry tokens issued so far stop working (as if their 5 minutes were over). */
  expireRegistryTokens(): void {
    this.#expiredBefore = ++this.#sequence;
  }

  ownerType(login: string): "User" | "Organization" | undefined {
    if (Object.hasOwn(this.options.organizations ?? {}, login)) return "Organization";
    return this.#sim?.users.has(login) ? "User" : undefined;
  }

  /** May `user` write to (and see the private packages of) `owner`? */
  mayWrite(user: string | undefined, owner: string): boolean {
    if (!user) return false;
    if (user === owner) return true;
    return (this.options.organizations?.[owner] ?? []).includes(user);
  }

  /** The caller of an API request, `null` for none, or the 401 answer for a bad token. */
  caller(c: Context): Caller | null | Response {
    const header = c.req.header("authorization");
    if (!header) return null;
    const match = /^(?:token|bearer)\s+(\S+)$/i.exec(header);
    const found = match ? this.#token(match[1]!) : undefined;
    if (!found) return githubError(c, 401, "Bad credentials");
    return { ...found, token: match![1]! };
  }

  mount(app: Hono, sim: SimContext): void {
    this.#sim = sim;
    this.#packages = new GhcrPackages(sim.storage, this.now, new Set(this.options.publicPackages ?? []));
    for (const [token, entry] of Object.entries(this.options.tokens ?? {}))
      sim.users.addToken(entry.user, token);
    const tokens = sim.tokenServer;
    if (tokens) {
      tokens.authenticate = (header) => this.#basicToken(header);
      tokens.authorize = (user, access, scopes) => this.#authorize(user, access, scopes);
    }
    app.use("/v2/*", async (c, next) => {
      // Tokens the test declared expired: answered like ghcr.io answers a stale token.
      const bearer = /^Bearer\s+(\S+)$/.exec(c.req.header("authorization") ?? "")?.[1];
      if (bearer) {
        if (!this.#seenTokens.has(bearer)) this.#seenTokens.set(bearer, this.#sequence);
        if (this.#seenTokens.get(bearer)! < this.#expiredBefore) {
          const url = new URL(c.req.url);
          return c.json({ errors: [{ code: "UNAUTHORIZED", message: "authentication required" }] }, 401, {
            "www-authenticate": `Bearer realm="${url.origin}/token",service="ghcr.io",error="invalid_token"`,
          });
        }
      }
      await next();
      const match = /^\/v2\/(.+)\/manifests\/([^/]+)$/.exec(new URL(c.req.url).pathname);
      const digest = c.res.headers.get("docker-content-digest");
      if (c.req.method === "PUT" && c.res.status === 201 && match && digest)
        this.packages.pushed(decodeURIComponent(match[1]!), digest as Digest);
      return undefined;
    });
    const api = new Hono();
    api.use("*", (c, next) => this.#rateLimit(c, next));
    mountPackageRoutes(api, this);
    api.notFound((c) => githubError(c, 404, "Not Found"));
    api.onError((_error, c) => githubError(c, 500, "Server Error"));
    app.route("/github", api);
  }

  /** A linked repository for a package, if configured. */
  linkedRepository(repository: string): string | undefined {
    return this.options.linkedRepositories?.[repository];
  }

  #token(secret: string): { user: string; scopes: readonly string[] } | undefined {
    const entry = Object.hasOwn(this.options.tokens ?? {}, secret) ? this.options.tokens![secret] : undefined;
    if (entry) return { user: entry.user, scopes: entry.scopes };
    // An account's password stands for a classic PAT with every package scope (`serve --users`).
    const user = this.#sim?.users.ownerOfPassword(secret);
    return user ? { user, scopes: PACKAGE_SCOPES } : undefined;
  }

  /** ghcr.io takes any user name with a PAT: the token says who it is. */
  #basicToken(header: string): { user: string; scopes?: readonly string[] } | undefined {
    if (!header.toLowerCase().startsWith("basic ")) return undefined;
    const decoded = Buffer.from(header.slice(6).trim(), "base64").toString("utf8");
    return this.#token(decoded.slice(decoded.indexOf(":") + 1));
  }

  #authorize(user: string | undefined, access: Access, scopes: readonly string[] | undefined): string[] {
    if (access.type !== "repository") return [];
    const owner = access.name.split("/")[0]!;
    const has = (scope: string) => scopes === undefined || scopes.includes(scope);
    const member = this.mayWrite(user, owner);
    const isPublic = this.packages.isPublic(access.name);
    return access.actions.filter((action) => {
      if (action === "pull") return isPublic || (member && (has("read:packages") || has("write:packages")));
      if (action === "push") return member && has("write:packages");
      if (action === "delete") return member && has("delete:packages");
      return false;
    });
  }

  async #rateLimit(c: Context, next: () => Promise<void>): Promise<Response | undefined> {
    this.apiRequests++;
    if (c.req.method === "DELETE") this.apiDeletes++;
    const caller = this.caller(c);
    if (caller instanceof Response) return caller;
    const key = caller ? `user:${caller.user}` : "anonymous";
    const limit = caller ? (this.options.apiLimit ?? 1000) : (this.options.anonymousApiLimit ?? 60);
    const now = this.now();
    let window = this.#windows.get(key);
    if (!window || window.resetAt <= now) {
      window = { count: 0, resetAt: now + 3_600_000 };
      this.#windows.set(key, window);
    }
    if (window.count >= limit) {
      const response = githubError(
        c,
        403,
        caller ? `API rate limit exceeded for user ID ${caller.user}.` : "API rate limit exceeded.",
      );
      for (const [name, value] of Object.entries(githubRateLimitHeaders(limit, 0, new Date(window.resetAt))))
        response.headers.set(name, value);
      return response;
    }
    window.count++;
    await next();
    for (const [name, value] of Object.entries(
      githubRateLimitHeaders(limit, limit - window.count, new Date(window.resetAt)),
    ))
      c.res.headers.set(name, value);
    if (caller) c.res.headers.set("x-oauth-scopes", caller.scopes.join(", "));
    return undefined;
  }
}

export function ghcrFake(options: GhcrFakeOptions = {}): GhcrFake {
  return new GhcrFake(options);
}
