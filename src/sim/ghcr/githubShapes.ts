import type { Context } from "hono";

/* How the GitHub REST API shapes its errors and rate-limit headers. */

export function githubError(c: Context, status: number, message: string): Response {
  return c.json({ message, documentation_url: "https://docs.github.com/rest" }, status as 400);
}

export function githubRateLimitHeaders(limit: number, remaining: number, resetAt: Date, resource = "core") {
  return {
    "x-ratelimit-limit": String(limit),
    "x-ratelimit-remaining": String(remaining),
    "x-ratelimit-used": String(limit - remaining),
    "x-ratelimit-reset": String(Math.floor(resetAt.getTime() / 1000)),
    "x-ratelimit-resource": resource,
  };
}
