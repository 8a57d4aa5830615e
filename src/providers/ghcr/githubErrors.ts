import {
  AuthenticationError,
  AuthorizationError,
  isRegkitError,
  NotFoundError,
  ProtocolError,
  RateLimitError,
  type RegkitError,
  ServerError,
  truncate,
} from "../../core/errors.js";
import { errorFromResponse } from "../../core/ociErrors.js";

/** What octokit throws (`RequestError`), as far as regkit reads it. */
interface OctokitFailure {
  status?: number;
  cause?: unknown;
  response?: { headers?: Record<string, string | number | undefined>; data?: unknown };
}

const scopeList = (value: string | number | undefined) =>
  String(value ?? "")
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);

/**
 * A failed Packages API call as a typed error with GitHub's reason. A 403
 * that comes with `X-Accepted-OAuth-Scopes` names the scopes the token
 * lacks; the token itself never appears (octokit redacts it from the
 * request it keeps, and regkit's message is built from the answer only).
 */
export function githubError(error: unknown, operation: string): RegkitError {
  if (isRegkitError(error)) return error;
  const failure = error as OctokitFailure;
  // A transport failure (network, circuit open, replay mismatch) arrives wrapped: unwrap it.
  if (isRegkitError(failure.cause)) return failure.cause;
  const status = failure.status;
  if (status === undefined || status === 500 || !failure.response) {
    if (status !== undefined && status >= 500)
      return new ServerError(`${operation} on GitHub: HTTP ${status}`, { status, provider: "ghcr" });
    return new ProtocolError(
      `${operation} on GitHub: ${truncate((error as Error).message ?? String(error))}`,
      {
        provider: "ghcr",
      },
    );
  }
  const headers = failure.response.headers ?? {};
  const data = failure.response.data;
  const said =
    data && typeof data === "object" && typeof (data as { message?: unknown }).message === "string"
      ? truncate((data as { message: string }).message, 200)
      : undefined;
  const message = said ?? `HTTP ${status}`;
  const context = { provider: "ghcr" as const, status };
  const reset = Number(headers["x-ratelimit-reset"]);
  const resetAt = Number.isFinite(reset) && reset > 0 ? new Date(reset * 1000) : undefined;
  if (status === 429 || (status === 403 && String(headers["x-ratelimit-remaining"]) === "0")) {
    const retryAfter = Number(headers["retry-after"]);
    const retryAfterMs = Number.isFinite(retryAfter)
      ? retryAfter * 1000
      : resetAt
        ? Math.max(0, resetAt.getTime() - Date.now())
        : undefined;
    return new RateLimitError(
      `${operation} on GitHub: ${message}${resetAt ? ` (resets at ${resetAt.toISOString()})` : ""}`,
      {
        ...context,
        ...(resetAt ? { resetAt } : {}),
        ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
      },
    );
  }
  if (status === 401)
    return new AuthenticationError(
      `${operation} on GitHub: the token was refused (${message}); check GITHUB_TOKEN or regkit login ghcr.io`,
      context,
    );
  if (status === 403) {
    const accepted = scopeList(headers["x-accepted-oauth-scopes"]);
    const held = new Set(scopeList(headers["x-oauth-scopes"]));
    const missing = accepted.filter((s) => !held.has(s));
    const scopes = missing.length > 0 ? ` (the token lacks the ${missing.join(", ")} scope)` : "";
    return new AuthorizationError(`${operation} on GitHub: ${message}${scopes}`, context);
  }
  if (status === 404) return new NotFoundError(`${operation} on GitHub: ${message}`, context);
  // Without GitHub's words the status alone is the message ("HTTP 503", not "HTTP 503: HTTP 503").
  return errorFromResponse({
    operation: `${operation} on GitHub`,
    status,
    ...(said !== undefined ? { message: said } : {}),
    provider: "ghcr",
  });
}
