import { type Context, Hono } from "hono";
import { type Digest, isDigest } from "../../core/digest.js";
import type { Access } from "../auth/jwt.js";
import type { ProviderFake, RegistryAppOptions, SimContext } from "../context.js";
import { AccessTokens } from "./accessTokens.js";
import { mountHubAuth } from "./authRoutes.js";
import { HubCatalog } from "./catalog.js";
import type { Caller, HubFakeContext } from "./hubContext.js";
import { HubJwt } from "./hubJwt.js";
import { dockerHubError } from "./hubShapes.js";
import { PullLimiter, type PullLimits } from "./pullLimit.js";
import { mountHubRepositories } from "./repositoryRoutes.js";
import { type ScanOverview, unscanned } from "./scans.js";
import { WebhookSender, type WebhookTarget } from "./webhooks.js";

export interface DockerHubFakeOptions {
  /** Pull budget of the registry (default 100 anonymous, 200 authenticated per 6 h). */
  pullLimits?: Partial<PullLimits>;
  /** Hub API requests per minute before 429 (default 180 anonymous, 600 authenticated). */
  apiLimits?: { anonymous?: number; authenticated?: number };
  /** Lifetime of Hub API JWTs (default 600 s, as Docker documents). */
  jwtTtlSeconds?: number;
  /** Accounts with two-factor authentication: their password alone cannot log in. */
  twoFactorUsers?: string[];
  /** Repositories (`namespace/name`) that start private. */
  privateRepositories?: string[];
  /** URLs that receive Docker Hub's push webhook (and regkit's delete extension). */
  webhooks?: WebhookTarget[];
  /** Personal access tokens to create at start: username → token secrets. */
  accessTokens?: Record<string, string[]>;
}

/**
 * The Docker Hub fake: the Hub API (as described by docker/docs' OpenAPI
 * file in test/reference, plus the undocumented search, delete and scan
 * paths Docker Hub serves) under `/hub`, and Docker Hub's registry
 * behaviour on the embedded registry: token auth with anonymous pulls,
 * private repositories, namespaces owned by their user, and pull-rate
 * limits with `RateLimit-*` headers.
 */
export class DockerHubFake implements ProviderFake {
  readonly id = "dockerhub";
  readonly endpoints = { "dockerhub-api": "/hub", "dockerhub-registry": "", "dockerhub-auth": "" };
  readonly jwt: HubJwt;
  /** Webhook deliveries to the configured URLs. */
  readonly webhooks: WebhookSender;
  readonly #options: DockerHubFakeOptions;
  readonly #scans = new Map<Digest, ScanOverview>();
  readonly #api = new Map<string, { count: number; resetAt: number }>();
  #catalog: HubCatalog | undefined;
  #tokens: AccessTokens | undefined;
  #pulls: PullLimiter | undefined;
  /** Logins served (both endpoints), for tests that count them. */
  logins = 0;

  constructor(options: DockerHubFakeOptions = {}) {
    this.#options = options;
    this.jwt = new HubJwt(options.jwtTtlSeconds ?? 600);
    this.webhooks = new WebhookSender(options.webhooks ?? []);
  }

  configure(options: RegistryAppOptions): RegistryAppOptions {
    return {
      ...options,
      auth: "token",
      tokenServer: { ...options.tokenServer, service: "registry.docker.io", anonymousPull: true },
    };
  }

