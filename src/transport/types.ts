import type { Readable } from "node:stream";

export type HttpMethod = "GET" | "HEAD" | "POST" | "PUT" | "PATCH" | "DELETE";

/**
 * A request body. Bytes and strings can be re-sent as they are; a factory
 * produces a fresh stream per attempt, which is what lets retries, auth
 * re-sends and 307/308 redirects repeat a streamed upload. A bare Readable is
 * one-shot: middleware must never send it twice.
 */
export type RequestBody = Uint8Array | string | Readable | (() => Readable);

/** A request as middlewares see it. */
export interface HttpRequest {
  method: HttpMethod;
  url: URL;
  /** Lower-case header names. */
  headers: Record<string, string>;
  body?: RequestBody;
  signal?: AbortSignal;
  /** Time allowed until the response headers arrive (default 30 s). */
  timeoutMs?: number;
  /** Longest pause allowed between two chunks of the response body (default 5 min). */
  idleTimeoutMs?: number;
  /** `false` returns 3xx responses to the caller instead of following them. */
  followRedirects?: boolean;
  /** Auth scope hints (`repository:NAME:pull,push`) the auth layer may use. */
  scopes?: string[];
  /** Send without credentials and leave a 401 to the caller (probes). */
  anonymous?: boolean;
  /** Short operation name for errors, logs and spans, e.g. `manifest.get`. */
  operation?: string;
}

/** A response as middlewares see it: status, headers, a body stream. */
export interface HttpResponse {
  status: number;
  /** Lower-case header names; repeated headers are joined as arrays. */
  headers: Record<string, string | string[] | undefined>;
  /** Must be consumed or destroyed by the receiver so the connection returns to the pool. */
  body: Readable;
  /** Final URL after redirects. */
  url: URL;
  request: HttpRequest;
}

/** Sends a request and answers with a response: the network, or a middleware around it. */
export type Handler = (request: HttpRequest) => Promise<HttpResponse>;

/** One link of the transport chain: wraps the next handler. */
export interface Middleware {
  readonly name: string;
  /** Returns a handler that does this middleware's part around `next`. */
  wrap(next: Handler): Handler;
}
