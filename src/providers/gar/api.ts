import type { Digest } from "../../core/digest.js";
import type { GoogleClient } from "./googleClient.js";
import {
  dockerImage,
  file,
  type GarDockerImage,
  type GarFile,
  type GarPackage,
  type GarRepositoryInfo,
  type GarTag,
  type GarVersion,
  listPage,
  operation,
  pkg,
  repository,
  tag,
  version,
} from "./model.js";
import { type GarRepository, packageName, repositoryName } from "./names.js";

/** Repository formats `gar repos --format` filters by. */
export type RepositoryFormat = "docker" | "maven" | "npm" | "python" | "go" | "apt" | "yum";

/** A package of a repository: its repository and its id (an image path for Docker). */
export type PackageRef = GarRepository & { image: string };

const parse =
  <T>(schema: { parse(value: unknown): T }) =>
  (value: unknown): T =>
    schema.parse(value);

/**
 * Artifact Registry REST API v1 (`artifactregistry.googleapis.com`):
 * repositories, packages, versions, tags, files and Docker images of any
 * format, every listing an async iterator over `pageToken`.
 */
export class ArtifactRegistryApi {
  readonly #client: GoogleClient;

  constructor(client: GoogleClient) {
    this.#client = client;
  }

  /** Repositories of a project in one location, optionally of one format. */
  repositories(
    project: string,
    location: string,
    options: { format?: RepositoryFormat } = {},
  ): AsyncIterable<GarRepositoryInfo> {
    const parent = `projects/${project}/locations/${location}`;
    const all = this.#client.pages(
      {
        method: "GET",
        path: `v1/${parent}/repositories`,
        operation: `list repositories of ${parent}`,
        span: "repo.list",
      },
      "repositories",
      listPage("repositories"),
      parse(repository),
    );
    const format = options.format?.toUpperCase();
    if (!format) return all;
    return {
      async *[Symbol.asyncIterator]() {
        for await (const r of all) if (r.format === format) yield r;
      },
    };
  }

  /** One repository: format, mode, size, cleanup policies. */
  repository(r: GarRepository): Promise<GarRepositoryInfo> {
    const name = repositoryName(r);
    return this.#client.json(
      { method: "GET", path: `v1/${name}`, operation: `get ${name}`, span: "repo.get" },
      repository,
    );
  }

  /** Every package of a repository. */
  packages(r: GarRepository): AsyncIterable<GarPackage> {
    const name = repositoryName(r);
    return this.#client.pages(
      {
        method: "GET",
        path: `v1/${name}/packages`,
        operation: `list packages of ${name}`,
        span: "package.list",
      },
      "packages",
      listPage("packages"),
      parse(pkg),
    );
  }

  /** One package. */
  package(p: PackageRef): Promise<GarPackage> {
    const name = packageName(p);
    return this.#client.json(
      { method: "GET", path: `v1/${name}`, operation: `get ${name}`, span: "package.get" },
      pkg,
    );
  }

  /** Versions with their tags (`view=FULL`), newest first when `orderBy` says so. */
  versions(p: PackageRef, options: { orderBy?: string } = {}): AsyncIterable<GarVersion> {
    const name = packageName(p);
    return this.#client.pages(
      {
        method: "GET",
        path: `v1/${name}/versions`,
        query: { view: "FULL", orderBy: options.orderBy },
        operation: `list versions of ${name}`,
        span: "version.list",
      },
      "versions",
      listPage("versions"),
      parse(version),
    );
  }

  /** One version with its tags. */
  version(p: PackageRef, id: string): Promise<GarVersion> {
    const name = `${packageName(p)}/versions/${encodeURIComponent(id)}`;
    return this.#client.json(
      {
        method: "GET",
        path: `v1/${name}`,
        query: { view: "FULL" },
        operation: `get ${name}`,
        span: "version.get",
      },
      version,
    );
  }

  /** Deletes a version; a tagged one only with `force` (its tags go with it). */
  async deleteVersion(p: PackageRef, id: string | Digest, options: { force?: boolean } = {}): Promise<void> {
    const name = `${packageName(p)}/versions/${encodeURIComponent(id)}`;
    await this.#client.json(
      {
        method: "DELETE",
        path: `v1/${name}`,
        query: options.force ? { force: "true" } : {},
        operation: `delete ${name}`,
        span: "version.delete",
      },
      operation,
    );
  }

  /** Every tag of a package. */
  tags(p: PackageRef): AsyncIterable<GarTag> {
    const name = packageName(p);
    return this.#client.pages(
      { method: "GET", path: `v1/${name}/tags`, operation: `list tags of ${name}`, span: "tags.list" },
      "tags",
      listPage("tags"),
      parse(tag),
    );
  }

  /** Points `tagId` at a version (`versionId` is the version's id, a digest for Docker). */
  createTag(p: PackageRef, tagId: string, versionId: string): Promise<GarTag> {
    const name = packageName(p);
    return this.#client.json(
      {
        method: "POST",
        path: `v1/${name}/tags`,
        query: { tagId },
        body: { name: `${name}/tags/${encodeURIComponent(tagId)}`, version: `${name}/versions/${versionId}` },
        operation: `create tag ${tagId} in ${name}`,
        span: "tags.create",
      },
      tag,
    );
  }

  /** Deletes a tag; the version stays. */
  async deleteTag(p: PackageRef, tagId: string): Promise<void> {
    const name = `${packageName(p)}/tags/${encodeURIComponent(tagId)}`;
    await this.#client.perform({
      method: "DELETE",
      path: `v1/${name}`,
      operation: `delete ${name}`,
      span: "tags.delete",
    });
  }

  /** Every file of a repository, optionally filtered. */
  files(r: GarRepository, options: { filter?: string } = {}): AsyncIterable<GarFile> {
    const name = repositoryName(r);
    return this.#client.pages(
      {
        method: "GET",
        path: `v1/${name}/files`,
        query: { filter: options.filter },
        operation: `list files of ${name}`,
        span: "file.list",
      },
      "files",
      listPage("files"),
      parse(file),
    );
  }

  /** One file. */
  file(r: GarRepository, id: string): Promise<GarFile> {
    const name = `${repositoryName(r)}/files/${encodeURIComponent(id)}`;
    return this.#client.json(
      { method: "GET", path: `v1/${name}`, operation: `get ${name}`, span: "file.get" },
      file,
    );
  }

  /** Every Docker image of a repository. */
  dockerImages(r: GarRepository): AsyncIterable<GarDockerImage> {
    const name = repositoryName(r);
    return this.#client.pages(
      {
        method: "GET",
        path: `v1/${name}/dockerImages`,
        operation: `list Docker images of ${name}`,
        span: "image.list",
      },
      "dockerImages",
      listPage("dockerImages"),
      parse(dockerImage),
    );
  }
}
