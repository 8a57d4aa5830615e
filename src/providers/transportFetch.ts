import { Readable } from "node:stream";
import type { Handler, HttpMethod } from "../transport/types.js";

const METHODS = new Set<HttpMethod>(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"]);
/** Statuses whose Response may not have a body. */
const NO_BODY = new Set([101, 204, 205, 304]);

/**
 * A WHATWG `fetch` over regkit's transport, for SDKs that take one (octokit,
 * Google's clients): their calls then go through the same pipeline as every
 * registry request — tracing, metrics, logging, rate-limit tracking, circuit
 * breaker, record/replay. Requests are marked `anonymous`: the SDK brings its
 * own Authorization header, and retries are the SDK's (no double retrying).
 */
export function transportFetch(send: Handler, operation: string): typeof fetch {
  return async (input, init) => {
    const request = input instanceof Request ? input : undefined;
    const url = new URL(request ? request.url : String(input));
    const method = (init?.method ?? request?.method ?? "GET").toUpperCase() as HttpMethod;
    if (!METHODS.has(method)) throw new TypeError(`unsupported method ${method}`);
    const headers: Record<string, string> = {};
    new Headers(init?.headers ?? request?.headers).forEach((value, name) => {
      headers[name.toLowerCase()] = value;
    });
    const body = init?.body;
    let bytes: string | Uint8Array | undefined;
    if (typeof body === "string") bytes = body;
    else if (body instanceof Uint8Array) bytes = body;
    else if (body instanceof ArrayBuffer) bytes = new Uint8Array(body);
    else if (body != null) throw new TypeError("transportFetch: only string and byte bodies are supported");
    const response = await send({
      method,
      url,
      headers,
      ...(bytes !== undefined ? { body: bytes } : {}),
      ...(init?.signal ? { signal: init.signal } : {}),
      anonymous: true,
      operation,
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
