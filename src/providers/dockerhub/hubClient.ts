import type { z } from "zod";
import { AuthenticationError, ProtocolError } from "../../core/errors.js";
import type { Telemetry } from "../../registry/telemetry.js";
import { discard, readJson } from "../../transport/response.js";
import type { Handler, HttpMethod, HttpResponse } from "../../transport/types.js";
import { hubError } from "./hubErrors.js";
import { page } from "./hubModel.js";
import type { HubSession } from "./hubSession.js";

const MAX_BODY = 8 * 1024 * 1024;
/** A `next` chain longer than this is a server bug (or a loop), not data. */
const MAX_PAGES = 10_000;

export interface HubCall {
  method: HttpMethod;
  path: string | URL;
  query?: Record<string, string | undefined>;
  body?: unknown;
  expect: number[];
  operation: string;
  /** `required`: fail early without credentials; `optional`: authenticated when possible. */
  auth: "required" | "optional";
}

/**
 * How the Hub API is spoken: JSON over the shared transport, the session's
 * bearer token from the first request (one re-login after a 401), answers
 * checked against a schema, `next` links followed on the API's origin only,
 * and Docker Hub's error bodies turned into typed errors.
 */
export class HubClient {
  readonly telemetry: Telemetry;
  readonly #send: Handler;
  readonly #base: URL;
  readonly #session: HubSession;

  constructor(options: { send: Handler; hubUrl: string; session: HubSession; telemetry: Telemetry }) {
    this.#send = options.send;
    this.#base = new URL(`${options.hubUrl.replace(/\/+$/, "")}/`);
    this.#session = options.session;
    this.telemetry = options.telemetry;
  }

  /** One Hub API operation (`docker.<operation>` span) whose JSON answer must match `schema`. */
  operation<S extends z.ZodType>(
    operation: string,
    attributes: Record<string, string>,
    call: HubCall,
    schema: S,
  ): Promise<z.infer<S>> {
    return this.telemetry.operation("docker.io", operation, attributes, () => this.json(call, schema));
  }

  /** One Hub API operation whose answer carries nothing regkit needs (deletes). */
  perform(operation: string, attributes: Record<string, string>, call: HubCall): Promise<void> {
    return this.telemetry.operation("docker.io", operation, attributes, async () => {
      await discard(await this.call(call));
    });
  }

  /** Every item of a paginated listing; each `next` link must stay on the Hub API's origin. */
  pages<S extends z.ZodType, T>(
    path: string,
    query: Record<string, string>,
    item: S,
    convert: (value: z.infer<S>) => T,
    operation: string,
    attributes: Record<string, string>,
  ): AsyncIterable<T> {
    const client = this;
    const schema = page(item);
    return {
      async *[Symbol.asyncIterator]() {
        let url: URL | undefined = client.#url(path, query);
        const seen = new Set<string>();
        let count = 0;
        while (url) {
          if (seen.has(url.href) || seen.size >= MAX_PAGES)
            throw new ProtocolError(`Docker Hub: pagination of ${path} loops`, { provider: "dockerhub" });
          seen.add(url.href);
          const current: URL = url;
          const body = await client.telemetry.operation("docker.io", operation, attributes, async (span) => {
            const answer = await client.json(
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
          url = body.next ? client.#sameOrigin(body.next) : undefined;
        }
        client.telemetry.logger?.debug({ path, count }, "listed");
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

  async json<S extends z.ZodType>(options: HubCall, schema: S): Promise<z.infer<S>> {
    const value = await readJson(await this.call(options), MAX_BODY, `${options.operation} on Docker Hub`);
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

  async call(options: HubCall): Promise<HttpResponse> {
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
