import type { RegkitError } from "../../core/errors.js";
import { errorFromResponse } from "../../core/ociErrors.js";
import { parseRetryAfter } from "../../registry/context.js";
import { headerValue, readErrorBody } from "../../transport/response.js";
import type { HttpResponse } from "../../transport/types.js";

/** A JSON object, or undefined for anything else (not JSON, an array, a string). */
export function parseObject(text: string): Record<string, unknown> | undefined {
  try {
    const value = JSON.parse(text) as unknown;
    return value && typeof value === "object" && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

/** What Docker Hub said went wrong: `detail`, `message` or (validation errors) `text`. */
export function hubMessage(body: Record<string, unknown> | undefined): string | undefined {
  return [body?.detail, body?.message, body?.text].find(
    (v): v is string => typeof v === "string" && v !== "",
  );
}

/** A failed Hub API answer whose body was already read, as a typed error. */
export function hubErrorFromBody(
  status: number,
  body: Record<string, unknown> | undefined,
  operation: string,
  retryAfterMs?: number,
): RegkitError {
  const message = hubMessage(body);
  return errorFromResponse({
    operation: `${operation} on Docker Hub`,
    status,
    ...(message ? { message } : {}),
    provider: "dockerhub",
    // A 401 of the Hub API is fixed by credentials for docker.io, which `regkit login docker.io` stores.
    registry: "docker.io",
    ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
  });
}

/** A failed Hub API answer as a typed error, with Docker Hub's reason. */
export async function hubError(response: HttpResponse, operation: string): Promise<RegkitError> {
  const text = await readErrorBody(response);
  const retryAfterMs = parseRetryAfter(headerValue(response, "retry-after"));
  return hubErrorFromBody(response.status, text ? parseObject(text) : undefined, operation, retryAfterMs);
}
