import { Readable } from "node:stream";
import { discard } from "../../transport/response.js";
import type { Handler, HttpMethod } from "../../transport/types.js";

/** Where Google's libraries send requests, and where regkit sends them instead. */
export type UrlMap = ReadonlyMap<string, string>;

const METHODS = new Set<HttpMethod>(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"]);

function mapped(url: URL, map: UrlMap): URL {
  for (const [from, to] of map) {
    if (url.href === from || url.href.startsWith(`${from}?`))
      return new URL(to + url.href.slice(from.length));
  }
  return url;
}

async function bodyBytes(body: unknown): Promise<Uint8Array | string | undefined> {
  if (body === undefined || body === null) return undefined;
  if (typeof body === "string" || body instanceof Uint8Array) return body;
  if (body instanceof URLSearchParams) return body.toString();
  return new Uint8Array(await new Response(body as ConstructorParameters<typeof Response>[0]).arrayBuffer());
}

/**
 * A `fetch` for google-auth-library (its gaxios `fetchImplementation`) that
 * sends through regkit's transport, so token requests get its retries,
 * tracing, logging with redaction and record/replay, and that maps fixed
 * Google URLs (the OAuth2 token endpoint) to configured ones.
 */
export function transportFetch(send: Handler, map: UrlMap = new Map()): typeof fetch {
  return async (input, init = {}) => {
    const url = mapped(new URL(input instanceof Request ? input.url : String(input)), map);
    const method = (init.method ?? "GET").toUpperCase() as HttpMethod;
    if (!METHODS.has(method)) throw new TypeError(`unsupported method ${method}`);
    const headers: Record<string, string> = {};
    new Headers(init.headers).forEach((value, key) => {
      headers[key] = value;
    });
    const body = await bodyBytes(init.body);
    const response = await send({
      method,
      url,
      headers,
      ...(body !== undefined ? { body } : {}),
      ...(init.signal ? { signal: init.signal } : {}),
      // Google's token and API requests carry their own credentials; no registry challenge dance.
      anonymous: true,
      operation: `google ${url.pathname}`,
    });
    const out = new Headers();
    for (const [key, value] of Object.entries(response.headers))
      if (value !== undefined) out.set(key, Array.isArray(value) ? value.join(", ") : value);
    const empty = method === "HEAD" || response.status === 204 || response.status === 304;
    if (empty) await discard(response);
    return new Response(empty ? null : (Readable.toWeb(response.body) as ReadableStream), {
      status: response.status,
      headers: out,
    });
  };
}
