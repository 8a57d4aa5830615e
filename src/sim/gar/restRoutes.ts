import { randomUUID } from "node:crypto";
import type { Context, Hono } from "hono";
import { type Digest, isDigest } from "../../core/digest.js";
import { pageTokenPage } from "../pagination.js";
import type { FakeGarRepository, FakeVersion, GarCatalog } from "./catalog.js";
import type { GoogleAuthFake } from "./googleAuthFake.js";
import { googleError } from "./googleShapes.js";

const NOT_FOUND = "Requested entity was not found.";

interface Route {
  project: string;
  location: string;
  rest: string[];
}

function denied(c: Context, permission: string, resource: string): Response {
  return googleError(
    c,
    403,
    `Permission "${permission}" denied on resource "${resource}" (or it may not exist).`,
  );
}

/**
 * Artifact Registry REST v1 under `/gar/v1`, in the shapes of the discovery
 * document: repositories, packages, versions (delete with `force`), tags,
 * files and Docker images, `pageToken` pages, Google error bodies, and
 * PERMISSION_DENIED for projects the caller has no access to.
 */
export function mountArtifactRegistry(app: Hono, auth: GoogleAuthFake, catalog: GarCatalog): void {
  app.all("/gar/v1/*", async (c) => {
    const path = new URL(c.req.url).pathname.slice("/gar/v1/".length).split("/");
    if (path[0] !== "projects" || path[2] !== "locations" || !path[1] || !path[3])
      return googleError(c, 404, NOT_FOUND);
    const route: Route = { project: path[1], location: path[3], rest: path.slice(4) };
    const caller = auth.caller(c);
    if (caller === "missing")
      return googleError(
        c,
        401,
        "Request is missing required authentication credential. Expected OAuth 2 access token.",
      );
    if (caller === "invalid") return googleError(c, 401, "Request had invalid authentication credentials.");
    const parent = `projects/${route.project}/locations/${route.location}`;
    if (!caller.projects.includes(route.project)) {
      const verb = c.req.method === "GET" ? "list" : c.req.method === "DELETE" ? "delete" : "create";
      return denied(
        c,
        `artifactregistry.${route.rest.length > 2 ? "versions" : "repositories"}.${verb}`,
        parent,
      );
    }
    return dispatch(c, route, parent, catalog);
  });
}

async function dispatch(c: Context, route: Route, parent: string, catalog: GarCatalog): Promise<Response> {
  const [kind, repoId, sub, pkgId, child, childId, extra] = route.rest;
  const url = new URL(c.req.url);
  const method = c.req.method;
  if (kind !== "repositories" || extra !== undefined) return googleError(c, 404, NOT_FOUND);
  if (repoId === undefined) {
    if (method !== "GET") return googleError(c, 400, "method not allowed");
    const repos = catalog.repositories.filter(
      (r) => r.project === route.project && r.location === route.location,
    );
    const page = pageTokenPage(
      repos.map((r) => repositoryJson(r)),
      url,
    );
    return c.json({
      repositories: page.items,
      ...(page.nextPageToken ? { nextPageToken: page.nextPageToken } : {}),
    });
  }
  const repo = catalog.find(route.project, route.location, repoId);
  if (!repo) return googleError(c, 404, NOT_FOUND);
  const repoName = `${parent}/repositories/${repoId}`;
  if (sub === undefined)
    return method === "GET" ? c.json(repositoryJson(repo)) : googleError(c, 400, "method not allowed");
  if (sub === "packages") {
    if (pkgId === undefined) {
      const names = await catalog.packages(repo);
      const page = pageTokenPage(names, url);
      return listJson(c, "packages", page, (name) => ({
        name: `${repoName}/packages/${encodeURIComponent(name)}`,
        displayName: name,
      }));
    }
    const pkg = decodeURIComponent(pkgId);
    const pkgName = `${repoName}/packages/${encodeURIComponent(pkg)}`;
    const versions = await catalog.versions(repo, pkg);
    if (!versions) return googleError(c, 404, NOT_FOUND);
    if (child === undefined) {
      const times = versions.map((v) => v.createTime).sort();
      return c.json({ name: pkgName, displayName: pkg, createTime: times[0], updateTime: times.at(-1) });
    }
    if (child === "versions") return versionRoutes(c, { repo, pkg, pkgName, versions, childId, catalog });
    if (child === "tags") return tagRoutes(c, { repo, pkg, pkgName, versions, childId, catalog });
    return googleError(c, 404, NOT_FOUND);
  }
  if (sub === "files") return fileRoutes(c, repo, repoName, pkgId, catalog);
  if (sub === "dockerImages" && pkgId === undefined && repo.format === "DOCKER") {
    const images: Array<Record<string, unknown>> = [];
    for (const pkg of await catalog.packages(repo))
      for (const v of (await catalog.versions(repo, pkg)) ?? [])
        images.push({
          name: `${repoName}/dockerImages/${encodeURIComponent(`${pkg}@${v.id}`)}`,
          uri: `${repo.location}-docker.pkg.dev/${repo.project}/${repo.repository}/${pkg}@${v.id}`,
          tags: v.tags,
          imageSizeBytes: String(v.manifest?.bytes.byteLength ?? 0),
          uploadTime: v.createTime,
          updateTime: v.createTime,
          mediaType: v.manifest?.mediaType,
        });
    return listJson(c, "dockerImages", pageTokenPage(images, url), (x) => x);
  }
  return googleError(c, 404, NOT_FOUND);
}

