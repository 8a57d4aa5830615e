import type { Context } from "hono";

/* How Docker Hub shapes its errors and rate-limit headers. */

export function dockerHubError(c: Context, status: number, message: string): Response {
  return c.json({ message, detail: message, errinfo: {} }, status as 400);
}

export function dockerHubRateLimitHeaders(
  limit: number,
  remaining: number,
  source: string,
  windowSeconds = 21_600,
) {
  return {
    "ratelimit-limit": `${limit};w=${windowSeconds}`,
    "ratelimit-remaining": `${remaining};w=${windowSeconds}`,
    "docker-ratelimit-source": source,
  };
}
