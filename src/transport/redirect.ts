import type { Readable } from "node:stream";
import { ProtocolError } from "../core/errors.js";
import { isReplayable } from "./body.js";
import { discard, headerValue } from "./response.js";
import { EndpointPolicy } from "./scheme.js";
import type { HttpRequest, Middleware } from "./types.js";

export const DEFAULT_MAX_REDIRECTS = 10;

const REDIRECTS = new Set([301, 302, 303, 307, 308]);
/** Headers that carry credentials and must not follow a redirect to another origin. */
const CREDENTIAL_HEADERS = ["authorization", "cookie", "proxy-authorization"];
/** Headers that describe a body, meaningless once a redirect turns the request into a GET. */
const BODY_HEADERS = ["content-length", "content-type", "content-range", "content-encoding", "digest"];

export interface RedirectOptions {
  /** Redirects followed before giving up (default 10). */
  maxRedirects?: number;
  /** Decides whether an https→http redirect may be followed; loopback only by default. */
  policy?: EndpointPolicy;
}

/**
 * Follows registry redirects (blob downloads commonly go to a CDN). Drops
 * credentials when the origin changes and refuses an https→http downgrade
 * unless plain HTTP is allowed for the target. Sits inside auth, so a token
 * is added for the registry and never travels to the CDN.
 */
export function redirectMiddleware(options: RedirectOptions = {}): Middleware {
  const maxRedirects = options.maxRedirects ?? DEFAULT_MAX_REDIRECTS;
  const policy = options.policy ?? new EndpointPolicy();
  return {
    name: "redirect",
    wrap: (next) => async (request) => {
      let current = request;
      for (let hops = 0; ; hops++) {
        const response = await next(current);
        if (current.followRedirects === false || !REDIRECTS.has(response.status)) return response;
        const location = headerValue(response, "location");
        if (location === undefined) return response;
        // Intermediate bodies are never read; freeing them returns the connection to the pool.
        await discard(response);
        if (hops >= maxRedirects) {
          throw new ProtocolError(`${where(request)}: more than ${maxRedirects} redirects`);
        }
        current = redirected(current, location, response.status, policy);
      }
    },
  };
}

function where(request: HttpRequest): string {
  return `${request.method} ${request.url.origin}`;
}

function redirected(
  request: HttpRequest,
  location: string,
  status: number,
  policy: EndpointPolicy,
): HttpRequest {
  let target: URL;
  try {
    target = new URL(location, request.url);
  } catch {
    throw new ProtocolError(`${where(request)}: invalid redirect Location`);
  }
  if (target.protocol !== "https:" && target.protocol !== "http:") {
    throw new ProtocolError(`${where(request)}: redirect to unsupported scheme ${target.protocol}`);
  }
  // The URL parser hides the default port; an insecure entry may name it.
  const targetHost = `${target.hostname}:${target.port || "80"}`;
  if (
    request.url.protocol === "https:" &&
    target.protocol === "http:" &&
    !policy.allowsPlainHttp(targetHost)
  ) {
    throw new ProtocolError(`${where(request)}: refusing redirect from HTTPS to plain HTTP ${target.origin}`);
  }
  const headers = { ...request.headers };
  if (target.origin !== request.url.origin) for (const name of CREDENTIAL_HEADERS) delete headers[name];
  const becomesGet = status === 303 || ((status === 301 || status === 302) && request.method === "POST");
  if (becomesGet) {
    for (const name of BODY_HEADERS) delete headers[name];
    const { body: _dropped, ...rest } = request;
    return { ...rest, method: request.method === "HEAD" ? "HEAD" : "GET", url: target, headers };
  }
  if (!isReplayable(request.body)) {
    // What of the stream was not sent yet never will be.
    (request.body as Readable).destroy();
    throw new ProtocolError(`${where(request)}: cannot replay a streamed body across a redirect`);
  }
  return { ...request, url: target, headers };
}