function listJson<T>(
  c: Context,
  field: string,
  page: { items: T[]; nextPageToken: string | undefined },
  map: (x: T) => unknown,
) {
  return c.json({
    [field]: page.items.map(map),
    ...(page.nextPageToken ? { nextPageToken: page.nextPageToken } : {}),
  });
}

function repositoryJson(r: FakeGarRepository): Record<string, unknown> {
  return {
    name: `projects/${r.project}/locations/${r.location}/repositories/${r.repository}`,
    format: r.format,
    mode: "STANDARD_REPOSITORY",
    ...(r.description ? { description: r.description } : {}),
    ...(r.cleanupPolicies ? { cleanupPolicies: r.cleanupPolicies } : {}),
    createTime: "2026-01-01T00:00:00Z",
    updateTime: "2026-01-01T00:00:00Z",
    sizeBytes: "0",
  };
}

interface PackageScope {
  repo: FakeGarRepository;
  pkg: string;
  pkgName: string;
  versions: FakeVersion[];
  childId: string | undefined;
  catalog: GarCatalog;
}

function versionJson(s: PackageScope, v: FakeVersion): Record<string, unknown> {
  return {
    name: `${s.pkgName}/versions/${v.id}`,
    createTime: v.createTime,
    updateTime: v.createTime,
    relatedTags: v.tags.map((t) => ({
      name: `${s.pkgName}/tags/${encodeURIComponent(t)}`,
      version: `${s.pkgName}/versions/${v.id}`,
    })),
    ...(v.manifest
      ? { metadata: { mediaType: v.manifest.mediaType, imageSizeBytes: String(v.manifest.bytes.byteLength) } }
      : {}),
  };
}

async function versionRoutes(c: Context, s: PackageScope): Promise<Response> {
  const url = new URL(c.req.url);
  if (s.childId === undefined)
    return listJson(c, "versions", pageTokenPage(s.versions, url), (v) => versionJson(s, v));
  const id = decodeURIComponent(s.childId);
  const version = s.versions.find((v) => v.id === id);
  if (!version) return googleError(c, 404, NOT_FOUND);
  if (c.req.method === "GET") return c.json(versionJson(s, version));
  if (c.req.method !== "DELETE") return googleError(c, 400, "method not allowed");
  if (version.tags.length > 0 && url.searchParams.get("force") !== "true")
    return googleError(
      c,
      400,
      `Cannot delete tagged version ${id}: it has tags ${version.tags.join(", ")}; use force to delete them too.`,
    );
  if (s.repo.format === "DOCKER")
    await s.catalog.storage().deleteManifest(`${s.repo.project}/${s.repo.repository}/${s.pkg}`, id as Digest);
  else s.repo.packages![s.pkg] = s.repo.packages![s.pkg]!.filter((v) => v !== id);
  return c.json({
    name: `projects/${s.repo.project}/locations/${s.repo.location}/operations/${randomUUID()}`,
    done: true,
  });
}

