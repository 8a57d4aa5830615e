import { ProtocolError } from "../core/errors.js";
import { isReplayable } from "./body.js";
import { discard, headerValue } from "./response.js";
import { EndpointPolicy } from "./scheme.js";
import type { HttpRequest, Middleware } from "./types.js";

const REDIRECTS = new Set([301, 302, 303, 307, 308]);
/** Headers that carry credentials and must not follow a redirect to another origin. */
const CREDENTIAL_HEADERS = ["authorization", "cookie", "proxy-authorization"];

/**
 * Follows registry redirects (blob downloads commonly go to a CDN). Drops
 * credentials when the origin changes and refuses an https→http downgrade
 * unless plain HTTP is allowed for the target.
 */
export function redirectMiddleware(
  options: { maxRedirects?: number; policy?: EndpointPolicy } = {},
): Middleware {
  const maxRedirects = options.maxRedirects ?? 10;
  const policy = options.policy ?? new EndpointPolicy();
  return {
    name: "redirect",
    wrap: (next) => async (request) => {
      let current = request;
      for (let hops = 0; ; hops++) {
        const response = await next(current);
        if (!REDIRECTS.has(response.status) || current.followRedirects === false) return response;
        const location = headerValue(response, "location");
        if (!location) return response;
        await discard(response);
        if (hops >= maxRedirects) {
          throw new ProtocolError(
            `${request.method} ${request.url.origin}: more than ${maxRedirects} redirects`,
          );
        }
        current = redirected(current, location, response.status, policy);
      }
    },
  };
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
    throw new ProtocolError(`${request.method} ${request.url.origin}: invalid redirect Location`);
  }
  if (target.protocol !== "https:" && target.protocol !== "http:") {
    throw new ProtocolError(
      `${request.method} ${request.url.origin}: redirect to unsupported scheme ${target.protocol}`,
    );
  }
  if (
    request.url.protocol === "https:" &&
    target.protocol === "http:" &&
    !policy.allowsPlainHttp(target.host)
  ) {
    throw new ProtocolError(
      `${request.method} ${request.url.origin}: refusing redirect from HTTPS to plain HTTP ${target.origin}`,
    );
  }
  const headers = { ...request.headers };
  if (target.origin !== request.url.origin) for (const name of CREDENTIAL_HEADERS) delete headers[name];
  const becomesGet = status === 303 || ((status === 301 || status === 302) && request.method === "POST");
  if (becomesGet) {
    delete headers["content-length"];
    delete headers["content-type"];
    delete headers["content-range"];
    const { body: _dropped, ...rest } = request;
    return { ...rest, method: request.method === "HEAD" ? "HEAD" : "GET", url: target, headers };
  }
  if (!isReplayable(request.body)) {
    throw new ProtocolError(
      `${request.method} ${request.url.origin}: cannot replay a streamed body across a redirect`,
    );
  }
  return { ...request, url: target, headers };
}
