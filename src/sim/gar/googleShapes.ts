import type { Context } from "hono";

/* How Google APIs shape their errors: `{"error":{"code","message","status"}}`. */

const GOOGLE_STATUS: Record<number, string> = {
  400: "INVALID_ARGUMENT",
  401: "UNAUTHENTICATED",
  403: "PERMISSION_DENIED",
  404: "NOT_FOUND",
  409: "ALREADY_EXISTS",
  429: "RESOURCE_EXHAUSTED",
  500: "INTERNAL",
  503: "UNAVAILABLE",
};

export function googleError(c: Context, status: number, message: string): Response {
  return c.json(
    { error: { code: status, message, status: GOOGLE_STATUS[status] ?? "UNKNOWN" } },
    status as 400,
  );
}
