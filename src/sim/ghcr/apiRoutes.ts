import type { Context, Hono } from "hono";
import { linkHeaderPage } from "../pagination.js";
import { packageShape, simpleUser, versionShape } from "./apiShapes.js";
import type { Caller, GhcrFakeContext } from "./ghcrContext.js";
import { githubError } from "./githubShapes.js";

type Need = "read" | "write" | "delete";

/** Scopes an endpoint accepts, as GitHub lists them in `X-Accepted-OAuth-Scopes`. */
const ACCEPTED: Record<Need, string[]> = {
  read: ["read:packages"],
  write: ["read:packages", "write:packages"],
  delete: ["read:packages", "delete:packages"],
};

/** write:packages includes read:packages on GitHub. */
function missingScopes(caller: Caller, need: Need): string[] {
  const held = new Set(caller.scopes);
  if (held.has("write:packages")) held.add("read:packages");
  return ACCEPTED[need].filter((s) => !held.has(s));
}

/**
 * The Packages API paths of the REST description for container packages,
 * under `/orgs/{org}`, `/users/{username}` and `/user`, and `GET /users/NAME`
 * (User or Organization). Every answer is in the description's shapes; a
 * package the caller may not see is a 404, as on GitHub.
 */
export function mountPackageRoutes(api: Hono, fake: GhcrFakeContext): void {
  const base = (c: Context) => new URL(c.req.url).origin + "/github";

  const authenticated = (c: Context, need: Need): Caller | Response => {
    const caller = fake.caller(c);
    if (caller instanceof Response) return caller;
    if (!caller) return githubError(c, 401, "Requires authentication");
    const missing = missingScopes(caller, need);
    if (missing.length > 0) {
      const response = githubError(
        c,
        403,
        `You need at least ${missing.join(" and ")} scope${missing.length > 1 ? "s" : ""} to do this.`,
      );
      response.headers.set("x-accepted-oauth-scopes", ACCEPTED[need].join(", "));
      response.headers.set("x-oauth-scopes", caller.scopes.join(", "));
      return response;
    }
    return caller;
  };

  /** The owner a path names, or the 404 GitHub answers for an unknown or mismatched one. */
  const ownerOf = (c: Context, caller: Caller, kind: "orgs" | "users" | "user") => {
    const login = kind === "user" ? caller.user : (c.req.param("org") ?? c.req.param("username") ?? "");
    const type = fake.ownerType(login);
    if (!type || (kind === "orgs") !== (type === "Organization")) return undefined;
    return { login, type };
  };

  api.get("/users/:username", (c) => {
    const login = c.req.param("username");
    const type = fake.ownerType(login);
    if (!type) return githubError(c, 404, "Not Found");
    return c.json(simpleUser(base(c), login, type));
  });
  api.get("/user", (c) => {
    const caller = authenticated(c, "read");
    if (caller instanceof Response) return caller;
    return c.json(simpleUser(base(c), caller.user, "User"));
  });

  for (const kind of ["orgs", "users", "user"] as const) {
    const prefix = kind === "orgs" ? "/orgs/:org" : kind === "users" ? "/users/:username" : "/user";
    const packagePath = `${prefix}/packages/:type/:name`;

    /** The package a request names, when it exists and the caller may see it (and, for writes, change it). */
    const target = async (c: Context, need: Need) => {
      const caller = authenticated(c, need);
      if (caller instanceof Response) return caller;
      const owner = ownerOf(c, caller, kind);
      if (c.req.param("type") !== "container") return githubError(c, 404, "Package not found.");
      const repository = owner ? `${owner.login}/${c.req.param("name")}`.toLowerCase() : undefined;
      const meta = repository ? fake.packages.package(repository) : undefined;
      const member = owner ? fake.mayWrite(caller.user, owner.login) : false;
      if (!owner || !repository || !meta || (!member && !fake.packages.isPublic(repository)))
        return githubError(c, 404, "Package not found.");
      if (need !== "read" && !member)
        return githubError(c, 403, "You do not have permission to change this package.");
      return { caller, owner, repository, meta };
    };

    api.get(`${prefix}/packages`, async (c) => {
      const caller = authenticated(c, "read");
      if (caller instanceof Response) return caller;
      const owner = ownerOf(c, caller, kind);
      if (!owner) return githubError(c, 404, "Not Found");
      const type = c.req.query("package_type");
      if (!type) return githubError(c, 400, "package_type is required");
      if (type !== "container") return c.json([]);
      const visibility = c.req.query("visibility");
      const member = fake.mayWrite(caller.user, owner.login);
      const items = [];
      for (const repository of await fake.packages.packagesOf(owner.login)) {
        const meta = fake.packages.package(repository)!;
        if (!member && meta.visibility !== "public") continue;
        if (visibility && visibility !== "internal" && meta.visibility !== visibility) continue;
        const versions = await fake.packages.active(repository);
        items.push(
          packageShape(base(c), repository, meta, owner.type, versions, fake.linkedRepository(repository)),
        );
      }
      const page = linkHeaderPage(items, new URL(c.req.url));
      return c.json(page.items, 200, page.link ? { link: page.link } : {});
    });

    api.get(packagePath, async (c) => {
      const found = await target(c, "read");
      if (found instanceof Response) return found;
      const versions = await fake.packages.active(found.repository);
      return c.json(
        packageShape(
          base(c),
          found.repository,
          found.meta,
          found.owner.type,
          versions,
          fake.linkedRepository(found.repository),
        ),
      );
    });

    api.get(`${packagePath}/versions`, async (c) => {
      const found = await target(c, "read");
      if (found instanceof Response) return found;
      const state = c.req.query("state") ?? "active";
      if (state !== "active" && state !== "deleted") return githubError(c, 422, "Invalid state");
      const items =
        state === "active"
          ? (await fake.packages.active(found.repository)).map((v) =>
              versionShape(base(c), found.repository, found.owner.type, v),
            )
          : fake.packages
              .deletedVersions(found.repository)
              .map((v) => versionShape(base(c), found.repository, found.owner.type, v, v.deletedAt));
      const page = linkHeaderPage(items, new URL(c.req.url));
      return c.json(page.items, 200, page.link ? { link: page.link } : {});
    });

    const versionId = (c: Context) => {
      const text = c.req.param("id") ?? "";
      return /^\d{1,15}$/.test(text) ? Number(text) : undefined;
    };

    api.get(`${packagePath}/versions/:id`, async (c) => {
      const found = await target(c, "read");
      if (found instanceof Response) return found;
      const id = versionId(c);
      const version = id === undefined ? undefined : await fake.packages.version(found.repository, id);
      if (!version) return githubError(c, 404, "Package version not found.");
      return c.json(versionShape(base(c), found.repository, found.owner.type, version));
    });

    api.delete(`${packagePath}/versions/:id`, async (c) => {
      const found = await target(c, "delete");
      if (found instanceof Response) return found;
      const id = versionId(c);
      if (id === undefined || !(await fake.packages.delete(found.repository, id)))
        return githubError(c, 404, "Package version not found.");
      return c.body(null, 204);
    });

    api.post(`${packagePath}/versions/:id/restore`, async (c) => {
      const found = await target(c, "write");
      if (found instanceof Response) return found;
      const id = versionId(c);
      if (id === undefined || !(await fake.packages.restore(found.repository, id)))
        return githubError(c, 404, "Package version not found.");
      return c.body(null, 204);
    });
  }
}