  get catalog(): HubCatalog {
    if (!this.#catalog) throw new Error("the Docker Hub fake is not mounted yet");
    return this.#catalog;
  }

  get pulls(): PullLimiter {
    if (!this.#pulls) throw new Error("the Docker Hub fake is not mounted yet");
    return this.#pulls;
  }

  get accessTokens(): AccessTokens {
    if (!this.#tokens) throw new Error("the Docker Hub fake is not mounted yet");
    return this.#tokens;
  }

  /** Sets what the scan endpoint answers for a digest (tests: "not scanned", "in progress"). */
  setScan(digest: Digest, overview: ScanOverview | ScanOverview["scan_status"]): void {
    this.#scans.set(digest, typeof overview === "string" ? unscanned(digest, overview) : overview);
  }

  mount(app: Hono, sim: SimContext): void {
    this.#catalog = new HubCatalog(sim.storage, new Set(this.#options.privateRepositories ?? []));
    this.#tokens = new AccessTokens(sim.users);
    for (const [user, secrets] of Object.entries(this.#options.accessTokens ?? {}))
      for (const secret of secrets)
        this.#tokens.create(
          user,
          { token_label: "seeded", scopes: ["repo:admin"] },
          { ip: "", ua: "" },
          secret,
        );
    const tokens = sim.tokenServer;
    if (tokens) tokens.authorize = (user, access) => this.#authorize(user, access);
    this.#pulls = new PullLimiter(this.#options.pullLimits ?? {}, tokens);
    app.use("/v2/*", this.#pulls.middleware(this.catalog));
    app.use("/v2/*", async (c, next) => {
      await next();
      const match = /^\/v2\/(.+)\/manifests\/([^/]+)$/.exec(new URL(c.req.url).pathname);
      if (c.req.method !== "PUT" || c.res.status !== 201 || !match) return;
      const reference = decodeURIComponent(match[2]!);
      if (isDigest(reference)) return;
      const name = decodeURIComponent(match[1]!);
      const pusher = this.pulls.identify(c).user;
      this.catalog.pushed(name, reference, pusher);
      this.webhooks.pushed(name, reference, pusher ?? "anonymous", this.catalog.meta(name));
    });
    const hub = new Hono();
    hub.use("*", (c, next) => this.#apiRateLimit(c, next));
    const context: HubFakeContext = {
      sim,
      catalog: this.#catalog,
      accessTokens: this.#tokens,
      jwt: this.jwt,
      twoFactorUsers: this.#options.twoFactorUsers ?? [],
      scans: this.#scans,
      caller: (c) => this.#caller(c),
      loggedIn: () => {
        this.logins++;
      },
      tagDeleted: (name, tag, user) => this.webhooks.deleted(name, tag, user, this.#catalog!.meta(name)),
    };
    mountHubAuth(hub, context);
    mountHubRepositories(hub, context);
    hub.notFound((c) => dockerHubError(c, 404, "object not found"));
    hub.onError((_error, c) => dockerHubError(c, 500, "internal error"));
    app.route("/hub", hub);
  }

  /** Docker Hub's registry rules: own namespace to push, public repositories to pull anonymously. */
  #authorize(user: string | undefined, access: Access): string[] {
    if (access.type !== "repository") return [];
    const namespace = access.name.split("/")[0];
    const owner = user !== undefined && user === namespace;
    const isPrivate = this.#catalog?.meta(access.name).isPrivate ?? false;
    if (owner) return access.actions;
    if (isPrivate) return [];
    return access.actions.filter((a) => a === "pull");
  }

  /* Hub API authentication. */

  #caller(c: Context): Caller | Response {
    const header = c.req.header("authorization");
    if (!header) return {};
    const match = /^(?:Bearer|JWT)\s+(\S+)$/i.exec(header);
    const claims = match ? this.jwt.verify(match[1]!) : undefined;
    if (!claims) return dockerHubError(c, 401, "Token is invalid or expired");
    return { user: claims.username, claims };
  }

  async #apiRateLimit(c: Context, next: () => Promise<void>): Promise<Response | undefined> {
    const caller = this.#caller(c);
    const user = caller instanceof Response ? undefined : caller.user;
    const limit = user
      ? (this.#options.apiLimits?.authenticated ?? 600)
      : (this.#options.apiLimits?.anonymous ?? 180);
    const key = user ?? "anonymous";
    const now = Date.now();
    let window = this.#api.get(key);
    if (!window || window.resetAt <= now) {
      window = { count: 0, resetAt: now + 60_000 };
      this.#api.set(key, window);
    }
    const reset = String(Math.ceil(window.resetAt / 1000));
    if (window.count >= limit) {
      const response = dockerHubError(c, 429, "Too many requests");
      response.headers.set("retry-after", String(Math.max(1, Math.ceil((window.resetAt - now) / 1000))));
      response.headers.set("x-ratelimit-limit", String(limit));
      response.headers.set("x-ratelimit-remaining", "0");
      response.headers.set("x-ratelimit-reset", reset);
      return response;
    }
    window.count++;
    await next();
    c.res.headers.set("x-ratelimit-limit", String(limit));
    c.res.headers.set("x-ratelimit-remaining", String(limit - window.count));
    c.res.headers.set("x-ratelimit-reset", reset);
    return undefined;
  }
}

export function dockerHubFake(options: DockerHubFakeOptions = {}): DockerHubFake {
  return new DockerHubFake(options);
}
