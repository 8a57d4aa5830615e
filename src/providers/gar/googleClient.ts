import type { z } from "zod";
import { ProtocolError } from "../../core/errors.js";
import type { Telemetry } from "../../registry/telemetry.js";
import { discard, readJson } from "../../transport/response.js";
import type { Handler, HttpMethod, HttpResponse } from "../../transport/types.js";
import type { GoogleTokenSource } from "./googleAuth.js";
import { googleError } from "./googleErrors.js";

const MAX_BODY = 16 * 1024 * 1024;
const MAX_PAGES = 10_000;

export interface GoogleCall {
  method: HttpMethod;
  /** Path under the API's base URL, e.g. `v1/projects/p/locations/l/repositories`. */
  path: string;
  query?: Record<string, string | undefined>;
  body?: unknown;
  /** What is being done, for errors (`list repositories of projects/p/locations/l`). */
  operation: string;
  /** Span name after `gar.` (specification §7.1: `repo.list`, `package.list`, …). */
  span: string;
}

/** Spans and metrics are labelled with a registry host; any `*-docker.pkg.dev` one says `gar`. */
const TELEMETRY_HOST = "artifactregistry-docker.pkg.dev";

/**
 * How a Google REST API is spoken: JSON over regkit's transport with the
 * token source's bearer token (one fresh token after a 401), answers
 * checked against a schema, `pageToken` pages as async iterators, and
 * Google's error bodies turned into typed errors.
 */
export class GoogleClient {
  readonly #send: Handler;
  readonly #base: URL;
  readonly #tokens: GoogleTokenSource;
  readonly telemetry: Telemetry;

  constructor(options: { send: Handler; baseUrl: string; tokens: GoogleTokenSource; telemetry: Telemetry }) {
    this.#send = options.send;
    this.#base = new URL(`${options.baseUrl.replace(/\/+$/, "")}/`);
    this.#tokens = options.tokens;
    this.telemetry = options.telemetry;
  }

  /** One call whose JSON answer must match `schema`, as a `gar.<operation>` span. */
  json<S extends z.ZodType>(
    call: GoogleCall,
    schema: S,
    attributes: Record<string, string> = {},
  ): Promise<z.infer<S>> {
    return this.telemetry.operation(TELEMETRY_HOST, call.span, attributes, async () => {
      const value = await readJson(await this.call(call), MAX_BODY, call.operation);
      const parsed = schema.safeParse(value);
      if (!parsed.success) {
        const issue = parsed.error.issues[0]!;
        throw new ProtocolError(
          `${call.operation}: unexpected answer at ${issue.path.join(".") || "(root)"}: ${issue.message}`,
          { provider: "gar" },
        );
      }
      return parsed.data;
    });
  }

  /** Every item of a `pageToken` listing, fetched page by page as the caller iterates. */
  pages<T>(
    call: GoogleCall,
    field: string,
    schema: z.ZodType<Record<string, unknown>>,
    item: (value: unknown) => T,
  ): AsyncIterable<T> {
    const client = this;
    return {
      async *[Symbol.asyncIterator]() {
        let token: string | undefined;
        const seen = new Set<string>();
        do {
          const page = await client.json({ ...call, query: { ...call.query, pageToken: token } }, schema);
          for (const entry of (page[field] as unknown[] | undefined) ?? []) yield item(entry);
          const next = page.nextPageToken;
          token = typeof next === "string" && next !== "" ? next : undefined;
          if (token !== undefined) {
            if (seen.has(token) || seen.size >= MAX_PAGES)
              throw new ProtocolError(`${call.operation}: pagination loops`, { provider: "gar" });
            seen.add(token);
          }
        } while (token !== undefined);
      },
    };
  }

  /** A call whose answer carries nothing needed (deletes). */
  async perform(call: GoogleCall): Promise<void> {
    await this.telemetry.operation(TELEMETRY_HOST, call.span, {}, async () => {
      await discard(await this.call(call));
    });
  }

  /** Sends one call with the bearer token; non-2xx answers become typed errors. */
  async call(call: GoogleCall): Promise<HttpResponse> {
    const url = new URL(call.path, this.#base);
    for (const [key, value] of Object.entries(call.query ?? {}))
      if (value !== undefined) url.searchParams.set(key, value);
    for (let attempt = 0; ; attempt++) {
      const token = await this.#tokens.token();
      const response = await this.#send({
        method: call.method,
        url,
        headers: {
          accept: "application/json",
          authorization: `Bearer ${token.reveal()}`,
          ...(call.body !== undefined ? { "content-type": "application/json" } : {}),
        },
        ...(call.body !== undefined ? { body: JSON.stringify(call.body) } : {}),
        operation: call.operation,
        // Not `anonymous`: that would also switch retries off; the auth layer passes a request
        // that already carries Authorization through untouched.
      });
      if (response.status >= 200 && response.status < 300) return response;
      if (response.status === 401 && attempt === 0) {
        // Expired or revoked between our clock and Google's: one fresh token (specification §6.1).
        await discard(response);
        this.#tokens.invalidate(token);
        continue;
      }
      throw await googleError(response, call.operation);
    }
  }
}
