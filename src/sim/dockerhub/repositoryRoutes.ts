import type { Context, Hono } from "hono";
import { isDigest } from "../../core/digest.js";
import { parseDockerHubRepository } from "../../core/names.js";
import { isValidTag } from "../../core/reference.js";
import { pageNumberPage } from "../pagination.js";
import { numericId } from "./catalog.js";
import { type Caller, type HubFakeContext, jsonBody, valueError } from "./hubContext.js";
import { dockerHubError } from "./hubShapes.js";
import { syntheticScan } from "./scans.js";

const ORDERINGS = new Set(["name", "-name", "last_updated", "-last_updated", "pull_count", "-pull_count"]);

/**
 * Repositories, tags, search and scan overviews: the documented
 * `/v2/namespaces/…` paths and the older ones Docker Hub serves for search,
 * deletes and scans.
 */
export function mountHubRepositories(hub: Hono, ctx: HubFakeContext): void {
  const catalog = () => ctx.catalog;
  /** The repository named by the route when the caller may see it, else the error response. */
  const visible = async (c: Context, write = false): Promise<{ name: string; caller: Caller } | Response> => {
    const caller = ctx.caller(c);
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
    const caller = ctx.caller(c);
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
    const entries = await Promise.all(names.map((name) => listEntry(ctx, name)));
    sortEntries(entries, ordering ?? "name");
    const page = pageNumberPage(entries, url);
    if (page.results.length === 0 && Number(url.searchParams.get("page") ?? 1) > 1)
      return dockerHubError(c, 404, "page not found");
    return c.json(page);
  });

  hub.post("/v2/namespaces/:namespace/repositories", async (c) => {
    const caller = ctx.caller(c);
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
    return c.json(await info(ctx, name, caller), 201);
  });

  hub.on(["GET", "HEAD"], "/v2/namespaces/:namespace/repositories/:repository", async (c) => {
    const found = await visible(c);
    if (found instanceof Response) return found;
    return c.json(await info(ctx, found.name, found.caller));
  });

  hub.on(["GET", "HEAD"], "/v2/namespaces/:namespace/repositories/:repository/tags", async (c) => {
    const found = await visible(c);
    if (found instanceof Response) return found;
    const url = new URL(c.req.url);
    const pageSize = url.searchParams.get("page_size");
    if (pageSize !== null && !(Number(pageSize) >= 1 && Number(pageSize) <= 100))
      return valueError(c, { page_size: ["must be between 1 and 100"] }, "Invalid page_size");
    const tags = await ctx.sim.storage.tags(found.name);
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
    if (!isValidTag(tag) || !(await ctx.sim.storage.deleteTag(found.name, tag)))
      return dockerHubError(c, 404, "tag not found");
    ctx.tagDeleted(found.name, tag, found.caller.user ?? "anonymous");
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
    const caller = ctx.caller(c);
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
    const preset = ctx.scans.get(digest);
    if (preset) return c.json(preset);
    const manifest = await ctx.sim.storage.getManifest(found.name, digest);
    if (!manifest) return dockerHubError(c, 404, "image not found");
    return c.json(syntheticScan(digest, catalog().meta(found.name).lastUpdated));
  });
}

async function listEntry(ctx: HubFakeContext, name: string) {
  const meta = ctx.catalog.meta(name);
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
    media_types: await mediaTypes(ctx, name),
    content_types: ["image"],
    categories: [],
    storage_size: 0,
  };
}

async function mediaTypes(ctx: HubFakeContext, name: string): Promise<string[]> {
  const types = new Set<string>();
  for (const tag of await ctx.sim.storage.tags(name)) {
    const digest = await ctx.sim.storage.resolveTag(name, tag);
    const manifest = digest ? await ctx.sim.storage.getManifest(name, digest) : undefined;
    if (manifest) types.add(manifest.mediaType);
  }
  return [...types].sort();
}

async function info(ctx: HubFakeContext, name: string, caller: Caller) {
  const entry = await listEntry(ctx, name);
  const owner = caller.user === entry.namespace;
  return {
    ...entry,
    user: entry.namespace,
    is_automated: false,
    collaborator_count: 0,
    hub_user: entry.namespace,
    has_starred: false,
    full_description: ctx.catalog.meta(name).fullDescription,
    permissions: { read: owner || !entry.is_private, write: owner, admin: owner },
    immutable_tags_settings: { enabled: false, rules: [] },
    storage_size: null,
    source: null,
    id: numericId(name),
  };
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

function isValidDockerHubRepository(name: string): boolean {
  try {
    parseDockerHubRepository(name);
    return true;
  } catch {
    return false;
  }
}
