import type { z } from "zod";
import { isDigest } from "../../core/digest.js";
import { InvalidInputError, NotFoundError, ProtocolError, UnsupportedError } from "../../core/errors.js";
import type { Telemetry } from "../../registry/telemetry.js";
import { githubError } from "./githubErrors.js";
import {
  type ContainerPackage,
  type OwnerType,
  ownerSchema,
  type PackageVersion,
  packageSchema,
  toPackage,
  toVersion,
  versionSchema,
} from "./model.js";
import type { GitHubOctokit } from "./octokit.js";

/** Whose packages to list: an organisation, a user, the authenticated user, or one repository. */
export type PackageScope = { org: string } | { user: string } | { mine: true } | { repository: string };

/** Which versions `versions()` yields. */
export interface VersionFilter {
  /** `active` (default) or `deleted` (restorable for 30 days). */
  state?: "active" | "deleted";
  tagged?: boolean;
  /** Only versions carrying a tag that this predicate accepts. */
  tag?: (tag: string) => boolean;
  /** Only versions created before this date. */
  olderThan?: Date;
  perPage?: number;
}

/** A package's visibility as GitHub names it. */
export type Visibility = "public" | "private" | "internal";

/**
 * GitHub's Packages API for container packages, on octokit. Owners are
 * looked up once (`GET /users/OWNER` says User or Organization) to pick the
 * `/orgs/…` or `/users/…` paths; listings are async iterators over every
 * `Link` page; a version is addressed by id, and found by tag or digest
 * (GHCR names a version after its manifest digest) when the id is unknown.
 */
export class PackagesApi {
  readonly #octokit: GitHubOctokit;
  readonly #telemetry: Telemetry;
  readonly #owners = new Map<string, Promise<OwnerType>>();
  /** The token's user, asked once (again only after a failure), however many packages lack an owner. */
  #viewerLogin: Promise<string> | undefined;

  constructor(options: { octokit: GitHubOctokit; telemetry: Telemetry }) {
    this.#octokit = options.octokit;
    this.#telemetry = options.telemetry;
  }

