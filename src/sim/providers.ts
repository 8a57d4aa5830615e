import type { Context, Hono } from "hono";
import { ConfigurationError } from "../core/errors.js";
import type { RegistryAppOptions, SimContext } from "./context.js";

/**
 * A fake of a provider's management API (Docker Hub API, GitHub Packages,
 * Artifact Registry). It mounts its routes on the embedded registry's app
 * and reads the same storage, so an image pushed to the registry shows up in
 * the fake's listings. Provider modules register theirs in PROVIDER_FAKES.
 */
export interface ProviderFake {
  readonly id: string;
  /** Named endpoints it serves, as paths on the server: `{ "dockerhub-api": "/hub" }`. */
  readonly endpoints: Record<string, string>;
  /** Adjusts the registry's options before it is built (e.g. Docker Hub wants token auth). */
  configure?(options: RegistryAppOptions): RegistryAppOptions;
  mount(app: Hono, sim: SimContext): void;
}

/** The fakes that exist, by id; each provider issue adds its own. */
export interface ProviderFakeSettings {
  /** Registry pull budget: anonymous and authenticated pulls per window (Docker Hub). */
  pullLimits?: { anonymous?: number; authenticated?: number };
  /** Where the fakes deliver their webhooks, signed with `secret` when one is given. */
  webhooks?: Array<{ url: string; secret?: string }>;
}

export const PROVIDER_FAKES: Record<string, (settings: ProviderFakeSettings) => Promise<ProviderFake>> = {
  dockerhub: async (settings) =>
    (await import("./dockerhub/fake.js")).dockerHubFake({
      ...(settings.pullLimits ? { pullLimits: settings.pullLimits } : {}),
      ...(settings.webhooks ? { webhooks: settings.webhooks } : {}),
    }),
};

/** Resolves `serve --providers a,b` to fakes; unknown names are a clear error. */
export async function loadProviderFakes(
  names: string[],
  settings: ProviderFakeSettings = {},
): Promise<ProviderFake[]> {
  const known = Object.keys(PROVIDER_FAKES);
  const fakes: ProviderFake[] = [];
  for (const name of names) {
    const load = PROVIDER_FAKES[name];
    if (!load) {
      throw new ConfigurationError(
        `no provider fake named ${JSON.stringify(name)} (available: ${known.length > 0 ? known.join(", ") : "none yet"})`,
      );
    }
    fakes.push(await load(settings));
  }
  return fakes;
}

/* Pagination styles of the provider APIs. */

/** Docker Hub: `?page=&page_size=` → `{count, next, previous, results}`. */
export function pageNumberPage<T>(items: T[], url: URL, defaults = { pageSize: 10, maxPageSize: 100 }) {
  const page = Math.max(1, Number(url.searchParams.get("page") ?? 1) || 1);
  const size = Math.min(
    defaults.maxPageSize,
    Math.max(1, Number(url.searchParams.get("page_size") ?? defaults.pageSize) || defaults.pageSize),
  );
  const start = (page - 1) * size;
  const at = (n: number) => {
    const next = new URL(url.href);
    next.searchParams.set("page", String(n));
    next.searchParams.set("page_size", String(size));
    return next.href;
  };
  return {
    count: items.length,
    next: start + size < items.length ? at(page + 1) : null,
    previous: page > 1 ? at(page - 1) : null,
    results: items.slice(start, start + size),
  };
}

/** GitHub: `?page=&per_page=` → the items and a `Link` header with next/prev/first/last. */
export function linkHeaderPage<T>(items: T[], url: URL, defaults = { perPage: 30, maxPerPage: 100 }) {
  const page = Math.max(1, Number(url.searchParams.get("page") ?? 1) || 1);
  const per = Math.min(
    defaults.maxPerPage,
    Math.max(1, Number(url.searchParams.get("per_page") ?? defaults.perPage) || defaults.perPage),
  );
  const last = Math.max(1, Math.ceil(items.length / per));
  const at = (n: number) => {
    const target = new URL(url.href);
    target.searchParams.set("page", String(n));
    target.searchParams.set("per_page", String(per));
    return target.href;
  };
  const links: string[] = [];
  if (page < last) links.push(`<${at(page + 1)}>; rel="next"`, `<${at(last)}>; rel="last"`);
  if (page > 1) links.push(`<${at(1)}>; rel="first"`, `<${at(page - 1)}>; rel="prev"`);
  return {
    items: items.slice((page - 1) * per, page * per),
    link: links.length > 0 ? links.join(", ") : undefined,
  };
}

/** Google: `?pageToken=&pageSize=` → the items and `nextPageToken` (an opaque offset). */
export function pageTokenPage<T>(items: T[], url: URL, defaults = { pageSize: 100, maxPageSize: 1000 }) {
  const token = url.searchParams.get("pageToken");
  const offset = token ? Number(Buffer.from(token, "base64url").toString("utf8")) : 0;
  const size = Math.min(
    defaults.maxPageSize,
    Math.max(1, Number(url.searchParams.get("pageSize") ?? defaults.pageSize) || defaults.pageSize),
  );
  const start = Number.isSafeInteger(offset) && offset >= 0 ? offset : 0;
  const end = start + size;
  return {
    items: items.slice(start, end),
    nextPageToken: end < items.length ? Buffer.from(String(end)).toString("base64url") : undefined,
  };
}

/* Error bodies, as each API shapes them. */

export function dockerHubError(c: Context, status: number, message: string): Response {
  return c.json({ message, detail: message, errinfo: {} }, status as 400);
}

export function githubError(c: Context, status: number, message: string): Response {
  return c.json({ message, documentation_url: "https://docs.github.com/rest" }, status as 400);
}

const GOOGLE_STATUS: Record<number, string> = {
  400: "INVALID_ARGUMENT",
  401: "UNAUTHENTICATED",
  403: "PERMISSION_DENIED",
  404: "NOT_FOUND",
  409: "ALREADY_EXISTS",
  429: "RESOURCE_EXHAUSTED",
  500: "INTERNAL",
  503: "UNAVAILABLE",
};

export function googleError(c: Context, status: number, message: string): Response {
  return c.json(
    { error: { code: status, message, status: GOOGLE_STATUS[status] ?? "UNKNOWN" } },
    status as 400,
  );
}

/* Rate-limit headers, as each provider sends them. */

export function dockerHubRateLimitHeaders(
  limit: number,
  remaining: number,
  source: string,
  windowSeconds = 21_600,
) {
  return {
    "ratelimit-limit": `${limit};w=${windowSeconds}`,
    "ratelimit-remaining": `${remaining};w=${windowSeconds}`,
    "docker-ratelimit-source": source,
  };
}

export function githubRateLimitHeaders(limit: number, remaining: number, resetAt: Date, resource = "core") {
  return {
    "x-ratelimit-limit": String(limit),
    "x-ratelimit-remaining": String(remaining),
    "x-ratelimit-used": String(limit - remaining),
    "x-ratelimit-reset": String(Math.floor(resetAt.getTime() / 1000)),
    "x-ratelimit-resource": resource,
  };
}
