import { type Context, Hono } from "hono";
import { type Digest, isDigest } from "../../core/digest.js";
import { parseDockerHubRepository } from "../../core/names.js";
import { isValidTag } from "../../core/reference.js";
import type { Access } from "../auth/jwt.js";
import type { RegistryAppOptions, SimContext } from "../context.js";
import { dockerHubError, type ProviderFake, pageNumberPage } from "../providers.js";
import { AccessTokens, publicView, validScopes } from "./accessTokens.js";
import { HubCatalog, numericId } from "./catalog.js";
import { type HubClaims, HubJwt } from "./hubJwt.js";
import { PullLimiter, type PullLimits } from "./pullLimit.js";
import { type ScanOverview, syntheticScan, unscanned } from "./scans.js";

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
  /** Personal access tokens to create at start: username → token secrets. */
  accessTokens?: Record<string, string[]>;
}

type Caller = { user?: string; claims?: HubClaims };

const ORDERINGS = new Set(["name", "-name", "last_updated", "-last_updated", "pull_count", "-pull_count"]);

/**
 * The Docker Hub fake: the Hub API (as described by docker/docs' OpenAPI
 * file in shared/reference, plus the undocumented search, delete and scan
 * paths Docker Hub serves) under `/hub`, and Docker Hub's registry
 * behaviour on the embedded registry: token auth with anonymous pulls,
 * private repositories, namespaces owned by their user, and pull-rate
 * limits with `RateLimit-*` headers.
 */
export class DockerHubFake implements ProviderFake {
  readonly id = "dockerhub";
  readonly endpoints = { "dockerhub-api": "/hub", "dockerhub-registry": "", "dockerhub-auth": "" };
  readonly jwt: HubJwt;
  readonly #options: DockerHubFakeOptions;
  readonly #scans = new Map<Digest, ScanOverview>();
  readonly #api = new Map<string, { count: number; resetAt: number }>();
  #sim: SimContext | undefined;
  #catalog: HubCatalog | undefined;
  #tokens: AccessTokens | undefined;
  #pulls: PullLimiter | undefined;
  /** Logins served (both endpoints), for tests that count them. */
  logins = 0;

