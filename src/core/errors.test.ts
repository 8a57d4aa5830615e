import { inspect } from "node:util";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  AuthenticationError,
  DigestMismatchError,
  exitCodeFor,
  isRegkitError,
  NetworkError,
  NotFoundError,
  RateLimitError,
  RegkitError,
  ServerError,
  UsageError,
} from "./errors.js";
import { errorFromResponse, parseOciErrorBody } from "./ociErrors.js";
import { SecretString } from "./secret.js";

describe("RegkitError", () => {
  it("is one line and carries code, category and retryable", () => {
    const error = new RegkitError("first\n  second", {
      code: "X",
      category: "server",
      retryable: true,
      status: 503,
    });
    expect(error.message).toBe("first second");
    expect(error).toMatchObject({
      code: "X",
      category: "server",
      retryable: true,
      status: 503,
      name: "RegkitError",
    });
    expect(isRegkitError(error)).toBe(true);
    expect(isRegkitError(new Error("x"))).toBe(false);
    expect(new DigestMismatchError("a", "b").name).toBe("DigestMismatchError");
  });

  it.each([
    [new UsageError("u"), 2],
    [new NotFoundError("n"), 3],
    [new AuthenticationError("a"), 4],
    [new RateLimitError("r"), 5],
    [new DigestMismatchError("a", "b"), 6],
    [new NetworkError("n"), 7],
    [new ServerError("s"), 7],
    [new Error("bug"), 1],
  ])("%s exits %i", (error, code) => {
    expect(exitCodeFor(error)).toBe(code);
  });
});

describe("OCI error bodies", () => {
  it("parses the envelope", () => {
    expect(
      parseOciErrorBody('{"errors":[{"code":"BLOB_UNKNOWN","message":"blob unknown","detail":{"d":1}}]}'),
    ).toEqual([{ code: "BLOB_UNKNOWN", message: "blob unknown", detail: { d: 1 } }]);
    expect(parseOciErrorBody("<html>")).toEqual([]);
    expect(parseOciErrorBody('{"errors":"nope"}')).toEqual([]);
  });

  it("maps statuses and codes to typed errors", () => {
    const notFound = errorFromResponse({
      operation: "get manifest a:b",
      status: 404,
      body: '{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"}]}',
    });
    expect(notFound).toBeInstanceOf(NotFoundError);
    expect(notFound.code).toBe("MANIFEST_UNKNOWN");
    expect(notFound.message).toBe("get manifest a:b: MANIFEST_UNKNOWN: manifest unknown");
    const limited = errorFromResponse({ operation: "pull", status: 429, retryAfterMs: 5000 });
    expect(limited).toBeInstanceOf(RateLimitError);
    expect((limited as RateLimitError).retryAfterMs).toBe(5000);
    expect(errorFromResponse({ operation: "x", status: 401 })).toBeInstanceOf(AuthenticationError);
    expect(errorFromResponse({ operation: "x", status: 503 }).retryable).toBe(true);
    expect(errorFromResponse({ operation: "x", status: 400, body: "{}" }).message).toBe("x: HTTP 400");
  });

  it("never throws on arbitrary bodies", () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.json()), fc.integer({ min: 100, max: 599 }), (body, status) => {
        expect(isRegkitError(errorFromResponse({ operation: "op", status, body }))).toBe(true);
      }),
      { numRuns: 500 },
    );
  });
});

describe("SecretString", () => {
  it("never prints its value", () => {
    const secret = new SecretString("hunter2");
    expect(`${secret}`).toBe("[REDACTED]");
    expect(String(secret)).toBe("[REDACTED]");
    expect(JSON.stringify({ secret })).toBe('{"secret":"[REDACTED]"}');
    expect(inspect(secret)).toBe("[REDACTED]");
    expect(inspect({ nested: { secret } }, { depth: 5 })).not.toContain("hunter2");
    expect(secret.reveal()).toBe("hunter2");
    expect(SecretString.from(secret)).toBe(secret);
    expect(secret.equals(new SecretString("hunter2"))).toBe(true);
  });
});
