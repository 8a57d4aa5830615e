import {
  AuthenticationError,
  AuthorizationError,
  InvalidInputError,
  NotFoundError,
  ProtocolError,
  RateLimitError,
  type RegkitError,
  ServerError,
  truncate,
} from "../../core/errors.js";
import { parseRetryAfter } from "../../registry/context.js";
import { headerValue, readErrorBody } from "../../transport/response.js";
import type { HttpResponse } from "../../transport/types.js";

/** Google's error body: `{"error":{"code","message","status","details"}}`. */
export interface GoogleErrorBody {
  code?: number;
  message?: string;
  status?: string;
}

/** The `error` object of a Google error body, when there is one. */
export function parseGoogleError(text: string | undefined): GoogleErrorBody | undefined {
  if (!text) return undefined;
  try {
    const value = JSON.parse(text) as { error?: unknown };
    const error = value?.error;
    return error && typeof error === "object" ? (error as GoogleErrorBody) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Maps a gRPC-style status (or, without one, the HTTP status) and Google's
 * message to regkit's hierarchy, per the specification's table §5.2:
 * INVALID_ARGUMENT → invalid input, UNAUTHENTICATED → authentication,
 * PERMISSION_DENIED → authorization (exit 4, Google's message names the
 * permission and the resource), NOT_FOUND, RESOURCE_EXHAUSTED → quota
 * (exit 5), INTERNAL/UNAVAILABLE → server errors, retryable.
 */
export function googleErrorFrom(
  httpStatus: number,
  body: GoogleErrorBody | undefined,
  operation: string,
  retryAfterMs?: number,
): RegkitError {
  const status = body?.status ?? "";
  const text = body?.message
    ? `${status || `HTTP ${httpStatus}`}: ${truncate(body.message, 300)}`
    : status || `HTTP ${httpStatus}`;
  const message = `${operation}: ${text}`;
  const options = { provider: "gar", status: httpStatus, code: status || `HTTP_${httpStatus}` };
  if (status === "RESOURCE_EXHAUSTED" || httpStatus === 429)
    return new RateLimitError(message, {
      ...options,
      ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
    });
  if (status === "UNAUTHENTICATED" || httpStatus === 401) return new AuthenticationError(message, options);
  if (status === "PERMISSION_DENIED" || httpStatus === 403) return new AuthorizationError(message, options);
  if (status === "NOT_FOUND" || httpStatus === 404) return new NotFoundError(message, options);
  if (
    status === "INVALID_ARGUMENT" ||
    status === "FAILED_PRECONDITION" ||
    status === "ALREADY_EXISTS" ||
    httpStatus === 400 ||
    httpStatus === 409
  )
    return new InvalidInputError(message, options);
  if (httpStatus >= 500 || status === "INTERNAL" || status === "UNAVAILABLE")
    return new ServerError(message, { ...options, retryable: httpStatus !== 501 });
  return new ProtocolError(message, { ...options, category: "invalid" });
}

export async function googleError(response: HttpResponse, operation: string): Promise<RegkitError> {
  const body = parseGoogleError(await readErrorBody(response));
  return googleErrorFrom(
    response.status,
    body,
    operation,
    parseRetryAfter(headerValue(response, "retry-after")),
  );
}
