import type { Logger } from "pino";
import type { Middleware } from "./types.js";

/**
 * DEBUG: one line per request and response (method, URL without query,
 * status, time); TRACE adds headers. Authorization and cookies are redacted
 * by the logger's configuration, and queries (which may carry tokens in
 * some APIs) are never logged.
 */
export function loggingMiddleware(logger: Logger): Middleware {
  return {
    name: "logging",
    wrap: (next) => async (request) => {
      if (!logger.isLevelEnabled("debug")) return next(request);
      const url = `${request.url.origin}${request.url.pathname}`;
      const started = performance.now();
      const trace = logger.isLevelEnabled("trace");
      logger.debug(
        { method: request.method, url, ...(trace ? { headers: request.headers } : {}) },
        "request",
      );
      try {
        const response = await next(request);
        logger.debug(
          {
            method: request.method,
            url,
            status: response.status,
            ms: Math.round(performance.now() - started),
            ...(trace ? { headers: response.headers } : {}),
          },
          "response",
        );
        return response;
      } catch (error) {
        logger.debug({ method: request.method, url, error: (error as Error).message }, "request failed");
        throw error;
      }
    },
  };
}
