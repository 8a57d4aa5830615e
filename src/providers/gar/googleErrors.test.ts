/**
 * Google's error answers (specification §5.2) as regkit's typed errors: the
 * gRPC-style status wins, the HTTP status decides without one, and bodies
 * that are not Google's shape still give a one-line message.
 */
import { Readable } from "node:stream";
import { describe, expect, it } from "vitest";
import {
  AuthenticationError,
  AuthorizationError,
  exitCodeFor,
  InvalidInputError,
  NotFoundError,
  ProtocolError,
  RateLimitError,
  ServerError,
} from "../../core/errors.js";
import type { HttpResponse } from "../../transport/types.js";
import { googleError, googleErrorFrom, parseGoogleError } from "./googleErrors.js";

describe("parseGoogleError", () => {
  it("returns the error object of a Google error body, and nothing for anything else", () => {
    expect(parseGoogleError('{"error":{"code":404,"message":"gone","status":"NOT_FOUND"}}')).toEqual({
      code: 404,
      message: "gone",
      status: "NOT_FOUND",
    });
    for (const text of [
      undefined,
      "",
      "not json",
      "null",
      '{"error":"denied"}',
      '{"errors":[{"code":"DENIED"}]}',
    ])
      expect(parseGoogleError(text)).toBeUndefined();
  });
});

describe("googleErrorFrom", () => {
  const op = "list repositories of projects/p/locations/l";

  it.each([
    ["RESOURCE_EXHAUSTED", 429, RateLimitError, 5],
    ["UNAUTHENTICATED", 401, AuthenticationError, 4],
    ["PERMISSION_DENIED", 403, AuthorizationError, 4],
    ["NOT_FOUND", 404, NotFoundError, 3],
    ["INVALID_ARGUMENT", 400, InvalidInputError, 2],
    ["FAILED_PRECONDITION", 400, InvalidInputError, 2],
    ["ALREADY_EXISTS", 409, InvalidInputError, 2],
    ["INTERNAL", 500, ServerError, 7],
    ["UNAVAILABLE", 503, ServerError, 7],
  ] as const)("%s (HTTP %i) is a %s", (status, http, type, exit) => {
    // By the gRPC status alone (under an HTTP status that would say otherwise) …
    const byStatus = googleErrorFrom(418, { status, message: "why" }, op);
    expect(byStatus).toBeInstanceOf(type);
    expect(byStatus.message).toBe(`${op}: ${status}: why`);
    expect(byStatus.code).toBe(status);
    expect(byStatus.status).toBe(418);
    expect(byStatus.provider).toBe("gar");
    // … and by the HTTP status alone.
    const byHttp = googleErrorFrom(http, undefined, op);
    expect(byHttp).toBeInstanceOf(type);
    expect(byHttp.message).toBe(`${op}: HTTP ${http}`);
    expect(byHttp.code).toBe(`HTTP_${http}`);
    expect(exitCodeFor(byHttp)).toBe(exit);
  });

  it("keeps the Retry-After of a quota error", () => {
    const error = googleErrorFrom(429, { status: "RESOURCE_EXHAUSTED" }, op, 3000) as RateLimitError;
    expect(error.retryAfterMs).toBe(3000);
    expect((googleErrorFrom(429, undefined, op) as RateLimitError).retryAfterMs).toBeUndefined();
  });

  it("treats 501 as a server error that is not retried, other 5xx as retryable", () => {
    expect(googleErrorFrom(501, undefined, op).retryable).toBe(false);
    expect(googleErrorFrom(502, undefined, op).retryable).toBe(true);
  });

  it("says the HTTP status when the body has a message but no status; truncates long messages", () => {
    expect(googleErrorFrom(404, { message: "Requested entity was not found." }, op).message).toBe(
      `${op}: HTTP 404: Requested entity was not found.`,
    );
    const long = googleErrorFrom(400, { status: "INVALID_ARGUMENT", message: "x".repeat(400) }, op).message;
    expect(long).toBe(`${op}: INVALID_ARGUMENT: ${"x".repeat(300)}…`);
    expect(googleErrorFrom(404, { status: "NOT_FOUND" }, op).message).toBe(`${op}: NOT_FOUND`);
  });

  it("an answer it has no rule for is a protocol error of category invalid", () => {
    const error = googleErrorFrom(418, { status: "CANCELLED" }, op);
    expect(error).toBeInstanceOf(ProtocolError);
    expect(error.category).toBe("invalid");
    expect(error.message).toBe(`${op}: CANCELLED`);
  });
});

describe("googleError", () => {
  const response = (status: number, body: string, headers: Record<string, string> = {}): HttpResponse => ({
    status,
    headers,
    body: Readable.from([Buffer.from(body)]),
    url: new URL("https://artifactregistry.googleapis.com/v1/x"),
    request: { method: "GET", url: new URL("https://artifactregistry.googleapis.com/v1/x"), headers: {} },
  });

  it("reads the body and Retry-After of an answer", async () => {
    const error = (await googleError(
      response(429, '{"error":{"code":429,"status":"RESOURCE_EXHAUSTED","message":"Quota exceeded"}}', {
        "retry-after": "12",
      }),
      "list packages",
    )) as RateLimitError;
    expect(error).toBeInstanceOf(RateLimitError);
    expect(error.message).toBe("list packages: RESOURCE_EXHAUSTED: Quota exceeded");
    expect(error.retryAfterMs).toBe(12_000);
    const html = await googleError(response(502, "<html>Bad Gateway</html>"), "list packages");
    expect(html).toBeInstanceOf(ServerError);
    expect(html.message).toBe("list packages: HTTP 502");
  });
});
