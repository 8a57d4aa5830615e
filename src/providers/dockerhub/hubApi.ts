import { type Digest, parseDigest } from "../../core/digest.js";
import { InvalidInputError } from "../../core/errors.js";
import { parseDockerHubRepository, validateDockerHubNamespace } from "../../core/names.js";
import { parseTag } from "../../core/reference.js";
import type { Telemetry } from "../../registry/telemetry.js";
import type { Handler } from "../../transport/types.js";
import { type HubCall, HubClient } from "./hubClient.js";
import {
  type HubRepository,
  type HubScan,
  type HubSearchResult,
  type HubTag,
  repositoryInfoSchema,
  repositorySchema,
  scanSchema,
  searchResultSchema,
  tagSchema,
  toRepository,
  toScan,
  toSearchResult,
  toTag,
} from "./hubModel.js";
import type { HubSession } from "./hubSession.js";

/** Docker Hub allows at most 100 items per page. */
const PAGE_SIZE = 100;

/** Filters and order of {@link HubApi.repositories}. */
export interface ListRepositoriesOptions {
  /** Partial name match. */
  name?: string;
  ordering?: "name" | "-name" | "last_updated" | "-last_updated" | "pull_count" | "-pull_count";
  pageSize?: number;
}

/**
 * Docker Hub's management API. Documented endpoints (`/v2/namespaces/…`,
 * `/v2/auth/token`) where they exist; the older paths Docker Hub still serves
 * for search, repository deletion, tag deletion and scan overviews where the
 * published description has none. Every call goes through the shared
 * transport (retries, circuit breaker, rate limits, tracing, cassettes) and
 * is authenticated from the first request when credentials are configured.
 */
export class HubApi {
  readonly #client: HubClient;

  constructor(options: { send: Handler; hubUrl: string; session: HubSession; telemetry: Telemetry }) {
    this.#client = new HubClient(options);
  }

  /** Repositories of a user or organisation, every page; private ones only for their owner. */
  repositories(namespace: string, options: ListRepositoriesOptions = {}): AsyncIterable<HubRepository> {
    validateDockerHubNamespace(namespace);
    return this.#client.pages(
      `v2/namespaces/${namespace}/repositories`,
      {
        ...(options.name ? { name: options.name } : {}),
        ...(options.ordering ? { ordering: options.ordering } : {}),
        page_size: String(options.pageSize ?? PAGE_SIZE),
      },
      repositorySchema,
      toRepository,
      "repo.list",
      { namespace },
    );
  }

  /** One repository's details (visibility, counts, dates, your permissions). */
  async repository(repository: string): Promise<HubRepository> {
    const { namespace, name } = parseDockerHubRepository(repository);
    const call: HubCall = {
      method: "GET",
      path: `v2/namespaces/${namespace}/repositories/${name}`,
      expect: [200],
      operation: `get repository ${repository}`,
      auth: "optional",
    };
    const attributes = { namespace, repository: name };
    return toRepository(await this.#client.operation("repo.get", attributes, call, repositoryInfoSchema));
  }

  /**
   * Creates a repository (documented `POST /v2/namespaces/NS/repositories`);
   * a push creates public ones implicitly, this is how a private one starts.
   */
  async createRepository(
    repository: string,
    options: { isPrivate?: boolean; description?: string; fullDescription?: string } = {},
  ): Promise<HubRepository> {
    const { namespace, name } = parseDockerHubRepository(repository);
    if ((options.description?.length ?? 0) > 100)
      throw new InvalidInputError("a Docker Hub description has at most 100 characters", {
        provider: "dockerhub",
      });
    const call: HubCall = {
      method: "POST",
      path: `v2/namespaces/${namespace}/repositories`,
      body: {
        name,
        namespace,
        registry: "docker.io",
        is_private: options.isPrivate ?? false,
        ...(options.description !== undefined ? { description: options.description } : {}),
        ...(options.fullDescription !== undefined ? { full_description: options.fullDescription } : {}),
      },
      expect: [200, 201],
      operation: `create repository ${repository}`,
      auth: "required",
    };
    const attributes = { namespace, repository: name };
    return toRepository(await this.#client.operation("repo.create", attributes, call, repositoryInfoSchema));
  }

  /** Public repositories matching a query (Docker Hub's undocumented `/v2/search/repositories`). */
  search(query: string, options: { pageSize?: number } = {}): AsyncIterable<HubSearchResult> {
    if (!query.trim())
      throw new InvalidInputError("Docker Hub search needs a query", { provider: "dockerhub" });
    return this.#client.pages(
      "v2/search/repositories/",
      { query, page_size: String(options.pageSize ?? PAGE_SIZE) },
      searchResultSchema,
      toSearchResult,
      "repo.search",
      { query },
    );
  }

  /** Deletes a repository and everything in it (undocumented `DELETE /v2/repositories/NS/NAME/`). */
  deleteRepository(repository: string): Promise<void> {
    const { namespace, name } = parseDockerHubRepository(repository);
    return this.#client.perform(
      "repo.delete",
      { namespace, repository: name },
      {
        method: "DELETE",
        path: `v2/repositories/${namespace}/${name}/`,
        expect: [200, 202, 204],
        operation: `delete repository ${repository}`,
        auth: "required",
      },
    );
  }

  /** Tags with size, last update, digest and per-platform images, newest first, every page. */
  tags(repository: string, options: { pageSize?: number } = {}): AsyncIterable<HubTag> {
    const { namespace, name } = parseDockerHubRepository(repository);
    return this.#client.pages(
      `v2/namespaces/${namespace}/repositories/${name}/tags`,
      { page_size: String(options.pageSize ?? PAGE_SIZE) },
      tagSchema,
      toTag,
      "tag.list",
      { image: repository },
    );
  }

  /** One tag's details, with an image per platform. */
  async tag(repository: string, tag: string): Promise<HubTag> {
    const { namespace, name } = parseDockerHubRepository(repository);
    parseTag(tag);
    const call: HubCall = {
      method: "GET",
      path: `v2/namespaces/${namespace}/repositories/${name}/tags/${tag}`,
      expect: [200],
      operation: `get tag ${repository}:${tag}`,
      auth: "optional",
    };
    return toTag(await this.#client.operation("tag.get", { image: repository, tag }, call, tagSchema));
  }

  /** Deletes one tag, leaving the image for other tags (undocumented `DELETE …/tags/TAG/`). */
  deleteTag(repository: string, tag: string): Promise<void> {
    const { namespace, name } = parseDockerHubRepository(repository);
    parseTag(tag);
    return this.#client.perform(
      "tag.delete",
      { image: repository, tag },
      {
        method: "DELETE",
        path: `v2/repositories/${namespace}/${name}/tags/${tag}/`,
        expect: [200, 202, 204],
        operation: `delete tag ${repository}:${tag}`,
        auth: "required",
      },
    );
  }

  /** The scan overview of one image digest (`GET /v2/repositories/NS/NAME/images/DIGEST/scan`). */
  async scan(repository: string, digest: Digest): Promise<HubScan> {
    const { namespace, name } = parseDockerHubRepository(repository);
    const checked = parseDigest(digest);
    const call: HubCall = {
      method: "GET",
      path: `v2/repositories/${namespace}/${name}/images/${checked}/scan`,
      expect: [200],
      operation: `scan overview of ${repository}@${checked}`,
      auth: "optional",
    };
    const attributes = { image: repository, digest: checked };
    return toScan(await this.#client.operation("vulnerability.get", attributes, call, scanSchema));
  }
}