  constructor(options: DockerHubFakeOptions = {}) {
    this.#options = options;
    this.jwt = new HubJwt(options.jwtTtlSeconds ?? 600);
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
    this.#sim = sim;
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
      if (!isDigest(reference))
        this.catalog.pushed(decodeURIComponent(match[1]!), reference, this.pulls.identify(c).user);
    });
    const hub = new Hono();
    hub.use("*", (c, next) => this.#apiRateLimit(c, next));
    this.#mountAuth(hub);
    this.#mountRepositories(hub);
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

  #mountAuth(hub: Hono): void {
    const users = () => this.#sim!.users;
    const login = (c: Context, username: string, secret: string, legacy: boolean): Response => {
      this.logins++;
      const pat = this.accessTokens.match(username, secret);
      const password = !pat && users().checkPassword(username, secret);
      if (!pat && !password) return dockerHubError(c, 401, "Incorrect authentication credentials");
      if (password && this.#options.twoFactorUsers?.includes(username)) {
        // The legacy endpoint starts a second-factor exchange; neither accepts the password alone.
        return c.json(
          {
            detail: "Require secondary authentication on MFA enabled account",
            ...(legacy ? { login_2fa_token: this.jwt.issue(username, "password") } : {}),
          },
          401,
        );
      }
      const token = this.jwt.issue(username, pat ? "pat" : "password");
      return c.json(legacy ? { token } : { access_token: token });
    };
    hub.post("/v2/auth/token", async (c) => {
      const body = await jsonBody(c);
      if (typeof body?.identifier !== "string" || typeof body.secret !== "string")
        return valueError(
          c,
          { identifier: ["required"], secret: ["required"] },
          "identifier and secret are required",
        );
      return login(c, body.identifier, body.secret, false);
    });
    hub.post("/v2/users/login", async (c) => {
      const body = await jsonBody(c);
      if (typeof body?.username !== "string" || typeof body.password !== "string")
        return valueError(
          c,
          { username: ["required"], password: ["required"] },
          "username and password are required",
        );
      return login(c, body.username, body.password, true);
    });

    const owner = (c: Context): HubClaims | Response => {
      const caller = this.#caller(c);
      if (caller instanceof Response) return caller;
      return caller.claims ?? dockerHubError(c, 401, "authentication required");
    };
    hub.post("/v2/access-tokens", async (c) => {
      const claims = owner(c);
      if (claims instanceof Response) return claims;
      if (claims.auth !== "password")
        return dockerHubError(c, 403, "access tokens cannot be managed with an access token");
      const body = await jsonBody(c);
      const label = body?.token_label;
      if (typeof label !== "string" || label.length < 1 || label.length > 100 || !validScopes(body?.scopes))
        return valueError(
          c,
          { token_label: ["1-100 characters"], scopes: ["repo:admin|write|read|public_read"] },
          "invalid token request",
        );
      const entry = this.accessTokens.create(
        claims.username,
        {
          token_label: label,
          scopes: body.scopes as string[],
          ...(typeof body.expires_at === "string" ? { expires_at: body.expires_at } : {}),
        },
        { ip: "127.0.0.1", ua: c.req.header("user-agent") ?? "" },
      );
      return c.json(publicView(entry, true), 201);
    });
    hub.get("/v2/access-tokens", (c) => {
      const claims = owner(c);
      if (claims instanceof Response) return claims;
      const all = this.accessTokens.list(claims.username);
      const page = pageNumberPage(all, new URL(c.req.url));
      // This schema types next/previous as plain strings: absent rather than null when there is none.
      const { next, previous, ...rest } = page;
      return c.json({
        ...rest,
        ...(next ? { next } : {}),
        ...(previous ? { previous } : {}),
        active_count: all.filter((t) => t.is_active).length,
        results: page.results.map((t) => publicView(t)),
      });
    });
    const withToken = (
      c: Context,
      fn: (entry: ReturnType<AccessTokens["get"]> & object) => Response | Promise<Response>,
    ) => {
      const claims = owner(c);
      if (claims instanceof Response) return claims;
      const entry = this.accessTokens.get(claims.username, c.req.param("uuid") ?? "");
      return entry ? fn(entry) : dockerHubError(c, 404, "access token not found");
    };
    hub.get("/v2/access-tokens/:uuid", (c) => withToken(c, (entry) => c.json(publicView(entry))));
    hub.patch("/v2/access-tokens/:uuid", (c) =>
      withToken(c, async (entry) => {
        const body = await jsonBody(c);
        if (body?.is_active !== undefined && typeof body.is_active !== "boolean")
          return valueError(c, { is_active: ["must be a boolean"] }, "invalid patch");
        this.accessTokens.update(entry, {
          ...(typeof body?.token_label === "string" ? { token_label: body.token_label } : {}),
          ...(typeof body?.is_active === "boolean" ? { is_active: body.is_active } : {}),
        });
        return c.json(publicView(entry));
      }),
    );
    hub.delete("/v2/access-tokens/:uuid", (c) =>
      withToken(c, (entry) => {
        this.accessTokens.delete(entry);
        return c.body(null, 204);
      }),
    );
  }

  /* Repositories, tags, search, scans. */

  #mountRepositories(hub: Hono): void {
    const catalog = () => this.catalog;
    /** The repository named by the route when the caller may see it, else the error response. */
    const visible = async (
      c: Context,
      write = false,
    ): Promise<{ name: string; caller: Caller } | Response> => {
      const caller = this.#caller(c);
      if (caller instanceof Response) return caller;
      const name = `${c.req.param("namespace")}/${c.req.param("repository")}`;
      if (!isValidDockerHubRepository(name) || !(await catalog().exists(name)))
        return dockerHubError(c, 404, "object not found");
      const isOwner = caller.user === c.req.param("namespace");
      if (write && !caller.user) return dockerHubError(c, 401, "authentication required");
      if ((write || catalog().meta(name).isPrivate) && !isOwner)
        return dockerHubError(c, 403, "you do not have access to this repository");
      return { name, caller };
    };

    hub.get("/v2/namespaces/:namespace/repositories", async (c) => {
      const caller = this.#caller(c);
      if (caller instanceof Response) return caller;
      const url = new URL(c.req.url);
      const ordering = url.searchParams.get("ordering");
      if (ordering !== null && !ORDERINGS.has(ordering)) {
        return c.json(
          {
            fields: { ordering: [`Invalid ordering value. Must be one of: ${[...ORDERINGS].join(", ")}`] },
            text: "Invalid ordering value",
          },
          400,
        );
      }
      const pageSize = url.searchParams.get("page_size");
      if (pageSize !== null && !(Number(pageSize) >= 1 && Number(pageSize) <= 100))
        return valueError(c, { page_size: ["must be between 1 and 100"] }, "Invalid page_size");
      const namespace = c.req.param("namespace");
      const filter = url.searchParams.get("name")?.toLowerCase();
      const names = (await catalog().names()).filter(
        (name) =>
          name.startsWith(`${namespace}/`) &&
          (!catalog().meta(name).isPrivate || caller.user === namespace) &&
          (!filter || name.split("/")[1]!.includes(filter)),
      );
      const entries = await Promise.all(names.map((name) => this.#listEntry(name)));
      sortEntries(entries, ordering ?? "name");
      const page = pageNumberPage(entries, url);
      if (page.results.length === 0 && Number(url.searchParams.get("page") ?? 1) > 1)
        return dockerHubError(c, 404, "page not found");
      return c.json(page);
    });

    hub.post("/v2/namespaces/:namespace/repositories", async (c) => {
      const caller = this.#caller(c);
      if (caller instanceof Response) return caller;
      const namespace = c.req.param("namespace");
      if (!caller.user) return dockerHubError(c, 401, "authentication required");
      if (caller.user !== namespace) return dockerHubError(c, 403, "you cannot create repositories here");
      const body = await jsonBody(c);
      const name = `${namespace}/${String(body?.name ?? "")}`;
      if (!isValidDockerHubRepository(name))
        return valueError(c, { name: ["invalid name"] }, "invalid repository name");
      if (await catalog().exists(name)) return dockerHubError(c, 409, "repository already exists");
      catalog().create(name, {
        isPrivate: body?.is_private === true,
        description: typeof body?.description === "string" ? body.description : "",
        fullDescription: typeof body?.full_description === "string" ? body.full_description : "",
      });
      return c.json(await this.#info(name, caller), 201);
    });

    hub.on(["GET", "HEAD"], "/v2/namespaces/:namespace/repositories/:repository", async (c) => {
      const found = await visible(c);
      if (found instanceof Response) return found;
      return c.json(await this.#info(found.name, found.caller));
    });

    hub.on(["GET", "HEAD"], "/v2/namespaces/:namespace/repositories/:repository/tags", async (c) => {
      const found = await visible(c);
      if (found instanceof Response) return found;
      const url = new URL(c.req.url);
      const pageSize = url.searchParams.get("page_size");
      if (pageSize !== null && !(Number(pageSize) >= 1 && Number(pageSize) <= 100))
        return valueError(c, { page_size: ["must be between 1 and 100"] }, "Invalid page_size");
      const tags = await this.#sim!.storage.tags(found.name);
      const described = (await Promise.all(tags.map((t) => catalog().tag(found.name, t)))).filter(
        (t): t is Record<string, unknown> => t !== undefined,
      );
      // Newest first, as Docker Hub lists them.
      described.sort(
        (a, b) =>
          String(b.last_updated).localeCompare(String(a.last_updated)) ||
          String(a.name).localeCompare(String(b.name)),
      );
      return c.json(pageNumberPage(described, url));
    });

    hub.on(["GET", "HEAD"], "/v2/namespaces/:namespace/repositories/:repository/tags/:tag", async (c) => {
      const found = await visible(c);
      if (found instanceof Response) return found;
      const tag = await catalog().tag(found.name, c.req.param("tag"));
      return tag ? c.json(tag) : dockerHubError(c, 404, "tag not found");
    });

    // Undocumented in the published description; served by Docker Hub at these older paths.
    const deleteTag = async (c: Context) => {
      const found = await visible(c, true);
      if (found instanceof Response) return found;
      const tag = c.req.param("tag") ?? "";
      if (!isValidTag(tag) || !(await this.#sim!.storage.deleteTag(found.name, tag)))
        return dockerHubError(c, 404, "tag not found");
      return c.body(null, 204);
    };
    hub.delete("/v2/repositories/:namespace/:repository/tags/:tag", deleteTag);
    hub.delete("/v2/repositories/:namespace/:repository/tags/:tag/", deleteTag);

    const deleteRepository = async (c: Context) => {
      const found = await visible(c, true);
      if (found instanceof Response) return found;
      await catalog().deleteRepository(found.name);
      return c.body(null, 202);
    };
    hub.delete("/v2/repositories/:namespace/:repository", deleteRepository);
    hub.delete("/v2/repositories/:namespace/:repository/", deleteRepository);

    const search = async (c: Context) => {
      const caller = this.#caller(c);
      if (caller instanceof Response) return caller;
      const url = new URL(c.req.url);
      const query = (url.searchParams.get("query") ?? "").trim().toLowerCase();
      if (!query) return valueError(c, { query: ["required"] }, "query is required");
      const names = (await catalog().names()).filter((name) => {
        const meta = catalog().meta(name);
        return !meta.isPrivate && (name.includes(query) || meta.description.toLowerCase().includes(query));
      });
      const results = names.map((name) => {
        const meta = catalog().meta(name);
        const [namespace] = name.split("/") as [string, string];
        return {
          repo_name: namespace === "library" ? name.slice("library/".length) : name,
          short_description: meta.description,
          star_count: meta.starCount,
          pull_count: meta.pullCount,
          repo_owner: namespace,
          is_automated: false,
          is_official: namespace === "library",
        };
      });
      results.sort((a, b) => b.pull_count - a.pull_count || a.repo_name.localeCompare(b.repo_name));
      return c.json(pageNumberPage(results, url, { pageSize: 25, maxPageSize: 100 }));
    };
    hub.get("/v2/search/repositories", search);
    hub.get("/v2/search/repositories/", search);

    hub.get("/v2/repositories/:namespace/:repository/images/:digest/scan", async (c) => {
      const found = await visible(c);
      if (found instanceof Response) return found;
      const digest = c.req.param("digest");
      if (!isDigest(digest)) return valueError(c, { digest: ["invalid digest"] }, "invalid digest");
      const preset = this.#scans.get(digest);
      if (preset) return c.json(preset);
      const manifest = await this.#sim!.storage.getManifest(found.name, digest);
      if (!manifest) return dockerHubError(c, 404, "image not found");
      return c.json(syntheticScan(digest, catalog().meta(found.name).lastUpdated));
    });
  }

  async #listEntry(name: string) {
    const meta = this.catalog.meta(name);
    const [namespace, repository] = name.split("/") as [string, string];
    return {
      name: repository,
      namespace,
      repository_type: "image",
      status: 1,
      status_description: "active",
      description: meta.description,
      is_private: meta.isPrivate,
      star_count: meta.starCount,
      pull_count: meta.pullCount,
      last_updated: meta.lastUpdated,
      last_modified: meta.lastUpdated,
      date_registered: meta.dateRegistered,
      affiliation: "",
      media_types: await this.#mediaTypes(name),
      content_types: ["image"],
      categories: [],
      storage_size: 0,
    };
  }

  async #mediaTypes(name: string): Promise<string[]> {
    const types = new Set<string>();
    for (const tag of await this.#sim!.storage.tags(name)) {
      const digest = await this.#sim!.storage.resolveTag(name, tag);
      const manifest = digest ? await this.#sim!.storage.getManifest(name, digest) : undefined;
      if (manifest) types.add(manifest.mediaType);
    }
    return [...types].sort();
  }

  async #info(name: string, caller: Caller) {
    const entry = await this.#listEntry(name);
    const owner = caller.user === entry.namespace;
    return {
      ...entry,
      user: entry.namespace,
      is_automated: false,
      collaborator_count: 0,
      hub_user: entry.namespace,
      has_starred: false,
      full_description: this.catalog.meta(name).fullDescription,
      permissions: { read: owner || !entry.is_private, write: owner, admin: owner },
      immutable_tags_settings: { enabled: false, rules: [] },
      storage_size: null,
      source: null,
      id: numericId(name),
    };
  }
}

function sortEntries(
  entries: Array<{ name: string; last_updated: string; pull_count: number }>,
  ordering: string,
) {
  const descending = ordering.startsWith("-");
  const field = ordering.replace(/^-/, "") as "name" | "last_updated" | "pull_count";
  entries.sort((a, b) => {
    const x = a[field];
    const y = b[field];
    const order = typeof x === "number" ? x - (y as number) : String(x).localeCompare(String(y));
    return descending ? -order : order;
  });
}

async function jsonBody(c: Context): Promise<Record<string, unknown> | undefined> {
  try {
    const value = (await c.req.json()) as unknown;
    return value && typeof value === "object" && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

/** The API's `ValueError` body for invalid input. */
function valueError(c: Context, fields: Record<string, string[]>, text: string): Response {
  return c.json({ fields, text }, 400);
}

function isValidDockerHubRepository(name: string): boolean {
  try {
    parseDockerHubRepository(name);
    return true;
  } catch {
    return false;
  }
}

export function dockerHubFake(options: DockerHubFakeOptions = {}): DockerHubFake {
  return new DockerHubFake(options);
}
