import { Readable } from "node:stream";
import type { Handler, HttpMethod } from "../transport/types.js";

const METHODS = new Set<HttpMethod>(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"]);
/** Statuses whose Response may not have a body. */
const NO_BODY = new Set([101, 204, 205, 304]);

/** Fixed URLs an SDK sends to (Google's OAuth2 token endpoint), and where regkit sends them instead. */
export type UrlMap = ReadonlyMap<string, string>;

export interface TransportFetchOptions {
  /** Operation name on spans, metrics and logs; a function names it per URL. */
  operation: string | ((url: URL) => string);
  /** URLs the SDK cannot be told to change (Google's token endpoint), mapped by prefix up to the query. */
  urlMap?: UrlMap;
}

function mapped(url: URL, map: UrlMap | undefined): URL {
  for (const [from, to] of map ?? []) {
    if (url.href === from || url.href.startsWith(`${from}?`))
      return new URL(to + url.href.slice(from.length));
  }
  return url;
}

async function bodyBytes(body: unknown): Promise<Uint8Array | string | undefined> {
  if (body === undefined || body === null) return undefined;
  if (typeof body === "string" || body instanceof Uint8Array) return body;
  if (body instanceof ArrayBuffer) return new Uint8Array(body);
  if (body instanceof URLSearchParams) return body.toString();
  // Small request bodies only (API calls, token forms): read them whole.
  return new Uint8Array(await new Response(body as ConstructorParameters<typeof Response>[0]).arrayBuffer());
}

/**
 * A WHATWG `fetch` over regkit's transport, for SDKs that take one (octokit,
 * google-auth-library's gaxios): their calls then go through the same
 * pipeline as every registry request — tracing, metrics, logging with
 * redaction, rate-limit tracking, circuit breaker, record/replay. Requests
 * are marked `anonymous`: the SDK brings its own Authorization header, and
 * retries are the SDK's (no double retrying).
 */
export function transportFetch(send: Handler, options: TransportFetchOptions): typeof fetch {
  return async (input, init = {}) => {
    const request = input instanceof Request ? input : undefined;
    const url = mapped(new URL(request ? request.url : String(input)), options.urlMap);
    const method = (init.method ?? request?.method ?? "GET").toUpperCase() as HttpMethod;
    if (!METHODS.has(method)) throw new TypeError(`unsupported method ${method}`);
    const headers: Record<string, string> = {};
    new Headers(init.headers ?? request?.headers).forEach((value, name) => {
      headers[name.toLowerCase()] = value;
    });
    const body = await bodyBytes(init.body);
    const response = await send({
      method,
      url,
      headers,
      ...(body !== undefined ? { body } : {}),
      ...(init.signal ? { signal: init.signal } : {}),
      anonymous: true,
      operation: typeof options.operation === "function" ? options.operation(url) : options.operation,
    });
    const out = new Headers();
    for (const [name, value] of Object.entries(response.headers)) {
      if (value === undefined) continue;
      for (const v of Array.isArray(value) ? value : [value]) out.append(name, v);
    }
    if (NO_BODY.has(response.status) || method === "HEAD") {
      response.body.resume();
      return new Response(null, { status: response.status, headers: out });
    }
    const result = new Response(Readable.toWeb(response.body) as ReadableStream, {
      status: response.status,
      headers: out,
    });
    // octokit reads `url` (pagination, errors); a constructed Response has none.
    Object.defineProperty(result, "url", { value: response.url.href });
    return result;
  };
}