  /** `User` or `Organization` (cached per owner). */
  ownerType(owner: string): Promise<OwnerType> {
    let known = this.#owners.get(owner.toLowerCase());
    if (!known) {
      known = this.#call("owner.get", { owner }, async () => {
        const { data } = await this.#octokit.request("GET /users/{username}", { username: owner });
        const parsed = parse(ownerSchema, data, "owner");
        if (parsed.type !== "User" && parsed.type !== "Organization")
          throw new ProtocolError(`GitHub: ${owner} is a ${parsed.type}, not a user or organisation`, {
            provider: "ghcr",
          });
        return parsed.type as OwnerType;
      });
      known.catch(() => this.#owners.delete(owner.toLowerCase()));
      this.#owners.set(owner.toLowerCase(), known);
    }
    return known;
  }

  /** Container packages of an organisation, a user, the authenticated user, or one repository. */
  packages(scope: PackageScope, options: { visibility?: Visibility } = {}): AsyncIterable<ContainerPackage> {
    const api = this;
    return {
      async *[Symbol.asyncIterator]() {
        const query = { package_type: "container", per_page: 100, ...options };
        let route: string;
        let owner: string;
        let repository: string | undefined;
        if ("org" in scope) [route, owner] = [`GET /orgs/{org}/packages`, scope.org];
        else if ("user" in scope) [route, owner] = [`GET /users/{username}/packages`, scope.user];
        else if ("mine" in scope) [route, owner] = ["GET /user/packages", ""];
        else {
          // The REST API has no per-repository listing for containers: list the owner's and keep the repository's.
          const [o, r] = scope.repository.split("/");
          if (!o || !r) throw new InvalidInputError(`repository must be OWNER/REPO, got ${scope.repository}`);
          owner = o;
          repository = scope.repository.toLowerCase();
          route =
            (await api.ownerType(o)) === "Organization"
              ? "GET /orgs/{org}/packages"
              : "GET /users/{username}/packages";
        }
        const params = { ...query, org: owner, username: owner };
        for await (const value of api.#pages(route, params, packageSchema, "packages.list")) {
          // `/user/packages` names no owner: an answer that leaves `owner` out is the token's user's.
          const item = toPackage(value, value.owner || owner ? owner : await api.#viewer());
          if (repository === undefined || item.repository?.toLowerCase() === repository) yield item;
        }
      },
    };
  }

  /** One package (`GET …/packages/container/NAME`). */
  async package(owner: string, name: string): Promise<ContainerPackage> {
    const base = await this.#base(owner);
    return this.#call("package.get", { owner, package: name }, async () => {
      const { data } = await this.#octokit.request(`GET ${base}`, this.#params(owner, name));
      return toPackage(parse(packageSchema, data, "package"), owner);
    });
  }

  /** Every version of a package, newest first as GitHub lists them, filtered on the way. */
  versions(owner: string, name: string, filter: VersionFilter = {}): AsyncIterable<PackageVersion> {
    const api = this;
    return {
      async *[Symbol.asyncIterator]() {
        const base = await api.#base(owner);
        const params = {
          ...api.#params(owner, name),
          per_page: filter.perPage ?? 100,
          ...(filter.state ? { state: filter.state } : {}),
        };
        for await (const value of api.#pages(
          `GET ${base}/versions`,
          params,
          versionSchema,
          "versions.list",
        )) {
          const version = toVersion(value);
          if (filter.tagged !== undefined && filter.tagged !== version.tags.length > 0) continue;
          if (filter.tag && !version.tags.some(filter.tag)) continue;
          if (filter.olderThan && version.createdAt >= filter.olderThan) continue;
          yield version;
        }
      },
    };
  }

  /** One version by id. */
  async version(owner: string, name: string, id: number): Promise<PackageVersion> {
    const base = await this.#base(owner);
    return this.#call("version.get", { owner, package: name, version: String(id) }, async () => {
      const { data } = await this.#octokit.request(`GET ${base}/versions/{package_version_id}`, {
        ...this.#params(owner, name),
        package_version_id: id,
      });
      return toVersion(parse(versionSchema, data, "package version"));
    });
  }

  /**
   * A version by id, tag or digest. GHCR's API takes only ids: a tag or a
   * digest is looked up by walking the versions (`state: deleted` to restore one).
   */
  async findVersion(
    owner: string,
    name: string,
    idTagOrDigest: string | number,
    state: "active" | "deleted" = "active",
  ): Promise<PackageVersion> {
    const text = String(idTagOrDigest);
    if (/^\d+$/.test(text)) return this.version(owner, name, Number(text));
    const match = isDigest(text)
      ? (v: PackageVersion) => v.digest === text
      : (v: PackageVersion) => v.tags.includes(text);
    for await (const version of this.versions(owner, name, { state })) if (match(version)) return version;
    throw new NotFoundError(
      `ghcr.io/${owner}/${name}: no ${state === "deleted" ? "deleted " : ""}version ${isDigest(text) ? "with digest" : "tagged"} ${text}`,
      { provider: "ghcr" },
    );
  }

  /** Deletes a version by id (needs `delete:packages`). */
  async deleteVersion(owner: string, name: string, id: number): Promise<void> {
    const base = await this.#base(owner);
    await this.#call("version.delete", { owner, package: name, version: String(id) }, async () => {
      await this.#octokit.request(`DELETE ${base}/versions/{package_version_id}`, {
        ...this.#params(owner, name),
        package_version_id: id,
      });
    });
  }

  /** Restores a version deleted within the last 30 days (needs `write:packages`). */
  async restoreVersion(owner: string, name: string, id: number): Promise<void> {
    const base = await this.#base(owner);
    await this.#call("version.restore", { owner, package: name, version: String(id) }, async () => {
      await this.#octokit.request(`POST ${base}/versions/{package_version_id}/restore`, {
        ...this.#params(owner, name),
        package_version_id: id,
      });
    });
  }

  /** Deletes the version a tag or digest names (looked up first); answers which one it was. */
  async deleteByReference(owner: string, name: string, tagOrDigest: string): Promise<PackageVersion> {
    const version = await this.findVersion(owner, name, tagOrDigest);
    await this.deleteVersion(owner, name, version.id);
    return version;
  }

  /** A package's visibility (`public`, `private`). */
  async visibility(owner: string, name: string): Promise<string> {
    return (await this.package(owner, name)).visibility;
  }

  /** GitHub's REST API has no endpoint that changes a package's visibility: say where it can be done. */
  async setVisibility(owner: string, name: string, visibility: Visibility): Promise<never> {
    const type = await this.ownerType(owner);
    const settings =
      type === "Organization"
        ? `https://github.com/orgs/${owner}/packages/container/${encodeURIComponent(name)}/settings`
        : `https://github.com/users/${owner}/packages/container/${encodeURIComponent(name)}/settings`;
    throw new UnsupportedError(
      `GitHub's REST API cannot change a package's visibility; make ghcr.io/${owner}/${name} ${visibility} in its settings: ${settings}`,
      { provider: "ghcr" },
    );
  }

  /** The token's user (`GET /user`). */
  #viewer(): Promise<string> {
    this.#viewerLogin ??= this.#call("user.get", {}, async () => {
      const { data } = await this.#octokit.request("GET /user");
      return parse(ownerSchema, data, "user").login;
    }).catch((error: unknown) => {
      this.#viewerLogin = undefined;
      throw error;
    });
    return this.#viewerLogin;
  }

  async #base(owner: string): Promise<string> {
    return (await this.ownerType(owner)) === "Organization"
      ? "/orgs/{org}/packages/container/{package_name}"
      : "/users/{username}/packages/container/{package_name}";
  }

  #params(owner: string, name: string) {
    return { org: owner, username: owner, package_name: name };
  }

  async *#pages<S extends z.ZodType>(
    route: string,
    params: Record<string, unknown>,
    schema: S,
    operation: string,
  ): AsyncIterable<z.infer<S>> {
    const pages = this.#octokit.paginate.iterator(route as "GET /user/packages", params as never);
    const iterator = pages[Symbol.asyncIterator]();
    for (;;) {
      const next = await this.#call(operation, { route }, () => iterator.next());
      if (next.done) return;
      const data = next.value.data as unknown;
      if (!Array.isArray(data))
        throw new ProtocolError(`GitHub: ${route} did not answer a list`, { provider: "ghcr" });
      for (const item of data) yield parse(schema, item, operation);
    }
  }

  async #call<T>(operation: string, attributes: Record<string, string>, fn: () => Promise<T>): Promise<T> {
    return this.#telemetry.operation("ghcr.io", operation, attributes, async () => {
      try {
        return await fn();
      } catch (error) {
        throw githubError(error, operation);
      }
    });
  }
}

function parse<S extends z.ZodType>(schema: S, value: unknown, what: string): z.infer<S> {
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new ProtocolError(
      `unexpected GitHub answer for ${what} at ${issue.path.join(".") || "(root)"}: ${issue.message}`,
      { provider: "ghcr" },
    );
  }
  return parsed.data;
}
