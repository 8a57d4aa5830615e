import type { z } from "zod";
import { type Digest, parseDigest } from "../../core/digest.js";
import { AuthenticationError, InvalidInputError, ProtocolError } from "../../core/errors.js";
import { parseDockerHubRepository, validateDockerHubNamespace } from "../../core/names.js";
import { errorFromResponse } from "../../core/ociErrors.js";
import { parseTag } from "../../core/reference.js";
import type { Telemetry } from "../../registry/telemetry.js";
import { discard, headerValue, readText } from "../../transport/response.js";
import type { Handler, HttpMethod, HttpResponse } from "../../transport/types.js";
import {
  type HubRepository,
  type HubScan,
  type HubSearchResult,
  type HubTag,
  page,
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
import { type HubSession, parseObject } from "./hubSession.js";

const MAX_BODY = 8 * 1024 * 1024;
/** Docker Hub allows at most 100 items per page. */
const PAGE_SIZE = 100;
/** A `next` chain longer than this is a server bug (or a loop), not data. */
const MAX_PAGES = 10_000;

interface CallOptions {
  method: HttpMethod;
  path: string | URL;
  query?: Record<string, string | undefined>;
  body?: unknown;
  expect: number[];
  operation: string;
  /** `required`: fail early without credentials; `optional`: authenticated when possible. */
  auth: "required" | "optional";
}

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
  readonly #send: Handler;
  readonly #base: URL;
  readonly #session: HubSession;
  readonly #telemetry: Telemetry;

  constructor(options: { send: Handler; hubUrl: string; session: HubSession; telemetry: Telemetry }) {
    this.#send = options.send;
    this.#base = new URL(`${options.hubUrl.replace(/\/+$/, "")}/`);
    this.#session = options.session;
    this.#telemetry = options.telemetry;
  }

  /** Repositories of a user or organisation, every page; private ones only for their owner. */
  repositories(namespace: string, options: ListRepositoriesOptions = {}): AsyncIterable<HubRepository> {
    validateDockerHubNamespace(namespace);
    return this.#pages(
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

  async repository(repository: string): Promise<HubRepository> {
    const { namespace, name } = parseDockerHubRepository(repository);
    return this.#telemetry.operation("docker.io", "repo.get", { namespace, repository: name }, async () =>
      toRepository(
        await this.#json(
          {
            method: "GET",
            path: `v2/namespaces/${namespace}/repositories/${name}`,
            expect: [200],
            operation: `get repository ${repository}`,
            auth: "optional",
          },
          repositoryInfoSchema,
        ),
      ),
    );
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
    return this.#telemetry.operation("docker.io", "repo.create", { namespace, repository: name }, async () =>
      toRepository(
        await this.#json(
          {
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
          },
          repositoryInfoSchema,
        ),
      ),
    );
  }

  /** Public repositories matching a query (Docker Hub's undocumented `/v2/search/repositories`). */
  search(query: string, options: { pageSize?: number } = {}): AsyncIterable<HubSearchResult> {
    if (!query.trim())
      throw new InvalidInputError("Docker Hub search needs a query", { provider: "dockerhub" });
    return this.#pages(
      "v2/search/repositories/",
      { query, page_size: String(options.pageSize ?? PAGE_SIZE) },
      searchResultSchema,
      toSearchResult,
      "repo.search",
      { query },
    );
  }

  /** Deletes a repository and everything in it (undocumented `DELETE /v2/repositories/NS/NAME/`). */
  async deleteRepository(repository: string): Promise<void> {
    const { namespace, name } = parseDockerHubRepository(repository);
    await this.#telemetry.operation("docker.io", "repo.delete", { namespace, repository: name }, async () => {
      await discard(
        await this.#call({
          method: "DELETE",
          path: `v2/repositories/${namespace}/${name}/`,
          expect: [200, 202, 204],
          operation: `delete repository ${repository}`,
          auth: "required",
        }),
      );
    });
  }

  /** Tags with size, last update, digest and per-platform images, newest first, every page. */
  tags(repository: string, options: { pageSize?: number } = {}): AsyncIterable<HubTag> {
    const { namespace, name } = parseDockerHubRepository(repository);
    return this.#pages(
      `v2/namespaces/${namespace}/repositories/${name}/tags`,
      { page_size: String(options.pageSize ?? PAGE_SIZE) },
      tagSchema,
      toTag,
      "tag.list",
      { image: repository },
    );
  }

  async tag(repository: string, tag: string): Promise<HubTag> {
    const { namespace, name } = parseDockerHubRepository(repository);
    parseTag(tag);
    return this.#telemetry.operation("docker.io", "tag.get", { image: repository, tag }, async () =>
      toTag(
        await this.#json(
          {
            method: "GET",
            path: `v2/namespaces/${namespace}/repositories/${name}/tags/${tag}`,
            expect: [200],
            operation: `get tag ${repository}:${tag}`,
            auth: "optional",
          },
          tagSchema,
        ),
      ),
    );
  }

  /** Deletes one tag, leaving the image for other tags (undocumented `DELETE …/tags/TAG/`). */
  async deleteTag(repository: string, tag: string): Promise<void> {
    const { namespace, name } = parseDockerHubRepository(repository);
    parseTag(tag);
    await this.#telemetry.operation("docker.io", "tag.delete", { image: repository, tag }, async () => {
      await discard(
        await this.#call({
          method: "DELETE",
          path: `v2/repositories/${namespace}/${name}/tags/${tag}/`,
          expect: [200, 202, 204],
          operation: `delete tag ${repository}:${tag}`,
          auth: "required",
        }),
      );
    });
  }

  /** The scan overview of one image digest (`GET /v2/repositories/NS/NAME/images/DIGEST/scan`). */
  async scan(repository: string, digest: Digest): Promise<HubScan> {
    const { namespace, name } = parseDockerHubRepository(repository);
    const checked = parseDigest(digest);
    return this.#telemetry.operation(
      "docker.io",
      "vulnerability.get",
      { image: repository, digest: checked },
      async () =>
        toScan(
          await this.#json(
            {
              method: "GET",
              path: `v2/repositories/${namespace}/${name}/images/${checked}/scan`,
              expect: [200],
              operation: `scan overview of ${repository}@${checked}`,
              auth: "optional",
            },
            scanSchema,
          ),
        ),
    );
  }

  /** Follows `next` links; each must stay on the Hub API's origin. */
  #pages<S extends z.ZodType, T>(
    path: string,
    query: Record<string, string>,
    item: S,
    convert: (value: z.infer<S>) => T,
    operation: string,
    attributes: Record<string, string>,
  ): AsyncIterable<T> {
    const api = this;
    const schema = page(item);
    return {
      async *[Symbol.asyncIterator]() {
        let url: URL | undefined = api.#url(path, query);
        const seen = new Set<string>();
        let count = 0;
        while (url) {
          if (seen.has(url.href) || seen.size >= MAX_PAGES)
            throw new ProtocolError(`Docker Hub: pagination of ${path} loops`, { provider: "dockerhub" });
          seen.add(url.href);
          const current: URL = url;
          const body = await api.#telemetry.operation("docker.io", operation, attributes, async (span) => {
            const answer = await api.#json(
              { method: "GET", path: current, expect: [200], operation: `list ${path}`, auth: "optional" },
              schema,
            );
            span.setAttribute("count", answer.results.length);
            return answer;
          });
          for (const entry of body.results) {
            count++;
            yield convert(entry);
          }
          url = body.next ? api.#sameOrigin(body.next) : undefined;
        }
        api.#telemetry.logger?.debug({ path, count }, "listed");
      },
    };
  }

  #url(path: string | URL, query: Record<string, string | undefined> = {}): URL {
    const url = typeof path === "string" ? new URL(path, this.#base) : new URL(path.href);
    for (const [key, value] of Object.entries(query))
      if (value !== undefined) url.searchParams.set(key, value);
    return url;
  }

  #sameOrigin(next: string): URL {
    let url: URL;
    try {
      url = new URL(next, this.#base);
    } catch {
      throw new ProtocolError("Docker Hub: invalid next-page URL", { provider: "dockerhub" });
    }
    // Following a link elsewhere would send our Hub token to a host the user never named.
    if (url.origin !== this.#base.origin)
      throw new ProtocolError(`Docker Hub: next page points to another origin (${url.origin})`, {
        provider: "dockerhub",
      });
    return url;
  }

  async #json<S extends z.ZodType>(options: CallOptions, schema: S): Promise<z.infer<S>> {
    const response = await this.#call(options);
    const text = await readText(response, MAX_BODY, "Docker Hub answer");
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      throw new ProtocolError(`${options.operation}: Docker Hub answered with something that is not JSON`, {
        provider: "dockerhub",
      });
    }
    const parsed = schema.safeParse(value);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      throw new ProtocolError(
        `${options.operation}: unexpected Docker Hub answer at ${issue.path.join(".") || "(root)"}: ${issue.message}`,
        { provider: "dockerhub" },
      );
    }
    return parsed.data;
  }

  async #call(options: CallOptions): Promise<HttpResponse> {
    let authorization = await this.#session.authorization();
    if (!authorization && options.auth === "required") {
      throw new AuthenticationError(
        `${options.operation}: needs Docker Hub credentials (DOCKER_HUB_USERNAME with DOCKER_HUB_ACCESS_TOKEN, or regkit login docker.io)`,
        { provider: "dockerhub" },
      );
    }
    for (let attempt = 0; ; attempt++) {
      const response = await this.#send({
        method: options.method,
        url: this.#url(options.path, options.query),
        headers: {
          accept: "application/json",
          ...(authorization ? { authorization } : {}),
          ...(options.body !== undefined ? { "content-type": "application/json" } : {}),
        },
        ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
        operation: options.operation,
        // No registry challenge dance here: the Hub API takes its own bearer token.
        ...(authorization ? {} : { anonymous: true }),
      });
      if (options.expect.includes(response.status)) return response;
      if (response.status === 401 && authorization && attempt === 0) {
        // Expired or revoked between our clock check and the server's: log in again, once.
        await discard(response);
        this.#session.invalidate(authorization);
        authorization = await this.#session.authorization();
        continue;
      }
      throw await hubError(response, options.operation);
    }
  }
}

/** A failed Hub API answer as a typed error, with Docker Hub's `detail`/`message` as the reason. */
export async function hubError(response: HttpResponse, operation: string) {
  const text =
    response.request.method === "HEAD"
      ? undefined
      : await readText(response, 64 * 1024).catch(() => undefined);
  if (text === undefined) await discard(response);
  const body = text ? parseObject(text) : undefined;
  const message = [body?.detail, body?.message, body?.text].find(
    (v): v is string => typeof v === "string" && v !== "",
  );
  const retryAfter = Number(headerValue(response, "retry-after"));
  return errorFromResponse({
    operation: `${operation} on Docker Hub`,
    status: response.status,
    ...(message ? { message } : {}),
    provider: "dockerhub",
    ...(Number.isFinite(retryAfter) && retryAfter > 0 ? { retryAfterMs: retryAfter * 1000 } : {}),
  });
}