async function tagRoutes(c: Context, s: PackageScope): Promise<Response> {
  const storageName = `${s.repo.project}/${s.repo.repository}/${s.pkg}`;
  const all = s.versions.flatMap((v) => v.tags.map((t) => ({ t, v })));
  const tagJson = ({ t, v }: { t: string; v: FakeVersion }) => ({
    name: `${s.pkgName}/tags/${encodeURIComponent(t)}`,
    version: `${s.pkgName}/versions/${v.id}`,
  });
  if (s.childId === undefined) {
    if (c.req.method === "GET") return listJson(c, "tags", pageTokenPage(all, new URL(c.req.url)), tagJson);
    if (c.req.method !== "POST") return googleError(c, 400, "method not allowed");
    const tagId = new URL(c.req.url).searchParams.get("tagId") ?? "";
    const body = (await c.req.json().catch(() => undefined)) as { version?: unknown } | undefined;
    const versionId =
      typeof body?.version === "string"
        ? decodeURIComponent(body.version.slice(body.version.lastIndexOf("/") + 1))
        : "";
    if (!/^[\w][\w.-]{0,127}$/.test(tagId)) return googleError(c, 400, `Invalid tag id "${tagId}".`);
    const target = s.versions.find((v) => v.id === versionId);
    if (!target || !isDigest(versionId)) return googleError(c, 404, NOT_FOUND);
    if (all.some((x) => x.t === tagId)) return googleError(c, 409, `Tag ${tagId} already exists.`);
    await s.catalog.storage().setTag(storageName, tagId, versionId);
    return c.json(tagJson({ t: tagId, v: target }));
  }
  const tagId = decodeURIComponent(s.childId);
  const found = all.find((x) => x.t === tagId);
  if (!found) return googleError(c, 404, NOT_FOUND);
  if (c.req.method === "GET") return c.json(tagJson(found));
  if (c.req.method !== "DELETE") return googleError(c, 400, "method not allowed");
  await s.catalog.storage().deleteTag(storageName, tagId);
  return c.json({});
}

async function fileRoutes(
  c: Context,
  repo: FakeGarRepository,
  repoName: string,
  fileId: string | undefined,
  catalog: GarCatalog,
): Promise<Response> {
  const files: Array<Record<string, unknown>> = [];
  const storage = catalog.storage();
  for (const pkg of await catalog.packages(repo)) {
    for (const v of (await catalog.versions(repo, pkg)) ?? []) {
      if (!v.manifest) {
        const id = `${pkg}/${v.id}/${pkg}-${v.id}.tgz`;
        files.push({
          name: `${repoName}/files/${encodeURIComponent(id)}`,
          sizeBytes: "1024",
          createTime: v.createTime,
          updateTime: v.createTime,
          owner: `${repoName}/packages/${encodeURIComponent(pkg)}/versions/${v.id}`,
        });
        continue;
      }
      const storageName = `${repo.project}/${repo.repository}/${pkg}`;
      for (const digest of [v.id as Digest, ...v.manifest.references]) {
        const size =
          digest === v.id ? v.manifest.bytes.byteLength : await storage.blobSize(storageName, digest);
        if (size === undefined || files.some((f) => f.name === `${repoName}/files/${digest}`)) continue;
        files.push({
          name: `${repoName}/files/${digest}`,
          sizeBytes: String(size),
          hashes: [
            { type: "SHA256", value: Buffer.from(digest.slice("sha256:".length), "hex").toString("base64") },
          ],
          createTime: v.createTime,
          updateTime: v.createTime,
          owner: `${repoName}/packages/${encodeURIComponent(pkg)}/versions/${v.id}`,
        });
      }
    }
  }
  if (fileId === undefined) return listJson(c, "files", pageTokenPage(files, new URL(c.req.url)), (f) => f);
  const found = files.find(
    (f) =>
      f.name === `${repoName}/files/${fileId}` ||
      f.name === `${repoName}/files/${encodeURIComponent(decodeURIComponent(fileId))}`,
  );
  return found ? c.json(found) : googleError(c, 404, NOT_FOUND);
}
